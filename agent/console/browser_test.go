package console_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/agent"
	"github.com/posagent/posagent/providers/fake"
)

// updateScreenshots copies the browser test's screenshots to docs/console,
// where the README shows them: go test ./agent/console -run Browser -update-screenshots
var updateScreenshots = flag.Bool("update-screenshots", false, "write the browser test's screenshots to docs/console for the README")

// browser finds Chromium. Outside CI a missing browser skips the test
// loudly; in CI (CI=true) it fails it: .ci/run installs chromium.
func browser(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no Chromium on this CI machine: .ci/run must install the chromium package")
	}
	t.Log("*** SKIPPED: the operator console's browser test needs Chromium (apt-get install chromium fonts-noto-cjk) ***")
	t.Skip("no Chromium: the console was not tested in a real browser")
	return ""
}

// artifacts is where the screenshots go: $POSAGENT_ARTIFACTS/console, or a
// folder under the system's temporary directory.
func artifacts(t *testing.T) string {
	t.Helper()
	root := os.Getenv("POSAGENT_ARTIFACTS")
	if root == "" {
		root = filepath.Join(os.TempDir(), "posagent-artifacts")
	}
	dir := filepath.Join(root, "console")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// The console in a real headless Chromium: sign in, see an alarm appear when
// the provider goes down, find an invoice, see its proof picture, reprint it
// and see 補印, void it, revive a dead job; a screenshot of each main page.
func TestBrowser(t *testing.T) {
	exe := browser(t)
	r := newRig(t)
	ctx := context.Background()

	// A dead job to revive: the provider refuses one upload.
	r.prov.FailNext(fake.Upload, 1, posagent.KindInvalid)
	deadInv := r.sell("browser-dead", 150)
	waitFor(t, "the dead job", func() bool { jobs, _ := r.agent.Jobs(ctx, agent.StateDead, 10); return len(jobs) == 1 })
	inv := r.sell("browser-1", 235)
	waitFor(t, "the first upload", func() bool { _, ok := r.prov.Invoice(inv.Number); return ok })

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("lang", "zh-TW"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1024, 768), // a 10-inch tablet on its side
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	defer cancelBrowser()
	bctx, cancel := context.WithTimeout(bctx, 3*time.Minute)
	defer cancel()

	// Start the browser and its tab on bctx: a step's shorter context must
	// not own them.
	started := time.Now()
	if err := chromedp.Do(bctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	t.Logf("Chromium started in %s", time.Since(started).Round(time.Millisecond))
	dir := artifacts(t)
	shots := map[string][]byte{}
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	shot := func(name string) chromedp.Action[chromedp.Void] {
		return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
			b, err := chromedp.CaptureScreenshot()(ctx, tg)
			if err != nil {
				return chromedp.Void{}, err
			}
			shots[name] = b
			return chromedp.Void{}, os.WriteFile(filepath.Join(dir, name+".png"), b, 0o644)
		}
	}
	// goTo opens a page and waits for sel on it. The overview reloads itself
	// every second here: a reload that fires as we leave can abort our
	// navigation or land after it, so a try that does not show sel is made
	// again.
	goTo := func(url, sel string) chromedp.Action[chromedp.Void] {
		return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
			var err error
			for range 4 {
				tctx, cancel := context.WithTimeout(ctx, 7*time.Second)
				if _, err = chromedp.Navigate(url)(tctx, tg); err == nil || strings.Contains(err.Error(), "ERR_ABORTED") {
					_, err = chromedp.WaitVisible(css(sel))(tctx, tg)
				}
				cancel()
				if err == nil || ctx.Err() != nil {
					break
				}
			}
			return chromedp.Void{}, err
		}
	}
	step := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(bctx, 30*time.Second)
		defer cancel()
		defer func(start time.Time) { t.Logf("%s: %s", what, time.Since(start).Round(time.Millisecond)) }(time.Now())
		if err := chromedp.Do(sctx, actions...); err != nil {
			// Say where the browser is and what it shows.
			loc, _ := chromedp.Run(bctx, chromedp.Location())
			html, _ := chromedp.Run(bctx, chromedp.OuterHTML(chromedp.CSS("main")))
			if b, err := chromedp.Run(bctx, chromedp.CaptureScreenshot()); err == nil {
				_ = os.WriteFile(filepath.Join(dir, "failed.png"), b, 0o644)
			}
			t.Fatalf("%s: %v\nat %s:\n%s", what, err, loc, html)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(bctx, chromedp.Text(css(sel)))
		if err != nil {
			t.Fatalf("read %s: %v", sel, err)
		}
		return s
	}

	// Sign in: the console sends a stranger to the sign-in page first.
	step("open the console", goTo(r.base+"/", "#secret"), shot("login"))
	step("sign in",
		chromedp.SendKeys(css("#secret"), testToken),
		chromedp.Click(css("#signin")),
		chromedp.WaitVisible(css("#alarms")))
	if s := text("#provider-state"); !strings.Contains(s, "連線中") {
		t.Fatalf("provider state %q, want online", s)
	}

	// The provider goes down; a sale's upload fails; the overview, refreshing
	// itself, shows the alarm.
	r.prov.Down()
	down := r.sell("browser-down", 80)
	step("see the provider alarm appear",
		chromedp.WaitVisible(css(`.alarm[data-code="provider_offline"]`)),
		chromedp.WaitVisible(css("#oldest")))
	if s := text("#provider-state"); !strings.Contains(s, "離線") {
		t.Fatalf("provider state %q, want offline", s)
	}
	// The oldest unsent is the dead job's invoice, with its 48 h deadline.
	if s := text("#oldest"); !strings.Contains(s, string(deadInv.Number)) || !strings.Contains(s, "上傳期限") || !strings.Contains(s, "還有 47h59m") {
		t.Fatalf("oldest unsent %q, want %s with its deadline", s, deadInv.Number)
	}
	if s := text("#queue"); !strings.Contains(s, "等待中") {
		t.Fatalf("queue %q", s)
	}
	step("screenshot the overview", shot("overview"))
	r.prov.Up()

	// Find the invoice by number, typed as printed on the proof.
	step("find the invoice",
		goTo(r.base+"/invoices", "#invoice-list"),
		shot("invoices"),
		chromedp.SendKeys(css("#q"), inv.Number.Printed()),
		chromedp.Click(css("#find")),
		chromedp.WaitVisible(css("#proof")))
	if s := text("#number"); s != inv.Number.Printed() {
		t.Fatalf("invoice page for %q, want %s", s, inv.Number.Printed())
	}
	// The proof picture loaded and is as wide as the paper.
	width, err := chromedp.Run(bctx, chromedp.Poll[int](`(() => { const i = document.getElementById("proof"); return i.complete && i.naturalWidth > 0 ? i.naturalWidth : 0; })()`,
		chromedp.WithPollingTimeout(10*time.Second)))
	if err != nil || width != 384 {
		t.Fatalf("proof picture %d dots wide (%v), want 384", width, err)
	}
	step("screenshot the invoice", shot("invoice"))

	// Reprint: confirm, then the page says 補印.
	printed := r.printer.count()
	step("reprint",
		chromedp.Click(css("#reprint")),
		chromedp.WaitVisible(css("#question")),
		shot("confirm"),
		chromedp.Click(css("#confirm")),
		chromedp.WaitVisible(css("#flash")))
	if s := text("#flash"); !strings.Contains(s, "補印") {
		t.Fatalf("after the reprint the page says %q", s)
	}
	if r.printer.count() != printed+1 {
		t.Fatalf("printer got %d jobs, want %d", r.printer.count(), printed+1)
	}
	if s := text("#events"); !strings.Contains(s, "已列印") {
		t.Fatalf("history %q lacks the print", s)
	}

	// Void it with a reason.
	step("void",
		chromedp.SendKeys(css("#void-reason"), "客人取消"),
		chromedp.Click(css("#void")),
		chromedp.WaitVisible(css("#question")),
		chromedp.Click(css("#confirm")),
		chromedp.WaitVisible(css("#voided-tag")))
	if rec, err := r.agent.Invoice(ctx, inv.Number); err != nil || rec.Void == nil || rec.Void.Reason != "客人取消" {
		t.Fatalf("invoice after the void: %+v, %v", rec.Void, err)
	}

	// Revive the dead job; the provider takes it.
	step("revive the dead job",
		goTo(r.base+"/jobs", "#dead .job"),
		shot("jobs"),
		chromedp.Click(css("#dead .revive")),
		chromedp.WaitVisible(css("#question")),
		chromedp.Click(css("#confirm")),
		chromedp.WaitVisible(css("#no-dead")))
	waitFor(t, "the revived upload", func() bool { _, ok := r.prov.Invoice(deadInv.Number); return ok })

	step("booklets and the daily summary",
		goTo(r.base+"/booklets", "#booklet-list"), shot("booklets"),
		goTo(r.base+"/summary", "#summary-table"), shot("summary"))
	if s := text("#net"); s != fmt.Sprintf("NT$%d", 150+235+80-235) {
		t.Fatalf("the day's net %q", s)
	}
	// The reconciliation: the provider lost the sale made while it was down,
	// and the platform rejected the revived one.
	waitFor(t, "the upload of the sale made while down", func() bool { _, ok := r.prov.Invoice(down.Number); return ok })
	r.prov.Forget(down.Number)
	r.prov.SetAcceptance(deadInv.Number, posagent.AcceptRejected)
	if _, err := r.agent.Reconcile(ctx, time.Now(), agent.TriggerDemand); err != nil {
		t.Fatal(err)
	}
	step("the reconciliation", goTo(r.base+"/reconcile", "#finding-list"), shot("reconcile"))
	if s := text("#finding-list"); !strings.Contains(s, string(down.Number)) || !strings.Contains(s, string(deadInv.Number)) || !strings.Contains(s, "平台退件") {
		t.Fatalf("the findings %q lack the lost upload or the rejection", s)
	}
	step("sign out", chromedp.Click(css("#signout")), chromedp.WaitVisible(css("#secret")))
	t.Logf("screenshots in %s", dir)

	if *updateScreenshots {
		out := filepath.Join("..", "..", "docs", "console")
		if err := os.MkdirAll(out, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"login", "overview", "invoice", "jobs", "booklets", "summary", "reconcile"} {
			if err := os.WriteFile(filepath.Join(out, name+".png"), shots[name], 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
