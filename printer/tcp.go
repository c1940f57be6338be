package printer

import (
	"fmt"
	"net"
	"time"
)

// tcpDialTimeout bounds connecting to a network printer; one that does not
// accept within it is as good as gone for this job.
const tcpDialTimeout = 3 * time.Second

func newTCPDevice(cfg DeviceConfig, hostport string) (Device, error) {
	if hostport == "" {
		return nil, fmt.Errorf("printer address: tcp:// needs a host")
	}
	if _, _, err := net.SplitHostPort(hostport); err != nil {
		hostport = net.JoinHostPort(hostport, "9100")
	}
	stall := cfg.StallTimeout
	open := func() (transport, error) {
		conn, err := net.DialTimeout("tcp", hostport, tcpDialTimeout)
		if err != nil {
			return nil, err
		}
		return &tcpTransport{conn: conn, stall: stall}, nil
	}
	return newPort(cfg, "tcp://"+hostport, false, open), nil
}

// tcpTransport is a raw port-9100 connection. TCP's own window paces the
// writes; a printer that stops reading for longer than the stall timeout
// fails the write.
type tcpTransport struct {
	conn  net.Conn
	stall time.Duration
}

func (t *tcpTransport) Read(b []byte) (int, error) { return t.conn.Read(b) }

func (t *tcpTransport) Write(b []byte) (int, error) {
	if err := t.conn.SetWriteDeadline(time.Now().Add(t.stall)); err != nil {
		return 0, err
	}
	return t.conn.Write(b)
}

func (t *tcpTransport) Drain() error { return nil }
func (t *tcpTransport) Close() error { return t.conn.Close() }
