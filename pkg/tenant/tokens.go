package tenant

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"sort"

	"github.com/picoclaw-manager/picoclaw-manager/pkg/picoclaw"
	"github.com/picoclaw-manager/picoclaw-manager/pkg/store"
)

// tokenClaims returns the keyed hashes of the tokens that identify a bot in
// each channel of sections: the channel's required secret fields, such as
// telegram's token. A chat platform lets one bot token serve one
// connection: Telegram rejects a second poller with 409 Conflict.
func (s *Service) tokenClaims(sections picoclaw.Sections) []store.TokenClaim {
	var claims []store.TokenClaim
	names := make([]string, 0, len(sections.Channels))
	for name := range sections.Channels {
		names = append(names, name)
	}
	sort.Strings(names)

	for _, name := range names {
		fields := object(sections.Channels[name])
		for _, field := range picoclaw.Channels[name].Required {
			token, ok := fields[field].(string)
			if !ok || token == "" || picoclaw.Channels[name].Fields[field] != picoclaw.KindSecret {
				continue
			}
			mac := hmac.New(sha256.New, s.TokenKey)
			mac.Write([]byte(name + "\x00" + token))
			claims = append(claims, store.TokenClaim{Hash: mac.Sum(nil), Channel: name})
		}
	}
	return claims
}

// claimTokens records sections' tokens as tenant id's. A token of another
// tenant is a *ConflictError naming the channel, never the other tenant.
func (s *Service) claimTokens(ctx context.Context, operation, id string, sections picoclaw.Sections) error {
	err := s.Store.ClaimTokens(ctx, id, s.tokenClaims(sections))
	var inUse *store.TokenInUseError
	if errors.As(err, &inUse) {
		field := "channels"
		if inUse.Channel != "" {
			field = "channels." + inUse.Channel
		}
		return &ConflictError{Reason: fmt.Sprintf("%s: the token is already used by another tenant; a bot token can serve one tenant only", field)}
	}
	if err != nil {
		return &StepError{Operation: operation, Tenant: id, Step: "claim channel tokens", Err: err}
	}
	return nil
}
