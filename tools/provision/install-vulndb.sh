#!/usr/bin/env bash
# Builds a local Go vulnerability database for govulncheck (//image:vulncheck) and prints
# its file:// URL:
#   export GOVULNDB=$(tools/provision/install-vulndb.sh)
# The source is the golang.org/x/vulndb module (its data/osv holds every published OSV
# entry) at the version pinned in tools/provision/vulndb.version, fetched with
# `go mod download` through the Go module proxy of the environment ($GOPROXY);
# tools/sbom/cmd/vulndbmirror turns it into the layout govulncheck reads. The database
# goes to $CAT_SERVER_VULNDB_DIR/<version> (default /var/cache/cat-server/vulndb/<version>),
# outside the repository, replaced atomically. A second run finds it and prints the URL at once.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
pin="$here/vulndb.version"

# CAT_SERVER_VULNDB_VERSION overrides the pin (to try a version before pinning it).
version=${CAT_SERVER_VULNDB_VERSION:-$(tr -d ' \t\r\n' < "$pin")}
if ! [[ "$version" =~ ^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]]; then
  echo "install-vulndb: ${CAT_SERVER_VULNDB_VERSION:+CAT_SERVER_VULNDB_VERSION / }$pin: want one golang.org/x/vulndb module version (e.g. v0.0.0-20261105234957-e22db6528018), got '$version'" >&2
  exit 1
fi
base=${CAT_SERVER_VULNDB_DIR:-/var/cache/cat-server/vulndb}
db="$base/$version"
stamp="format=1"   # bump when vulndbmirror's output changes

if [ "$(cat "$db/.stamp" 2>/dev/null || true)" = "$stamp" ] && [ -f "$db/index/modules.json" ]; then
  echo "file://$db"
  exit 0
fi

# Prefer the Go SDK pinned by go.mod, as tools/provision/offline-modules.sh unpacked it: the
# mirror tool needs this repository's Go, whatever Go the host has (Debian's 1.19, or none).
pinned_go=$(awk '$1=="toolchain"{sub(/^go/,"",$2); t=$2} $1=="go"{g=$2} END{print (t!="" ? t : g)}' "$repo/go.mod")
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) pinned_plat=linux-amd64 ;; Linux-aarch64) pinned_plat=linux-arm64 ;;
  Darwin-arm64) pinned_plat=darwin-arm64 ;; Darwin-x86_64) pinned_plat=darwin-amd64 ;;
  *) pinned_plat= ;;
esac
pinned_sdk=${CAT_SERVER_OFFLINE_DIR:-/var/cache/cat-server/bazel-offline}/go-sdk/v0.0.1-go$pinned_go.$pinned_plat
if [ -n "$pinned_plat" ] && [ -x "$pinned_sdk/bin/go" ]; then
  export PATH="$pinned_sdk/bin:$PATH" GOTOOLCHAIN=local
fi

if ! command -v go >/dev/null; then
  echo "install-vulndb: 'go' is not on PATH: it fetches golang.org/x/vulndb@$version and builds" >&2
  echo "  tools/sbom/cmd/vulndbmirror. Install Go, or set GOVULNDB yourself (a file:/// mirror or" >&2
  echo "  the URL of a Go vulnerability database), or leave the scan out: --test_tag_filters=-requires-vulndb" >&2
  exit 1
fi

# Outside any module, so that go.mod and go.sum stay untouched.
json=$(cd / && GOFLAGS=-mod=mod go mod download -json "golang.org/x/vulndb@$version") || {
  echo "install-vulndb: go mod download golang.org/x/vulndb@$version failed (GOPROXY=$(go env GOPROXY)):" >&2
  echo "$json" >&2
  exit 1
}
field() { sed -n "s/^[[:space:]]*\"$1\": \"\(.*\)\",\{0,1\}\$/\1/p" <<<"$json"; }
dir=$(field Dir)
info=$(field Info)
if [ -z "$dir" ] || [ ! -d "$dir/data/osv" ]; then
  echo "install-vulndb: golang.org/x/vulndb@$version: no data/osv directory in the module ('$dir')" >&2
  exit 1
fi
# The version's commit time dates the database (index/db.json).
modified=$(sed -n 's/.*"Time":"\([^"]*\)".*/\1/p' "$info" 2>/dev/null || true)

mkdir -p "$base"
tool=$(mktemp "$base/.vulndbmirror.XXXXXX")
trap 'rm -f "$tool"' EXIT
(cd "$repo" && go build -o "$tool" ./tools/sbom/cmd/vulndbmirror)
"$tool" --osv "$dir/data/osv" --out "$db" ${modified:+--modified "$modified"} >/dev/null
echo "$stamp" > "$db/.stamp"
echo "install-vulndb: built the Go vulnerability database from golang.org/x/vulndb@$version in $db" >&2
echo "file://$db"
