package config

import (
	"encoding/json"
	"fmt"
)

// Secret holds a key, password or token read from the configuration. Every way
// of turning it into text for a person (String, fmt verbs, JSON, text
// marshalling) gives "[redacted]"; only Reveal gives the value, so a secret
// reaching a log line or an API answer takes a deliberate call.
type Secret string

const redacted = "[redacted]"

// Reveal returns the secret's value. Call it only where the value is used.
func (s Secret) Reveal() string { return string(s) }

// IsZero reports whether no secret is set.
func (s Secret) IsZero() bool { return s == "" }

func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString keeps %#v from printing the value.
func (s Secret) GoString() string { return `config.Secret("` + s.String() + `")` }

// Format makes every fmt verb (%s, %v, %q, %x, %d …) print the redacted form.
func (s Secret) Format(f fmt.State, verb rune) {
	switch verb {
	case 'q':
		fmt.Fprintf(f, "%q", s.String())
	default:
		fmt.Fprint(f, s.String())
	}
}

// MarshalJSON writes the redacted form.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// MarshalText writes the redacted form, so that TOML or YAML encoders and
// slog's text handler never see the value.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads the value as written in the file.
func (s *Secret) UnmarshalText(b []byte) error {
	*s = Secret(b)
	return nil
}
