package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/posagent/posagent/config"
)

// The operator commands (status, sell, void, allow, reprint, jobs, booklets,
// demo) talk to the running agent over its local API. They find it through
// --addr/--token, then POSAGENT_ADDR/POSAGENT_TOKEN, then the config file.

// defaultConfigPaths are tried in order when neither --config nor
// POSAGENT_CONFIG names a file: the working directory, the demo's folder
// (make run writes var/posagent.toml), the system-wide place
// (/etc/posagent/posagent.toml; on Windows %ProgramData%\posagent\posagent.toml,
// where `posagent service install` puts it).
var defaultConfigPaths = []string{"posagent.toml", "var/posagent.toml", config.SystemConfigPath()}

// findConfig returns the config file to use, or "" when none exists.
func findConfig(flagPath string) string {
	if flagPath != "" {
		return flagPath
	}
	if p := os.Getenv("POSAGENT_CONFIG"); p != "" {
		return p
	}
	for _, p := range defaultConfigPaths {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// clientFlags are the flags every operator command takes.
type clientFlags struct {
	config, addr, token string
	json                bool
}

func (c *clientFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.config, "config", "", "config file (default: $POSAGENT_CONFIG, ./posagent.toml, ./var/posagent.toml, "+config.SystemConfigPath()+")")
	fs.StringVar(&c.addr, "addr", "", "the agent's API address host:port (default: $POSAGENT_ADDR or api.address)")
	fs.StringVar(&c.token, "token", "", "the API token (default: $POSAGENT_TOKEN or api.token)")
	fs.BoolVar(&c.json, "json", false, "print the agent's JSON answer")
}

// apiClient calls the agent's local API.
type apiClient struct {
	base  string
	token string
	http  *http.Client
}

func (c *clientFlags) client() (*apiClient, error) {
	addr, token := c.addr, c.token
	if addr == "" {
		addr = os.Getenv("POSAGENT_ADDR")
	}
	if token == "" {
		token = os.Getenv("POSAGENT_TOKEN")
	}
	if addr == "" || token == "" {
		path := findConfig(c.config)
		if path == "" {
			if token == "" {
				return nil, errors.New("no API token: pass --token, set POSAGENT_TOKEN, or point --config at the agent's config file")
			}
		} else {
			api, err := config.ReadAPI(path)
			if err != nil {
				return nil, err
			}
			if addr == "" {
				addr = api.Address
			}
			if token == "" {
				token = api.Token.Reveal()
			}
		}
	}
	if addr == "" {
		addr = config.DefaultAddress
	}
	base := addr
	if !strings.HasPrefix(base, "http://") && !strings.HasPrefix(base, "https://") {
		base = "http://" + base
	}
	return &apiClient{base: strings.TrimRight(base, "/"), token: token, http: &http.Client{Timeout: 60 * time.Second}}, nil
}

// apiError is an error answer of the agent.
type apiError struct {
	Status  int
	Code    string `json:"code"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (e *apiError) Error() string {
	msg := e.Message
	if e.Field != "" {
		msg = e.Field + ": " + msg
	}
	return fmt.Sprintf("%s (%d %s)", msg, e.Status, e.Code)
}

// do sends a request and returns the raw JSON answer of a 2xx status; any
// other status is an *apiError.
func (c *apiClient) do(ctx context.Context, method, path string, body []byte) (json.RawMessage, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, r)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("the agent does not answer at %s (is `posagent run` running?): %w", c.base, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("read the agent's answer: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		e := &apiError{Status: resp.StatusCode}
		if json.Unmarshal(data, e) != nil || e.Message == "" {
			e.Code, e.Message = "http", strings.TrimSpace(string(data))
		}
		return nil, e
	}
	return data, nil
}

// printJSON writes the answer indented.
// call sends one request to the running agent. With --json it prints the
// answer as it came and reports printed; otherwise it decodes the answer into
// out (when out is not nil) for the command to print readably.
func (cf clientFlags) call(ctx context.Context, std stdio, method, path string, body []byte, out any) (printed bool, err error) {
	c, err := cf.client()
	if err != nil {
		return false, err
	}
	raw, err := c.do(ctx, method, path, body)
	if err != nil {
		return false, err
	}
	if cf.json {
		return true, printJSON(std.out, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return false, fmt.Errorf("read the agent's answer: %w", err)
		}
	}
	return false, nil
}

func printJSON(w io.Writer, raw json.RawMessage) error {
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		_, err = w.Write(raw)
		return err
	}
	buf.WriteByte('\n')
	_, err := w.Write(buf.Bytes())
	return err
}
