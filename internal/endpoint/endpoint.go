// Package endpoint holds the one rule every provider client and the config
// apply to a service's address: https, or plain http only on the loopback,
// where a stand-in runs. A key or a signed body never crosses a network in
// the clear.
package endpoint

import (
	"net"
	"net/url"
)

// Allowed reports whether u may carry credentials: an https URL, or an http
// one whose host is the loopback (localhost, 127.0.0.0/8, ::1).
func Allowed(u *url.URL) bool {
	return u.Scheme == "https" || (u.Scheme == "http" && IsLoopback(u.Hostname()))
}

// IsLoopback reports whether host (a name or an IP, without a port) is this machine.
func IsLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
