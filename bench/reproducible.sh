#!/usr/bin/env bash
# Checks that //image builds bit-for-bit reproducibly: the same image digest from two
# fresh, throwaway Bazel output bases as from the normal one, and likewise (across the
# two fresh output bases) for a different user, --define uid=2000 --define gid=2000,
# whose digest must differ from the default's.
#
#   bench/reproducible.sh        # a few minutes: one cold build per fresh output base
#
# The fresh output bases live under ${XDG_CACHE_HOME:-$HOME/.cache}/cat-server-bench/
# (not /tmp: Bazel's sandbox mounts an empty /tmp inside actions), are built with
# --disk_cache= (any disk cache from a user bazelrc turned off, so the builds are really
# clean) and are shut down and deleted afterwards. The uid=2000 variant is not built in
# the normal output base, so the outputs there (bazel-bin/image/...) stay the default
# image. Prints the digests and PASS/FAIL; exits 1 on any mismatch, 2 on a build error.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

bench_cache=${XDG_CACHE_HOME:-$HOME/.cache}/cat-server-bench
mkdir -p "$bench_cache"
case "$bench_cache" in /tmp/*) echo "reproducible: $bench_cache is under /tmp; set XDG_CACHE_HOME" >&2; exit 2 ;; esac

output_bases=()
log=$(mktemp)   # output of the current build, shown when it fails
# shellcheck disable=SC2317  # only called by the EXIT trap (shellcheck 0.9 false positive)
cleanup() {
  local ob
  for ob in "${output_bases[@]}"; do
    tools/bazel --output_base="$ob" shutdown >/dev/null 2>&1 || true
    chmod -R u+w "$ob" 2>/dev/null || true
    rm -rf "$ob"
  done
  rm -f "$log"
  rmdir "$bench_cache" 2>/dev/null || true   # only if nothing else is in it
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Builds //image with the given extra arguments and prints the image digest.
#   build_digest <output base or ""> [bazel build args...]
build_digest() {
  local ob=$1 start
  shift
  local startup=() cmd
  if [ -n "$ob" ]; then
    # An idle server left behind by an interrupted run exits on its own.
    startup=(--output_base="$ob" --max_idle_secs=300)
    cmd=(build --disk_cache= //image //image:image.digest "$@")
  else
    cmd=(build //image //image:image.digest "$@")
  fi
  start=$SECONDS
  if ! tools/bazel "${startup[@]}" "${cmd[@]}" >"$log" 2>&1; then
    echo "reproducible: build failed: tools/bazel ${startup[*]} ${cmd[*]}" >&2
    tail -n 30 "$log" >&2
    exit 2
  fi
  echo "    tools/bazel ${startup[*]}${startup[*]:+ }${cmd[*]}: $((SECONDS - start)) s" >&2
  cat "$(tools/bazel "${startup[@]}" info bazel-bin "$@" 2>/dev/null)/image/image.json.sha256"
}

uid2000=(--define uid=2000 --define gid=2000)

echo "== normal output base" >&2
normal=$(build_digest "")

declare -A fresh
for i in 1 2; do
  ob=$(mktemp -d "$bench_cache/output_base.XXXXXX")
  output_bases+=("$ob")
  echo "== fresh output base $i: $ob" >&2
  fresh[default,$i]=$(build_digest "$ob")
  fresh[uid2000,$i]=$(build_digest "$ob" "${uid2000[@]}")
  tools/bazel --output_base="$ob" shutdown >/dev/null 2>&1
done

status=0
check() {  # <description> <PASS condition as "test" arguments...>
  local what=$1
  shift
  if [ "$@" ]; then echo "PASS  $what"; else echo "FAIL  $what"; status=1; fi
}

echo
echo "default (uid 1000:1000)"
echo "  normal output base:   $normal"
echo "  fresh output base 1:  ${fresh[default,1]}"
echo "  fresh output base 2:  ${fresh[default,2]}"
echo "--define uid=2000 --define gid=2000"
echo "  fresh output base 1:  ${fresh[uid2000,1]}"
echo "  fresh output base 2:  ${fresh[uid2000,2]}"
echo
check "default: fresh output base 1 = normal output base" "${fresh[default,1]}" = "$normal"
check "default: fresh output base 2 = normal output base" "${fresh[default,2]}" = "$normal"
check "uid=2000: fresh output base 1 = fresh output base 2" "${fresh[uid2000,1]}" = "${fresh[uid2000,2]}"
check "uid=2000 differs from the default" "${fresh[uid2000,1]}" != "$normal"
exit "$status"
