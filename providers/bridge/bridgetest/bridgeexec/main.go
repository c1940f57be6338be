// Command bridgeexec is the reference program of the bridge's exec transport,
// a tiny relay: it reads one document on standard input, posts it signed to a
// receiver (the reference receiver in tests and the demo, or any receiver of
// the contract), prints the receiver's answer on standard output and exits
// with the contract's code. A POS vendor's relay or SDK wrapper does the same
// with its own service behind it.
//
//	bridgeexec -url URL [-secret-credential NAME] [-timeout 10s]
//
// The signing secret is the document's credential NAME (default
// relay_secret), so that it reaches the program the way a Wixtar shop's PID
// and RID do: through [provider.bridge.credentials], never on the command line.
//
// Test behaviours: -hang starts a child and both sleep (the time-limit test
// checks that the child dies too; -pidfile receives the child's pid), -leak
// writes every credential to standard error and exits 75.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/posagent/posagent/providers/bridge"
)

func main() { os.Exit(run()) }

func run() int {
	url := flag.String("url", "", "the receiver's base URL")
	secretName := flag.String("secret-credential", "relay_secret", "the credential that holds the signing secret")
	timeout := flag.Duration("timeout", 10*time.Second, "HTTP timeout")
	hang := flag.Bool("hang", false, "start a child, then both sleep (tests)")
	pidfile := flag.String("pidfile", "", "with -hang: write the child's pid here")
	sleep := flag.Bool("sleep", false, "sleep for an hour (the -hang child)")
	leak := flag.Bool("leak", false, "print every credential to standard error and exit 75 (tests)")
	exit := flag.Int("exit", -1, "answer without a receiver: print -answer, write -stderr, exit with this code (tests)")
	answerText := flag.String("answer", "", "with -exit: standard output")
	stderrText := flag.String("stderr", "", "with -exit: standard error")
	flood := flag.Int("flood", 0, "with -exit: write this many more bytes to standard output and error (tests)")
	flag.Parse()
	if *sleep {
		time.Sleep(time.Hour)
		return 0
	}
	body, err := io.ReadAll(io.LimitReader(os.Stdin, 1<<20))
	if err != nil {
		fmt.Fprintln(os.Stderr, "read standard input:", err)
		return bridge.ExitIOErr
	}
	var doc bridge.Document
	if err := json.Unmarshal(body, &doc); err != nil {
		fmt.Fprintln(os.Stderr, "standard input is not a bridge document:", err)
		return bridge.ExitRefused
	}
	if *exit >= 0 {
		fmt.Fprint(os.Stdout, *answerText)
		fmt.Fprint(os.Stderr, *stderrText)
		if *flood > 0 {
			junk := bytes.Repeat([]byte("x"), *flood)
			os.Stdout.Write(junk)
			os.Stderr.Write(junk)
		}
		return *exit
	}
	if *hang {
		self, _ := os.Executable()
		child := exec.Command(self, "-sleep")
		if err := child.Start(); err != nil {
			fmt.Fprintln(os.Stderr, "start the child:", err)
			return bridge.ExitSoftware
		}
		if *pidfile != "" {
			_ = os.WriteFile(*pidfile, []byte(strconv.Itoa(child.Process.Pid)), 0o600)
		}
		fmt.Fprintln(os.Stderr, "hanging")
		time.Sleep(time.Hour)
	}
	if *leak {
		for name, v := range doc.Credentials {
			fmt.Fprintf(os.Stderr, "debug: credential %s=%s\n", name, v)
		}
		fmt.Fprintln(os.Stderr, "the relay is busy")
		return bridge.ExitTempFail
	}
	if *url == "" {
		fmt.Fprintln(os.Stderr, "-url is required")
		return bridge.ExitUsage
	}
	secret := doc.Credentials[*secretName]
	if secret == "" {
		fmt.Fprintf(os.Stderr, "the document has no credential %q to sign with\n", *secretName)
		return bridge.ExitConfig
	}
	if kind := os.Getenv("POSAGENT_BRIDGE_KIND"); kind != string(doc.Kind) {
		fmt.Fprintf(os.Stderr, "POSAGENT_BRIDGE_KIND %q is not the document's kind %q\n", kind, doc.Kind)
		return bridge.ExitRefused
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(*url, "/")+"/"+string(doc.Kind), bytes.NewReader(body))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return bridge.ExitUsage
	}
	ts := time.Now().Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(bridge.HeaderKey, doc.Key)
	req.Header.Set(bridge.HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(bridge.HeaderSignature, bridge.Sign([]byte(secret), ts, body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintln(os.Stderr, "no answer from the receiver:", err)
		return bridge.ExitTempFail
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, bridge.MaxAnswer+1))
	if err != nil {
		fmt.Fprintln(os.Stderr, "the answer broke off:", err)
		return bridge.ExitTempFail
	}
	st := resp.StatusCode
	if st/100 == 2 || st == http.StatusConflict {
		if _, err := bridge.DecodeAnswer(answer); err != nil {
			fmt.Fprintln(os.Stderr, "garbled answer:", err)
			return bridge.ExitTempFail
		}
		os.Stdout.Write(answer)
		if st == http.StatusConflict {
			return bridge.ExitDuplicate
		}
		return bridge.ExitDone
	}
	fmt.Fprintf(os.Stderr, "receiver answered HTTP %d: %s\n", st, bytes.TrimSpace(answer[:min(len(answer), 500)]))
	switch {
	case st == http.StatusUnprocessableEntity || st == http.StatusBadRequest:
		os.Stdout.Write(answer)
		return bridge.ExitRefused
	case st == http.StatusUnauthorized || st == http.StatusForbidden:
		return bridge.ExitNoPerm
	case st == http.StatusTooManyRequests || (st == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") != ""):
		n, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		json.NewEncoder(os.Stdout).Encode(bridge.Answer{RetryAfter: max(n, 1)})
		return bridge.ExitTempFail
	case st == http.StatusNotImplemented || (st == http.StatusNotFound && doc.Kind == bridge.KindStatus):
		return bridge.ExitUnsupported
	case st == http.StatusTooEarly || st/100 == 5:
		return bridge.ExitTempFail
	}
	return bridge.ExitConfig
}
