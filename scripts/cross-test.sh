#!/usr/bin/env bash
# Cross-test: build each package's test binary for another platform and run
# it there, from the package's folder (testdata/ is found as under go test).
#
#   scripts/cross-test.sh windows   windows/amd64 binaries under Wine
#   scripts/cross-test.sh arm64     linux/arm64 binaries under qemu-user
#
# Both skip the packages whose tests drive the printer simulator, which
# needs Linux pseudo-terminals (PTY_PACKAGES below; of printer only the
# spooler tests run); arm64 runs in -short mode. The README says what was not
# run.
# Any package that fails to build or run fails the script; a missing Wine or
# qemu fails it too (CI must not pass with the tests not run).
set -euo pipefail
cd "$(dirname "$0")/.."

target=${1:?usage: scripts/cross-test.sh windows|arm64}
# Packages whose tests need the printer simulator's pseudo-terminals.
PTY_PACKAGES='/agent$|/cmd/posagent$|/printer$|/printer/printersim$'
# Run arguments for every binary: the same as make test's unit run.
args=(-test.count=1 -test.timeout=20m)

export CGO_ENABLED=1
case $target in
windows)
	export GOOS=windows GOARCH=amd64 CC=${CC_WINDOWS:-x86_64-w64-mingw32-gcc}
	wine=${WINE:-wine}
	command -v "$wine" >/dev/null || { echo "cross-test: $wine not found (apt-get install wine64 wine)" >&2; exit 1; }
	# A prefix of our own, quiet, without the Mono and Gecko install prompts.
	export WINEPREFIX=${WINEPREFIX:-$HOME/.wine-posagent} WINEDEBUG=${WINEDEBUG:--all}
	export WINEDLLOVERRIDES="mscoree,mshtml=;bcryptprimitives=n"
	[ -d "$WINEPREFIX" ] || "$wine" wineboot --init >/dev/null 2>&1 || true
	# Go's runtime needs bcryptprimitives.dll, which Wine 8.0 lacks: our
	# stand-in (scripts/wine/bcryptprimitives.c) goes into system32.
	"$CC" -shared -O2 -o "$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll" \
		scripts/wine/bcryptprimitives.c -ladvapi32
	# Go's os.RemoveAll needs a call Wine 8.0 lacks: build with Go's
	# fallback for older Windows (scripts/wine/deleteat_fallback.go.in).
	overlay_dir=$(mktemp -d)
	cp scripts/wine/deleteat_fallback.go.in "$overlay_dir/deleteat_fallback.go"
	printf '{"Replace":{"%s/src/internal/syscall/windows/zz_wine_deleteat_fallback.go":"%s/deleteat_fallback.go"}}' \
		"$(go env GOROOT)" "$overlay_dir" >"$overlay_dir/overlay.json"
	build_flags=(-overlay "$overlay_dir/overlay.json")
	runner=("$wine")
	ext=.exe
	pkgs="$(go list ./... | grep -Ev "$PTY_PACKAGES") $(go list ./printer)"
	# The printer package's device tests need the simulator; its spooler
	# tests do not (the fake, and the real winspool.drv for a printer that
	# does not exist).
	declare -A only=([$(go list ./printer)]=Spool)
	# Tests that run Linux tools (xmllint for the MIG messages, in every
	# package using internal/testxml; Chromium for the console) cannot under Wine: without CI=true they skip loudly
	# instead of failing; the README says they were not run there.
	declare -A noci=([$(go list ./agent/console)]=1)
	for p in $(go list -f '{{.ImportPath}} {{join .Imports " "}} {{join .TestImports " "}} {{join .XTestImports " "}}' ./... |
		awk '/internal\/testxml/ {print $1}'); do
		noci[$p]=1
	done
	# The bridge's exec tests build their helper program with the go
	# command, which Wine cannot run: it is built here for them.
	go build -o "$overlay_dir/bridgeexec.exe" ./providers/bridge/bridgetest/bridgeexec
	export POSAGENT_BRIDGEEXEC=$overlay_dir/bridgeexec.exe
	# Three config tests write Unix paths (/opt/…) where the config wants
	# absolute ones; on Windows those are not absolute.
	declare -A skip=([$(go list ./config)]='^(TestBridgeSection|TestWixtarExample|TestTurnkeyProviderConfig)$')
	# The Wine prefix is ours: the service tests may install services in it.
	export POSAGENT_TEST_SERVICE=1
	;;
