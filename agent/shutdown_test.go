package agent

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/posagent/posagent"
)

// slowPrinter takes its time, so that a sale is in hand when the agent is told to stop.
type slowPrinter struct {
	started chan struct{}
	delay   time.Duration
}

func (p *slowPrinter) Print(ctx context.Context, job []byte) PrintOutcome {
	close(p.started)
	time.Sleep(p.delay)
	return PrintOutcome{Printed: true}
}

func (p *slowPrinter) Status(ctx context.Context) PrinterStatus { return PrinterStatus{Ready: true} }

// SIGTERM with a sale in hand: the sale is answered, provider calls in flight
// finish, nothing is claimed afterwards, and the store is closed.
func TestGracefulShutdown(t *testing.T) {
	c := taipeiClock()
	pr := &slowPrinter{started: make(chan struct{}), delay: 300 * time.Millisecond}
	var h *harness
	h = newHarness(t, c.Now, func(o *Options) { o.Printer = pr; o.ShutdownGrace = 2 * time.Second })
	var calls, inCall atomic.Int32
	h.provider.fn = func(call) error {
		calls.Add(1)
		inCall.Add(1)
		time.Sleep(200 * time.Millisecond)
		inCall.Add(-1)
		return nil
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- h.agent.Serve(ctx, ln) }()

	answer := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest("POST", "http://"+ln.Addr().String()+"/v1/sales", strings.NewReader(saleJSON("in-hand", 55)))
		req.Header.Set("Authorization", "Bearer "+testToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			answer <- -1
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		answer <- resp.StatusCode
	}()
	<-pr.started // the sale is issued and printing
	cancel()
	require.Equal(t, http.StatusCreated, <-answer, "the sale in hand was not answered")
	require.NoError(t, <-served)
	require.Zero(t, inCall.Load(), "Serve returned with a provider call in flight")
	require.True(t, h.store.closed)
	_, err = h.store.Invoice(context.Background(), posagent.InvoiceNumber("AB12345600"))
	require.Error(t, err, "the store is closed")
}
