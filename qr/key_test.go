package qr_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/qr"
)

func TestParseKey(t *testing.T) {
	k := mustKey(t, vectorKey)
	require.Equal(t, vectorKey, k.Hex())
	require.Equal(t, vectorKey, mustKey(t, strings.ToLower(vectorKey)).Hex())
	require.False(t, k.IsZero())
	require.True(t, qr.Key{}.IsZero())

	for _, bad := range []string{
		"",
		vectorKey[:31],
		vectorKey + "0",
		"G1A618ED8685B1A3B81E6CB6884617F4",
		" F1A618ED8685B1A3B81E6CB6884617F",
		"F1A618ED-685B1A3B81E6CB6884617F4",
	} {
		_, err := qr.ParseKey(bad)
		require.Error(t, err, "%q", bad)
		require.Equal(t, posagent.KindInvalid, posagent.ErrorKind(err))
		require.Equal(t, "key", posagent.ErrorField(err))
		if len(bad) > 4 {
			require.NotContains(t, err.Error(), bad[:8], "the error repeats the key")
		}
	}
}

// A key reaches no log, error or JSON by accident.
func TestKeyRedacted(t *testing.T) {
	k := mustKey(t, vectorKey)
	secretForms := []string{vectorKey, strings.ToLower(vectorKey), "241 166 24", "f1 a6 18", "[241", "0xf1"}
	check := func(what, out string) {
		t.Helper()
		require.Contains(t, out, "redacted", what)
		for _, s := range secretForms {
			require.NotContains(t, strings.ToLower(out), strings.ToLower(s), "%s leaks the key: %s", what, out)
		}
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%q", "%d", "% x", "%08b"} {
		check(verb, fmt.Sprintf(verb, k))
		check(verb+" pointer", fmt.Sprintf(verb, &k))
	}
	check("Sprint", fmt.Sprint(k))
	check("Sprintln", fmt.Sprintln("key", k))
	check("String", k.String())

	type config struct {
		Key  qr.Key
		Name string
	}
	check("struct %+v", fmt.Sprintf("%+v", config{Key: k, Name: "shop"}))
	check("struct %#v", fmt.Sprintf("%#v", config{Key: k}))
	b, err := json.Marshal(config{Key: k})
	require.NoError(t, err)
	check("json", string(b))

	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("configured", "key", k, "cfg", config{Key: k})
	slog.New(slog.NewTextHandler(&buf, nil)).Info("configured", "key", k)
	check("slog", buf.String())
}

func TestKeyUnmarshalText(t *testing.T) {
	var cfg struct{ Key qr.Key }
	require.NoError(t, json.Unmarshal([]byte(`{"Key":"`+vectorKey+`"}`), &cfg))
	require.Equal(t, vectorKey, cfg.Key.Hex())
	err := json.Unmarshal([]byte(`{"Key":"F1A6"}`), &cfg)
	require.Error(t, err)
	require.NotContains(t, err.Error(), "F1A6")
}

func TestVerificationRejectsBadInput(t *testing.T) {
	k := mustKey(t, vectorKey)
	_, err := k.Verification("pl49821416", "5871")
	require.Equal(t, "number", posagent.ErrorField(err))
	_, err = k.Verification("PL49821416", "587")
	require.Equal(t, "random_code", posagent.ErrorField(err))
}

func TestVerificationShape(t *testing.T) {
	// Always 24 characters ending ==, whatever the key.
	for _, seed := range []string{"a", "24634102", "long seed password 1234567890"} {
		v, err := qr.DeriveKey(seed).Verification("AB00000000", "0000")
		require.NoError(t, err)
		require.Len(t, v, qr.VerificationLen)
		require.True(t, strings.HasSuffix(v, "=="))
	}
}