arm64)
	export GOOS=linux GOARCH=arm64 CC=${CC_ARM64:-aarch64-linux-gnu-gcc}
	command -v qemu-aarch64 >/dev/null || { echo "cross-test: qemu-aarch64 not found (apt-get install qemu-user)" >&2; exit 1; }
	runner=(qemu-aarch64 -L /usr/aarch64-linux-gnu)
	build_flags=()
	ext=
	# Not the pseudo-terminal packages either: under qemu-user the
	# simulator's unplug tests see other errors than on a kernel of their
	# own, and the end-to-end tests, timed for native speed, run ten times
	# slower. -short skips the crash tests: they re-execute the test binary
	# as a child, which needs binfmt_misc registered for arm64, not
	# something a CI container may do.
	# Nor the packages whose tests run arm64 children of their own (the
	# Turnkey crash test, the bridge's exec helper): qemu-user cannot start
	# them without binfmt_misc.
	pkgs="$(go list ./... | grep -Ev "$PTY_PACKAGES|/providers/turnkey$|/providers/bridge$") $(go list ./printer)"
	declare -A only=([$(go list ./printer)]=Spool)
	declare -A noci=()
	declare -A skip=()
	args+=(-test.short)
	;;
*)
	echo "cross-test: unknown target $target (windows or arm64)" >&2
	exit 2
	;;
esac
command -v "$CC" >/dev/null || { echo "cross-test: $CC not found" >&2; exit 1; }
# CROSS_TEST_PACKAGES="./config ./queue" runs just those (and, on Windows,
# the service smoke test).
[ -z "${CROSS_TEST_PACKAGES:-}" ] || pkgs=$(go list $CROSS_TEST_PACKAGES)

# run_tests runs the package's test binary ($bin, in $dir) under the runner.
run_tests() {
	(cd "$dir" && env "${envs[@]}" "${runner[@]}" "$bin" "${run_args[@]}" >"$out/log" 2>&1)
}
# wine_dropped: the run died because wineserver dropped the connection
# ("wine client error:0: recvmsg: Connection reset by peer", seen once in CI
# with no test having run), not because a test failed. Only that is retried,
# once; a test failure or a panic never is.
wine_dropped() {
	[ "$target" = windows ] && grep -q '^wine client error' "$1" &&
		! grep -q -e '^--- FAIL' -e '^FAIL' -e '^panic:' "$1"
}

out=$(mktemp -d)
trap 'rm -rf "$out" ${overlay_dir:-}' EXIT
module=$(go list -m)
failed=()
start=$SECONDS
for pkg in $pkgs; do
	dir=${pkg#"$module"}
	dir=.${dir:-/}
	bin=$out/$(echo "${pkg#"$module"}" | tr / _)root.test$ext
	if ! go test "${build_flags[@]}" -c -o "$bin" "$pkg"; then
		failed+=("$pkg (build)")
		continue
	fi
	[ -f "$bin" ] || { echo "no tests  $pkg"; continue; }
	t=$SECONDS
	run_args=("${args[@]}")
	[ -z "${only[$pkg]:-}" ] || run_args+=(-test.run="${only[$pkg]}")
	[ -z "${skip[$pkg]:-}" ] || run_args+=(-test.skip="${skip[$pkg]}")
	envs=()
	[ -z "${noci[$pkg]:-}" ] || envs=(-u CI)
	if run_tests || { wine_dropped "$out/log" && echo "retry     $pkg: Wine's own server dropped the test's connection before any test failed (\"$(grep -m1 '^wine client error' "$out/log")\"): run once more" && run_tests; }; then
		echo "ok        $pkg ($((SECONDS - t)) s under ${runner[0]}${only[$pkg]:+, only tests matching ${only[$pkg]}}${skip[$pkg]:+, skipping ${skip[$pkg]}})"
	else
		cat "$out/log"
		echo "FAIL      $pkg ($((SECONDS - t)) s under ${runner[0]})"
		failed+=("$pkg")
	fi
done
if [ "$target" = windows ]; then
	# The service end to end: install, start, sell, graceful stop, uninstall.
	t=$SECONDS
	if go build -o "$out/posagent.exe" ./cmd/posagent && scripts/wine/service-smoke.sh "$out/posagent.exe" >"$out/log" 2>&1; then
		echo "ok        service smoke test ($((SECONDS - t)) s under $wine)"
	else
		cat "$out/log"
		echo "FAIL      service smoke test"
		failed+=("service smoke test")
	fi
fi
echo "cross-test $target: $((SECONDS - start)) s"
if [ ${#failed[@]} -gt 0 ]; then
	printf 'cross-test %s failed: %s\n' "$target" "${failed[*]}" >&2
	exit 1
fi
