#!/usr/bin/env bash
# The Windows service end to end under Wine, as a vendor would use it: install
# with one command, start, sell through the running agent, stop gracefully,
# uninstall. Run by scripts/cross-test.sh windows (which sets up the prefix);
# needs WINEPREFIX and the stand-in bcryptprimitives.dll in place.
#   scripts/wine/service-smoke.sh PATH/TO/posagent.exe
set -euo pipefail
cd "$(dirname "$0")/../.."
exe=$1
: "${WINEPREFIX:?}"
data=$WINEPREFIX/drive_c/ProgramData/posagent
port=$((20000 + RANDOM % 20000))
token=smoke-$RANDOM$RANDOM-0123456789abcdef
posagent() { wine "$exe" "$@" 2>&1 | tr -d '\r'; return "${PIPESTATUS[0]}"; }
fail() {
	echo "service-smoke: $*" >&2
	[ -f "$data/logs/posagent.log" ] && tail -30 "$data/logs/posagent.log" >&2
	posagent service uninstall >/dev/null 2>&1 || true
	exit 1
}

# A leftover from an interrupted run goes first.
posagent service uninstall >/dev/null 2>&1 || true
rm -rf "$data"
mkdir -p "$data"
# The fake provider and a file printer: no network, no hardware.
cat >"$data/posagent.toml" <<TOML
[terminal]
seller_tax_id = "24634102"
seller_name = "小林咖啡 smoke test"
machine_id = "POS01"
[qr]
key = "F1A618ED8685B1A3B81E6CB6884617F4"
[provider]
name = "fake"
[printer]
device = 'file:C:\\ProgramData\\posagent\\receipts.bin'
[api]
address = "127.0.0.1:$port"
token = "$token"
TOML

out=$(posagent service install) || fail "install: $out"
echo "$out"
grep -q 'installed service posagent' <<<"$out" || fail "install said: $out"
# (Wine's service manager starts automatic services whenever Wine starts,
# so the service may be running already; Windows would wait for the boot.)

out=$(posagent service start) || fail "start: $out"
echo "$out"
out=$(posagent service status) || fail "status of a running service: $out"
echo "$out"

# The operator commands find the agent through the config in %ProgramData%.
cfg='C:\ProgramData\posagent\posagent.toml'
for i in $(seq 1 50); do
	out=$(posagent sell --config "$cfg" testdata/sales/coffee.json) && break
	sleep 0.2
done
echo "$out"
grep -Eq 'invoice [A-Z]{2}-?[0-9]{8}' <<<"$out" || fail "sell through the service: $out"
[ -s "$data/receipts.bin" ] || fail "no receipt was printed to receipts.bin"

out=$(posagent service stop) || fail "stop: $out"
echo "$out"
grep -q 'the service manager asked the agent to stop' "$data/logs/posagent.log" || fail "no stop request in the log"
grep -q 'the agent stopped' "$data/logs/posagent.log" || fail "the agent did not log its stop"

out=$(posagent service uninstall) || fail "uninstall: $out"
echo "$out"
out=$(posagent service status) && fail "status after uninstall exited 0: $out"
grep -q 'not installed' <<<"$out" || fail "status after uninstall: $out"
[ -f "$data/posagent.db" ] || fail "uninstall must keep the store"
echo "service-smoke: ok (install, start, sell, graceful stop, uninstall)"
