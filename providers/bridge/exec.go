package bridge

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/posagent/posagent"
)

// Exit codes of an exec program (README "Bridge contract"). Where a sysexits
// code fits it is used; "already there" has none, so it is 10.
const (
	ExitDone        = 0
	ExitDuplicate   = 10 // the receiver already holds the document: adopted as done
	ExitUnsupported = 11 // the program does not implement this kind (the optional status call)
	ExitUsage       = 64 // EX_USAGE: the program's arguments are wrong (configuration)
	ExitRefused     = 65 // EX_DATAERR: the document is refused for good (message kept)
	ExitUnavailable = 69 // EX_UNAVAILABLE: the service is unreachable (temporary)
	ExitSoftware    = 70 // EX_SOFTWARE: the program failed (retried with backoff)
	ExitIOErr       = 74 // EX_IOERR: temporary
	ExitTempFail    = 75 // EX_TEMPFAIL: temporary; retry_after in the answer, if known
	ExitNoPerm      = 77 // EX_NOPERM: credentials refused (auth: paused until fixed)
	ExitConfig      = 78 // EX_CONFIG: the program's set-up is wrong (configuration)
)

// maxStderr is how much standard error is read before the rest is dropped;
// MaxMessage of it is kept after secrets are replaced.
const maxStderr = 64 << 10

// passEnv are the variables a program inherits from the agent; everything
// else (the agent's own secrets among them) stays behind.
var passEnv = []string{"PATH", "HOME", "USER", "LANG", "LC_ALL", "TZ", "TMPDIR",
	"SystemRoot", "SYSTEMROOT", "windir", "TEMP", "TMP", "PATHEXT", "ComSpec", "USERPROFILE"}

// killGrace bounds the wait for the pipes after the program is killed or has
// exited leaving a child that holds them.
const killGrace = 2 * time.Second

type execTransport struct {
	argv    []string
	timeout time.Duration
	secrets []string
}

func newExec(cfg Config, secrets []string) (*execTransport, error) {
	if len(cfg.Command) == 0 || cfg.Command[0] == "" {
		return nil, posagent.Errorf(posagent.KindConfig, "bridge: Command is required for the exec transport: the program and its arguments")
	}
	if !filepath.IsAbs(cfg.Command[0]) {
		// A relative name would be looked up in PATH at every run: the program
		// that receives invoices is named exactly.
		return nil, posagent.Errorf(posagent.KindConfig, "bridge: Command[0] %q must be an absolute path", cfg.Command[0])
	}
	return &execTransport{argv: append([]string(nil), cfg.Command...), timeout: cfg.Timeout, secrets: secrets}, nil
}

func (t *execTransport) describe() string { return t.argv[0] }

// limitedBuffer keeps the first max bytes written and counts the rest.
type limitedBuffer struct {
	buf     bytes.Buffer
	max     int
	dropped int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	room := b.max - b.buf.Len()
	if room >= len(p) {
		return b.buf.Write(p)
	}
	if room > 0 {
		b.buf.Write(p[:room])
	}
	b.dropped += len(p) - max(room, 0)
	return len(p), nil
}

