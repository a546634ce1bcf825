#!/usr/bin/env bash
# Checks that //image does not depend on the host's Go: builds it in a fresh output base
# with Debian's Go 1.19 (package golang-1.19-go, installed when missing) as the only go on
# PATH and GOPROXY unset (so it comes from that go's `go env GOPROXY`), and compares its
# digest with the one from the normal build. Build actions come from the disk cache when
# their keys match; a host Go that leaked into any action key would rebuild it instead, and
# a different SDK would give a different digest.
#   .ci/host-go-digest.sh          # prints "host-go digest: PASSED|FAILED ..." last
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

other_go=/usr/lib/go-1.19/bin
if [ ! -x "$other_go/go" ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "host-go digest: FAILED: $other_go/go is missing; install golang-1.19-go (apt-get) or run as root" >&2
    exit 1
  fi
  echo "host-go digest: installing golang-1.19-go (Debian's Go 1.19)" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends golang-1.19-go >&2 \
    || { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends golang-1.19-go >&2; }
fi

# Prints the manifest digest of //image built by `tools/bazel "$@"` (from //image:image.digest).
digest() {
  "$@" build //image //image:image.digest --symlink_prefix=/ >&2
  local root file
  root=$("$@" info execution_root 2>/dev/null)
  file=$("$@" cquery --output=files //image:image.digest 2>/dev/null)
  cat "$root/$file"
}

# The normal build, with the caller's PATH and environment.
want=$(digest tools/bazel)

# The same build with Go 1.19 first on PATH, no other go, and a fresh output base.
ob=$(mktemp -d "${TMPDIR:-/var/tmp}/cat-server-host-go.XXXXXX")
cleanup() {
  env PATH="$other_go:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    tools/bazel --output_base="$ob" shutdown >/dev/null 2>&1 || true
  rm -rf "$ob"
}
trap cleanup EXIT
run_other() {
  env -u GOPROXY -u GOROOT -u GOTOOLCHAIN \
    PATH="$other_go:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    tools/bazel --output_base="$ob" "$@"
}
seen=$(env PATH="$other_go:/usr/bin:/bin" go version)
case "$seen" in *go1.19*) ;; *) echo "host-go digest: FAILED: expected Go 1.19 on PATH, got: $seen" >&2; exit 1 ;; esac
got=$(digest run_other)

if [ "$got" = "$want" ]; then
  echo "host-go digest: PASSED ($seen on PATH gives $got, as the normal build)"
else
  echo "host-go digest: FAILED: with $seen on PATH //image is $got, normally $want"
  exit 1
fi
