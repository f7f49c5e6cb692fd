package tenant

import (
	"reflect"
	"testing"
)

func TestMergePatch(t *testing.T) {
	tests := []struct {
		name          string
		target, patch string
		want          string
	}{
		{"replace scalar", `{"a": "b"}`, `{"a": "c"}`, `{"a": "c"}`},
		{"add key", `{"a": "b"}`, `{"b": "c"}`, `{"a": "b", "b": "c"}`},
		{"null removes", `{"a": "b", "b": "c"}`, `{"a": null}`, `{"b": "c"}`},
		{"nested merge", `{"a": {"b": "c", "d": "e"}}`, `{"a": {"d": "f"}}`, `{"a": {"b": "c", "d": "f"}}`},
		{"list replaces", `{"a": [1, 2]}`, `{"a": [3]}`, `{"a": [3]}`},
		{"object over scalar", `{"a": "b"}`, `{"a": {"c": "d"}}`, `{"a": {"c": "d"}}`},
		{"nested null", `{"a": {"b": "c"}}`, `{"a": {"b": null}}`, `{"a": {}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target := decode(t, tt.target)
			got := mergePatch(target, decode(t, tt.patch))
			if want := decode(t, tt.want); !reflect.DeepEqual(got, want) {
				t.Errorf("mergePatch = %v, want %v", got, want)
			}
			if !reflect.DeepEqual(target, decode(t, tt.target)) {
				t.Errorf("mergePatch changed its target to %v", target)
			}
		})
	}
}
