// Package picoclaw builds PicoClaw's config.json and describes its layout:
// the channels and their fields, the provider fields, and which values are
// secret.
//
// The layout is PicoClaw's classic config.json (agents.defaults, providers.<name>,
// channels.<name>, gateway, heartbeat, tools), which newer PicoClaw versions
// migrate on load.
package picoclaw

import "sort"

// FieldKind is the JSON type a config field accepts.
type FieldKind int

const (
	KindBool FieldKind = iota
	KindString
	// KindSecret is a string that is write-only: never stored outside the
	// cluster, never logged, and redacted in responses.
	KindSecret
	// KindInt is a whole number.
	KindInt
	// KindIDList is a list of user or chat ids, each a string or a number.
	KindIDList
)

// String returns the kind as an API error message names it.
func (k FieldKind) String() string {
	switch k {
	case KindBool:
		return "a boolean"
	case KindString, KindSecret:
		return "a string"
	case KindInt:
		return "an integer"
	case KindIDList:
		return "a list of strings or numbers"
	}
	return "unknown"
}

// Channel describes one chat platform PicoClaw can serve.
type Channel struct {
	Fields map[string]FieldKind
	// Required lists the fields an enabled channel must set.
	Required []string
}

// common fields every channel accepts.
var common = map[string]FieldKind{"enabled": KindBool, "allow_from": KindIDList}

func channel(required []string, fields map[string]FieldKind) Channel {
	for name, kind := range common {
		fields[name] = kind
	}
	return Channel{Fields: fields, Required: required}
}

// Channels is the catalogue of chat platforms and their config.json fields.
var Channels = map[string]Channel{
	"telegram": channel([]string{"token"}, map[string]FieldKind{
		"token": KindSecret, "proxy": KindString,
	}),
	"discord": channel([]string{"token"}, map[string]FieldKind{
		"token": KindSecret,
	}),
	"slack": channel([]string{"bot_token", "app_token"}, map[string]FieldKind{
		"bot_token": KindSecret, "app_token": KindSecret,
	}),
	"feishu": channel([]string{"app_id", "app_secret"}, map[string]FieldKind{
		"app_id": KindString, "app_secret": KindSecret,
		"encrypt_key": KindSecret, "verification_token": KindSecret,
	}),
	"dingtalk": channel([]string{"client_id", "client_secret"}, map[string]FieldKind{
		"client_id": KindString, "client_secret": KindSecret,
	}),
	"line": channel([]string{"channel_secret", "channel_access_token"}, map[string]FieldKind{
		"channel_secret": KindSecret, "channel_access_token": KindSecret,
		"webhook_host": KindString, "webhook_port": KindInt, "webhook_path": KindString,
	}),
	"whatsapp": channel([]string{"bridge_url"}, map[string]FieldKind{
		"bridge_url": KindString,
	}),
	"qq": channel([]string{"app_id", "app_secret"}, map[string]FieldKind{
		"app_id": KindString, "app_secret": KindSecret,
	}),
}

// ChannelNames returns the names of the known channels, sorted.
func ChannelNames() []string {
	names := make([]string, 0, len(Channels))
	for name := range Channels {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// ProviderFields are the fields of providers.<name> in config.json.
var ProviderFields = map[string]FieldKind{
	"api_key":  KindSecret,
	"api_base": KindString,
	"proxy":    KindString,
}