func (t *execTransport) send(ctx context.Context, kind Kind, key string, body []byte) (Answer, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, t.argv[0], t.argv[1:]...)
	cmd.Stdin = bytes.NewReader(body)
	stdout := &limitedBuffer{max: MaxAnswer}
	stderr := &limitedBuffer{max: maxStderr}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.Env = []string{"POSAGENT_BRIDGE_KIND=" + string(kind), "POSAGENT_BRIDGE_KEY=" + key}
	for _, name := range passEnv {
		if v, ok := os.LookupEnv(name); ok {
			cmd.Env = append(cmd.Env, name+"="+v)
		}
	}
	killGroup(cmd)
	cmd.WaitDelay = killGrace
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start)
	errText := cleanText(stderr.buf.String(), t.secrets)
	if stderr.dropped > 0 {
		errText += fmt.Sprintf(" … (%d bytes of standard error dropped)", stderr.dropped)
	}
	detail := func() string {
		if errText == "" {
			return ""
		}
		return "; stderr: " + errText
	}
	if ctx.Err() != nil {
		// Killed (with its process group) at the time limit, or the agent is
		// stopping: it may have done the work, the key makes the retry safe.
		return Answer{}, false, fail(posagent.KindTransient, kind, "%s was killed after %s (time limit %s)%s",
			filepath.Base(t.argv[0]), took.Round(time.Millisecond), t.timeout, detail())
	}
	code := 0
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr):
		code = exitErr.ExitCode()
	case errors.Is(err, exec.ErrWaitDelay):
		// It exited 0 but left a process holding its output open.
		code = cmd.ProcessState.ExitCode()
	default:
		// Not found, not executable: the set-up is wrong.
		return Answer{}, false, fail(posagent.KindConfig, kind, "cannot run %s: %s", t.argv[0], cleanText(err.Error(), t.secrets))
	}
	if stdout.dropped > 0 && (code == ExitDone || code == ExitDuplicate) {
		return Answer{}, false, fail(posagent.KindTransient, kind, "exit %d with an answer longer than %d bytes", code, MaxAnswer)
	}
	ans, derr := DecodeAnswer(stdout.buf.Bytes())
	msg := cleanText(ans.Message, t.secrets)
	if derr != nil {
		msg = ""
	}
	if msg != "" {
		detail = func() string {
			if errText == "" {
				return ": " + msg
			}
			return ": " + msg + "; stderr: " + errText
		}
	}
	switch code {
	case ExitDone, ExitDuplicate:
		if derr != nil {
			return Answer{}, false, fail(posagent.KindTransient, kind, "exit %d with a garbled answer: %v", code, derr)
		}
		ans.Message = msg
		return ans, code == ExitDuplicate, nil
	case ExitRefused:
		return Answer{}, false, fail(posagent.KindInvalid, kind, "refused (exit 65)%s", detail())
	case ExitNoPerm:
		return Answer{}, false, fail(posagent.KindAuth, kind, "the credentials were refused (exit 77)%s; check provider.bridge.credentials, then posagent reload", detail())
	case ExitUnsupported:
		if kind == KindStatus {
			return Answer{}, false, unsupported(fmt.Sprintf("the program does not implement the status call (exit %d)%s", code, detail()))
		}
		return Answer{}, false, fail(posagent.KindConfig, kind, "the program does not implement %s (exit 11)%s", kind, detail())
	case ExitUsage, ExitConfig, 126, 127:
		if kind == KindStatus && code == ExitUsage {
			// A program written before the status call most likely
			// refuses an unknown kind as a usage error.
			return Answer{}, false, unsupported(fmt.Sprintf("the program does not implement the status call (exit 64)%s", detail()))
		}
		return Answer{}, false, fail(posagent.KindConfig, kind, "the program reports a set-up problem (exit %d)%s", code, detail())
	case ExitTempFail:
		if derr == nil && ans.RetryAfter > 0 {
			wait := min(max(time.Duration(ans.RetryAfter)*time.Second, minRetryAfter), maxRetryAfter)
			return Answer{}, false, &posagent.Error{Kind: posagent.KindRateLimited, RetryAfter: wait,
				Message: fmt.Sprintf("bridge %s: the program asked to wait %s (exit 75)%s", kind, wait, detail())}
		}
		return Answer{}, false, fail(posagent.KindTransient, kind, "temporary failure (exit 75)%s", detail())
	case ExitUnavailable, ExitIOErr:
		return Answer{}, false, fail(posagent.KindTransient, kind, "temporary failure (exit %d)%s", code, detail())
	case -1:
		return Answer{}, false, fail(posagent.KindTransient, kind, "%s ended by a signal (%s)%s", filepath.Base(t.argv[0]),
			cmd.ProcessState.String(), detail())
	}
	// EX_SOFTWARE and codes outside the contract: a fault in the program.
	// Retried with backoff (not holding the other documents back), and dead
	// after sync.max_attempts if that is set.
	return Answer{}, false, fail(posagent.KindInternal, kind, "the program failed (exit %d)%s", code, detail())
}
