#!/usr/bin/env bash
# make dist: posagent for linux/amd64, linux/arm64 and windows/amd64, built on
# this Linux machine with cgo cross-compilers (mattn/go-sqlite3 needs C):
#   linux/arm64    aarch64-linux-gnu-gcc      (Debian: gcc-aarch64-linux-gnu)
#   windows/amd64  x86_64-w64-mingw32-gcc     (Debian: gcc-mingw-w64-x86-64)
# Each archive holds the binary (version stamped in), README.md, LICENSE, the
# licence notices of everything compiled in (licenses/), and on Linux the
# systemd unit; dist/SHA256SUMS sums the archives. Each binary's version is
# checked by running it (natively, under qemu-user, under Wine) when that is
# possible here; CI=true makes a check that cannot run an error.
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
TARGETS=${TARGETS:-linux/amd64 linux/arm64 windows/amd64}
out=dist
rm -rf "$out"
mkdir -p "$out"
export CGO_ENABLED=1

need() {
	command -v "$1" >/dev/null || { echo "dist: $1 not found (apt-get install $2)" >&2; exit 1; }
}

# licenses DIR GOOS GOARCH: the notices of what the binary embeds.
licenses() {
	local dir=$1/licenses
	mkdir -p "$dir"
	cp printer/emulator/font/LICENSE "$dir/unifont.txt"
	cp "$(go env GOROOT)/LICENSE" "$dir/go.txt"
	{
		echo "posagent $VERSION for $2/$3 contains these Go modules; their licence texts follow."
		echo "mattn/go-sqlite3 compiles in SQLite, which is in the public domain (https://sqlite.org/copyright.html)."
		echo "The GNU Unifont subset used by the receipt preview is under the SIL OFL 1.1: see unifont.txt."
		echo
		GOOS=$2 GOARCH=$3 go list -deps -f '{{with .Module}}{{if not .Main}}{{.Path}} {{.Version}} {{.Dir}}{{end}}{{end}}' ./cmd/posagent |
			sort -u | while read -r path version moddir; do
				echo "================================================================"
				echo "$path $version"
				echo "================================================================"
				found=
				for f in "$moddir"/LICENSE* "$moddir"/LICENCE* "$moddir"/COPYING* "$moddir"/NOTICE*; do
					[ -f "$f" ] || continue
					cat "$f"
					echo
					found=1
				done
				[ -n "$found" ] || { echo "dist: no licence file in $moddir" >&2; exit 1; }
			done
	} >"$dir/third-party.txt"
}

# check BIN GOOS GOARCH: the binary runs and says its version.
check() {
	local bin=$1 runner=()
	case $2/$3 in
	linux/amd64) ;;
	linux/arm64)
		command -v qemu-aarch64 >/dev/null && runner=(qemu-aarch64 -L /usr/aarch64-linux-gnu) || runner=(missing qemu-aarch64)
		;;
	windows/amd64)
		if command -v wine >/dev/null; then
			export WINEPREFIX=${WINEPREFIX:-$HOME/.wine-posagent} WINEDEBUG=-all
			export WINEDLLOVERRIDES="mscoree,mshtml=;bcryptprimitives=n"
			[ -d "$WINEPREFIX" ] || wine wineboot --init >/dev/null 2>&1 || true
			x86_64-w64-mingw32-gcc -shared -O2 -o "$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll" \
				scripts/wine/bcryptprimitives.c -ladvapi32
			runner=(wine)
		else
			runner=(missing wine)
		fi
		;;
	esac
	if [ "${runner[0]:-}" = missing ]; then
		if [ "${CI:-}" = true ]; then
			echo "dist: ${runner[1]} is missing: cannot check $2/$3" >&2
			exit 1
		fi
		echo "dist: ${runner[1]} not found: $2/$3 built but not run" >&2
		return
	fi
	got=$("${runner[@]}" "$bin" version | tr -d '\r')
	case $got in
	*"$VERSION"*) echo "dist: $2/$3 runs: $got" ;;
	*) echo "dist: $2/$3 says \"$got\", want version $VERSION" >&2; exit 1 ;;
	esac
}

for target in $TARGETS; do
	goos=${target%/*} goarch=${target#*/}
	exe=posagent
	case $target in
	linux/amd64) cc=${CC_LINUX_AMD64:-gcc} ;;
	linux/arm64) cc=${CC_ARM64:-aarch64-linux-gnu-gcc}; need "$cc" gcc-aarch64-linux-gnu ;;
	windows/amd64) cc=${CC_WINDOWS:-x86_64-w64-mingw32-gcc}; need "$cc" gcc-mingw-w64-x86-64; exe=posagent.exe ;;
	*) echo "dist: unknown target $target" >&2; exit 2 ;;
	esac
	name=posagent-$VERSION-$goos-$goarch
	stage=$out/$name
	mkdir -p "$stage"
	t=$SECONDS
	GOOS=$goos GOARCH=$goarch CC=$cc go build -trimpath -ldflags "-s -w -X main.version=$VERSION" -o "$stage/$exe" ./cmd/posagent
	cp README.md LICENSE "$stage/"
	licenses "$stage" "$goos" "$goarch"
	if [ "$goos" = linux ]; then
		cp packaging/posagent.service "$stage/"
	fi
	check "$stage/$exe" "$goos" "$goarch"
	if [ "$goos" = windows ]; then
		(cd "$out" && rm -f "$name.zip" && zip -qr -X "$name.zip" "$name")
	else
		tar -C "$out" --owner=0 --group=0 --numeric-owner -czf "$out/$name.tar.gz" "$name"
	fi
	echo "dist: $target in $((SECONDS - t)) s"
done
(cd "$out" && sha256sum -- *.tar.gz *.zip 2>/dev/null >SHA256SUMS || true)
[ -s "$out/SHA256SUMS" ] || { echo "dist: nothing was archived" >&2; exit 1; }
(cd "$out" && sha256sum -c --quiet SHA256SUMS)
cat "$out/SHA256SUMS"
