# posagent — the two commands a newcomer needs are `make run` and `make test`.

GO        ?= go
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X main.version=$(VERSION)
BIN       := bin/posagent
FUZZTIME  ?= 30s
# make test runs every fuzz target this many executions on top of its seed
# corpus: a count, not a time, because a time limit can end a run in the middle
# of a slow input and fail it with "context deadline exceeded".
TEST_FUZZTIME ?= 10000x

export CGO_ENABLED := 1

.PHONY: all build run test unit fuzz-short fuzz bench lint clean

all: lint test build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/posagent

# The demo: the agent with its store under ./var, a printer simulator writing
# PNGs to ./var/receipts and an ECPay stand-in on loopback, until Ctrl-C.
run: build
	./$(BIN) run --demo --dir var

# The fuzz targets run first so that go test's own summary closes the output.
test: fuzz-short unit

unit:
	$(GO) test -count=1 ./...

# Each fuzz target for a moment: the seeds already ran in `unit`; this adds
# a little random exploration to every CI run.
fuzz-short:
	@$(MAKE) --no-print-directory fuzz FUZZTIME=$(TEST_FUZZTIME)

fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for target in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "fuzz $$pkg $$target ($(FUZZTIME))"; \
	    $(GO) test -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) $$pkg > /tmp/posagent-fuzz.log 2>&1 || { cat /tmp/posagent-fuzz.log; exit 1; }; \
	  done; \
	done

# The end-to-end benchmarks (agent: ring-up latency, queue drain, a store of a
# million invoices; cmd/posagent: the daemon's memory) run thousands of sales
# each: once, not five times. The first run builds the million-invoice store
# (5–9 minutes on 2 cores, then cached in $TMPDIR): hence the long timeout.
E2E_BENCH := ./agent ./cmd/posagent
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 5 $$($(GO) list ./... | grep -v -e '/agent$$' -e '/cmd/posagent$$') | tee bench.txt
	$(GO) test -run '^$$' -bench . -benchmem -count 1 -timeout 60m $(E2E_BENCH) | tee -a bench.txt

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

clean:
	rm -rf bin var bench.txt
