#!/usr/bin/env bash
# Pins the Go SDK named by go.mod (toolchain line, else go line) in toolchain.sums: for each
# platform, `go mod download` fetches golang.org/toolchain@v0.0.1-go<VERSION>.<os>-<arch>
# through GOPROXY and checks it against the checksum database (GOSUMDB), as the go command
# does before it runs a toolchain; the sha256 of that verified zip is what Bazel and
# tools/provision check. Needs a Go >= 1.21 on PATH; run it after changing the Go version:
#   tools/gosdk/update-sums.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
PLATFORMS=(linux-amd64 linux-arm64 darwin-arm64 darwin-amd64)

version=$(awk '$1=="toolchain"{sub(/^go/,"",$2); t=$2} $1=="go"{g=$2} END{print (t!="" ? t : g)}' go.mod)
[ -n "$version" ] || { echo "update-sums: go.mod has no toolchain or go line" >&2; exit 1; }

out=tools/gosdk/toolchain.sums
{
  echo "# Go SDK zips from the Go module proxy (module golang.org/toolchain), pinned by sha256."
  echo "# <module> <version> sha256:<zip sha256> <go.sum h1 hash, checked against the checksum database>"
  echo "# Written by tools/gosdk/update-sums.sh for the Go version in go.mod."
  for p in "${PLATFORMS[@]}"; do
    mod="golang.org/toolchain@v0.0.1-go$version.$p"
    # Outside this module: the download needs no go.mod, and ours may name a newer toolchain.
    json=$(cd / && GOFLAGS=-mod=mod GOTOOLCHAIN=local go mod download -json "$mod") \
      || { echo "update-sums: go mod download $mod failed: $json" >&2; exit 1; }
    zip=$(sed -n 's/^[[:space:]]*"Zip": "\(.*\)",$/\1/p' <<<"$json")
    h1=$(sed -n 's/^[[:space:]]*"Sum": "\(.*\)",$/\1/p' <<<"$json")
    [ -f "$zip" ] && [ -n "$h1" ] || { echo "update-sums: go mod download $mod gave no zip: $json" >&2; exit 1; }
    echo "golang.org/toolchain v0.0.1-go$version.$p sha256:$(sha256sum "$zip" | cut -d' ' -f1) $h1"
  done
} > "$out.new"
mv "$out.new" "$out"
echo "update-sums: wrote $out for go$version"
