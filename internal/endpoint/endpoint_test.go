package endpoint

import (
	"net/url"
	"testing"
)

func TestAllowed(t *testing.T) {
	for raw, want := range map[string]bool{
		"https://einvoice.ecpay.com.tw": true,
		"https://10.0.0.5:8443/x":       true,
		"http://127.0.0.1:8080":         true,
		"http://127.8.9.1":              true,
		"http://localhost:9000":         true,
		"http://[::1]:9000":             true,
		"http://10.0.0.5":               false,
		"http://localhost.example.com":  false,
		"ftp://127.0.0.1":               false,
		"//127.0.0.1:8080":              false, // no scheme
	} {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		if got := Allowed(u); got != want {
			t.Errorf("Allowed(%q) = %v, want %v", raw, got, want)
		}
	}
}
