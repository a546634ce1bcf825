#!/usr/bin/env bash
# Build speed of //image, each figure next to its peer from the same run:
#  1. cold: `tools/bazel build //image` in a fresh output base with no disk cache
#     (--disk_cache=), with Bazel's per-phase times (--profile + analyze-profile) and the
#     critical path;
#  2. no-op rebuild in that output base;
#  3. edit -> new //image against `go build` of the same edit (the pinned SDK's go, warm
#     Go build cache), alternating, EDITS times each; a one-line edit in
#     server/cmd/cat-server, restored at the end; also against `go build -ldflags=-w`,
#     which builds the same binary as the image's (symbol table kept, no DWARF); after
#     WARMUP (default 3) untimed edit builds, as the Bazel server has just started;
#     and against `ko build --push=false` of the same edit (ko v0.19.1 installed with
#     `go install` from the Go module proxy, the pinned SDK's go, base image = //image's
#     runtime base served by a docker-registry on 127.0.0.1 that the script starts;
#     KO=0 skips it);
#  4. second clone: `git clone` of this checkout's HEAD into a new directory, built in a
#     fresh output base through the default persistent disk cache of .bazelrc (a first
#     clone is built the same way before it, to fill that cache if it is empty);
#  5. team cache (issue 17): a cache started with tools/remotecache/setup.sh on 127.0.0.1
#     (password made up for the run), filled by a third clone (--config=remote-cache-ci,
#     --disk_cache=, fresh output base), then //image on a fourth clone at another path,
#     fresh output base, no disk cache, --config=remote-cache (TEAM=0 skips it; needs
#     nginx-light and apache2-utils, which it installs as root);
#  6. a cold `go build` of the server with an empty GOCACHE (the module cache warm), the
#     unit of the ratios printed last: cold //image, //image on a new clone from the team
#     cache, from the disk cache, and edit -> image, each divided by it.
# Prints a Markdown summary at the end, with date and load average before and after.
#
#   bench/build.sh                 # ~3-10 min on 2 cores, depending on the load
#   EDITS=3 SKIP_CLONE=1 bench/build.sh
#   BENCH_CLONE_BAZELRC=FILE bench/build.sh   # clones also read FILE (--bazelrc), e.g. the
#                                             # bazelrc of a provisioning made elsewhere
#
# Throwaway output bases and clones live under ${XDG_CACHE_HOME:-$HOME/.cache}/cat-server-bench
# (not /tmp: Bazel's sandbox mounts an empty /tmp) and are shut down and deleted afterwards.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
EDITS=${EDITS:-5}
work=${XDG_CACHE_HOME:-$HOME/.cache}/cat-server-bench/build.$$
mkdir -p "$work"

edit_file=server/cmd/cat-server/main.go
cp "$edit_file" "$work/edit-file.orig"
output_bases=()
registry_pid=
cache_pid=
cache_dir=
cleanup() {
  cp "$work/edit-file.orig" "$repo/$edit_file"
  [ -n "$registry_pid" ] && kill "$registry_pid" 2>/dev/null
  if [ -n "$cache_pid" ]; then kill "$cache_pid" 2>/dev/null; wait "$cache_pid" 2>/dev/null || true; fi
  [ -n "$cache_dir" ] && rm -rf "$cache_dir"
  local ob
  for ob in "${output_bases[@]}"; do
    (cd "$repo" && tools/bazel --output_base="$ob" shutdown >/dev/null 2>&1) || true
  done
  chmod -R u+w "$work" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", b-a}'; }
median() { sort -n | awk '{a[NR]=$1} END{if(NR%2) print a[(NR+1)/2]; else printf "%.3f\n", (a[NR/2]+a[NR/2+1])/2}'; }

load_before=$(uptime)
echo "== $(date -u '+%Y-%m-%d %H:%M UTC'); $load_before" >&2

# 1. Cold build.
ob="$work/cold"; output_bases+=("$ob")
t0=$(now)
tools/bazel --output_base="$ob" build //image --disk_cache= --profile="$work/cold.profile.gz" >"$work/cold.log" 2>&1 \
  || { cat "$work/cold.log" >&2; exit 2; }
t1=$(now)
cold=$(secs "$t0" "$t1")
tools/bazel --output_base="$ob" analyze-profile "$work/cold.profile.gz" >"$work/cold.phases" 2>/dev/null || true
phases=$(sed -n '/=== PHASE SUMMARY INFORMATION ===/,/Total run time/p' "$work/cold.phases" | grep -E 'phase|Total' || true)
critical=$(grep -m1 -E 'Critical Path' "$work/cold.log" || true)
stdlibs=$(tools/bazel --output_base="$ob" aquery 'mnemonic("GoStdlib", deps(//image))' --disk_cache= --output=summary 2>/dev/null \
  | awk '/^  GoStdlib:/{print $2}')
echo "cold: ${cold}s; $critical; GoStdlib actions: ${stdlibs:-?}" >&2

# 2. No-op rebuild.
t0=$(now); tools/bazel --output_base="$ob" build //image --disk_cache= >/dev/null 2>&1; t1=$(now)
noop=$(secs "$t0" "$t1")
echo "no-op: ${noop}s" >&2

# 3. Edit -> image vs go build, alternating, same edit for both.
sdk_go=$(tools/bazel --output_base="$ob" info output_base --disk_cache= 2>/dev/null)/external/_main~go_toolchain~go_pinned_sdk/bin/go
[ -x "$sdk_go" ] || sdk_go=go
gobin="$work/gobuild-cat-server"
(cd "$repo" && CGO_ENABLED=0 GOFLAGS=-trimpath "$sdk_go" build -o "$gobin" ./server/cmd/cat-server)  # warm Go's cache
# ko, the peer that builds an image from a Go main package without Bazel: it needs its
# base from a registry, so a docker-registry (Debian's package, as the registry tests use)
# on 127.0.0.1 serves //image's runtime base (pushed with this repository's ocitool).
ko_ok=
if [ "${KO:-1}" != 0 ]; then
  if ! command -v docker-registry >/dev/null; then
    tools/provision/install-test-deps.sh >&2 || true
  fi
  if command -v docker-registry >/dev/null \
    && GOBIN="$work/bin" GOFLAGS= "$sdk_go" install github.com/google/ko@v0.19.1 >"$work/ko-install.log" 2>&1 \
    && CGO_ENABLED=0 "$sdk_go" build -o "$work/bin/ocitool" ./tools/oci/cmd/ocitool >>"$work/ko-install.log" 2>&1; then
    reg_port=$((20000 + RANDOM % 20000))
    mkdir -p "$work/registry"
    printf 'version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' \
      "$work/registry/data" "$reg_port" >"$work/registry/config.yml"
    docker-registry serve "$work/registry/config.yml" >"$work/registry/log" 2>&1 &
    registry_pid=$!
    for _ in $(seq 50); do curl -fsS "http://127.0.0.1:$reg_port/v2/" >/dev/null 2>&1 && break; sleep 0.1; done
    runtime_base=$(tools/bazel --output_base="$ob" cquery --disk_cache= --output=files //image:runtime_base 2>/dev/null)
    if tools/bazel --output_base="$ob" build --disk_cache= //image:runtime_base >/dev/null 2>&1 \
      && "$work/bin/ocitool" push --image "$ob/execroot/_main/$runtime_base" -- --repository "127.0.0.1:$reg_port/base" --tag latest >>"$work/ko-install.log" 2>&1; then
      ko_ok=1
    fi
  fi
  [ -n "$ko_ok" ] || { echo "ko: not measured (see below)" >&2; tail -5 "$work/ko-install.log" >&2 || true; }
fi
ko_build() {
  KO_GO_PATH="$sdk_go" KO_DOCKER_REPO="127.0.0.1:$reg_port/ko" KO_DEFAULTBASEIMAGE="127.0.0.1:$reg_port/base:latest" \
    GOFLAGS=-trimpath CGO_ENABLED=0 "$work/bin/ko" build --push=false --insecure-registry --platform=linux/amd64 \
    ./server/cmd/cat-server >"$work/ko.log" 2>&1 || { cat "$work/ko.log" >&2; exit 2; }
}
if [ -n "$ko_ok" ]; then ko_build; fi   # warm ko's Go cache, as for go build

# The Bazel server was started by the cold build just before: its JVM compiles its own hot
# code over the first builds. A user's server lives for hours, so first build the edit
# WARMUP times (untimed), as go build above warmed Go's cache.
for i in $(seq 1 "${WARMUP:-3}"); do
  { cat "$work/edit-file.orig"; echo; printf 'var benchEdit string\n\nfunc init() { benchEdit = "%s" }\n' "warmup-$RANDOM-$i"; } >"$edit_file"
  tools/bazel --output_base="$ob" build //image --disk_cache= >/dev/null 2>&1 || true
done
bz=(); gb=(); gbw=(); kb=()
for i in $(seq 1 "$EDITS"); do
  { cat "$work/edit-file.orig"; echo; printf 'var benchEdit string\n\nfunc init() { benchEdit = "%s" }\n' "bazel-$RANDOM-$i"; } >"$edit_file"
  t0=$(now); tools/bazel --output_base="$ob" build //image --disk_cache= >"$work/edit.log" 2>&1 || { cat "$work/edit.log" >&2; exit 2; }; t1=$(now)
  bz+=("$(secs "$t0" "$t1")")
  { cat "$work/edit-file.orig"; echo; printf 'var benchEdit string\n\nfunc init() { benchEdit = "%s" }\n' "go-$RANDOM-$i"; } >"$edit_file"
  t0=$(now); CGO_ENABLED=0 GOFLAGS=-trimpath "$sdk_go" build -o "$gobin" ./server/cmd/cat-server; t1=$(now)
  gb+=("$(secs "$t0" "$t1")")
  # The same binary as the image's: symbol table kept, no DWARF (.bazelrc's -w).
  { cat "$work/edit-file.orig"; echo; printf 'var benchEdit string\n\nfunc init() { benchEdit = "%s" }\n' "gow-$RANDOM-$i"; } >"$edit_file"
  t0=$(now); CGO_ENABLED=0 GOFLAGS=-trimpath "$sdk_go" build -ldflags=-w -o "$gobin" ./server/cmd/cat-server; t1=$(now)
  gbw+=("$(secs "$t0" "$t1")")
  if [ -n "$ko_ok" ]; then
    { cat "$work/edit-file.orig"; echo; printf 'var benchEdit string\n\nfunc init() { benchEdit = "%s" }\n' "ko-$RANDOM-$i"; } >"$edit_file"
    t0=$(now); ko_build; t1=$(now)
    kb+=("$(secs "$t0" "$t1")")
  fi
  echo "edit $i: bazel //image ${bz[-1]}s, go build ${gb[-1]}s, go build -ldflags=-w ${gbw[-1]}s${ko_ok:+, ko build ${kb[-1]}s}" >&2
done
cp "$work/edit-file.orig" "$edit_file"
tools/bazel --output_base="$ob" build //image --disk_cache= >/dev/null 2>&1   # back to the committed source
bz_med=$(printf '%s\n' "${bz[@]}" | median)
gb_med=$(printf '%s\n' "${gb[@]}" | median)
gbw_med=$(printf '%s\n' "${gbw[@]}" | median)
ratio=$(awk -v a="$bz_med" -v b="$gb_med" 'BEGIN{printf "%.2f", a/b}')
ratio_w=$(awk -v a="$bz_med" -v b="$gbw_med" 'BEGIN{printf "%.2f", a/b}')
ko_line="not measured (KO=0, or ko or docker-registry could not be installed)"
if [ -n "$ko_ok" ]; then
  kb_med=$(printf '%s\n' "${kb[@]}" | median)
  ratio_k=$(awk -v a="$bz_med" -v b="$kb_med" 'BEGIN{printf "%.2f", a/b}')
  ko_line="median **${kb_med} s**: Bazel takes **${ratio_k}×** ko's time (ko build: ${kb[*]})"
fi
echo "edit->image median ${bz_med}s, go build median ${gb_med}s: ${ratio}x; go build -ldflags=-w median ${gbw_med}s: ${ratio_w}x; ko: ${kb_med:-n/a}s" >&2
edit_actions=$(grep -E 'processes' "$work/edit.log" | tail -1 || true)

# 4. Second clone through the default disk cache.
clone_line="skipped (SKIP_CLONE=1)"; clone_phases=""
if [ -z "${SKIP_CLONE:-}" ]; then
  for n in 1 2; do
    rm -rf "$work/clone$n"
    git clone -q "$repo" "$work/clone$n"
    ob="$work/clone$n-ob"; output_bases+=("$ob")
    t0=$(now)
    (cd "$work/clone$n" && tools/bazel ${BENCH_CLONE_BAZELRC:+--bazelrc="$BENCH_CLONE_BAZELRC"} --output_base="$ob" build //image --profile="$work/clone$n.profile.gz" >"$work/clone$n.log" 2>&1) \
      || { cat "$work/clone$n.log" >&2; exit 2; }
    t1=$(now)
    eval "clone${n}_time=$(secs "$t0" "$t1")"
    eval "clone${n}_procs=\"$(grep -E 'processes' "$work/clone$n.log" | tail -1)\""
    (cd "$work/clone$n" && tools/bazel --output_base="$ob" analyze-profile "$work/clone$n.profile.gz" 2>/dev/null) \
      | sed -n '/=== PHASE SUMMARY INFORMATION ===/,/Total run time/p' | grep -E 'phase|Total' >"$work/clone$n.phases" || true
    (cd "$work/clone$n" && tools/bazel --output_base="$ob" shutdown >/dev/null 2>&1) || true
  done
  clone_phases=$(cat "$work/clone2.phases")
  clone_line="first clone ${clone1_time}s ($clone1_procs); second clone ${clone2_time}s ($clone2_procs)"
  echo "clones: $clone_line" >&2
fi

# 5. Team cache: filled by one clone, read by another (fresh output bases, no disk cache).
team_line="skipped (TEAM=0)"; team_time=
if [ "${TEAM:-1}" != 0 ]; then
  team_line="not measured (the cache could not be set up: see above)"
  # nginx's workers (www-data when started as root) cannot enter a home directory.
  cache_dir=$(mktemp -d -t cat-server-bench-cache.XXXXXX); chmod 755 "$cache_dir"
  (umask 077; head -c 24 /dev/urandom | base64 | tr -d '/+=' >"$cache_dir/pw"
   printf 'machine 127.0.0.1\nlogin ci\npassword %s\n' "$(cat "$cache_dir/pw")" >"$work/team.netrc")
  cache_port=$((20000 + RANDOM % 20000))
  tools/remotecache/setup.sh --dir "$cache_dir/c" --listen "127.0.0.1:$cache_port" --writer ci \
    --writer-password-file "$cache_dir/pw" --every 1h --run >"$work/cache.log" 2>&1 &
  cache_pid=$!
  for _ in $(seq 150); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$cache_port/cas/0")" = 404 ] && break
    sleep 0.2
  done
  if kill -0 "$cache_pid" 2>/dev/null; then
    for n in 3 4; do
      rm -rf "$work/clone$n"
      git clone -q "$repo" "$work/clone$n"
      ob="$work/clone$n-ob"; output_bases+=("$ob")
      cfg=--config=remote-cache; [ "$n" = 3 ] && cfg=--config=remote-cache-ci
      t0=$(now)
      (cd "$work/clone$n" && NETRC="$work/team.netrc" tools/bazel ${BENCH_CLONE_BAZELRC:+--bazelrc="$BENCH_CLONE_BAZELRC"} --output_base="$ob" \
        build //image --disk_cache= "$cfg" --remote_cache="http://127.0.0.1:$cache_port" >"$work/clone$n.log" 2>&1) \
        || { cat "$work/clone$n.log" >&2; exit 2; }
      t1=$(now)
      eval "clone${n}_time=$(secs "$t0" "$t1")"
      eval "clone${n}_procs=\"$(grep -E 'processes' "$work/clone$n.log" | tail -1)\""
      (cd "$work/clone$n" && tools/bazel --output_base="$ob" shutdown >/dev/null 2>&1) || true
    done
    team_time=$clone4_time
    team_bytes=$(du -sb "$cache_dir/c/store" | cut -f1)
    team_line="filled by a clone with --config=remote-cache-ci in ${clone3_time}s (${clone3_procs#INFO: }; ${team_bytes} bytes stored); new clone from it ${clone4_time}s (${clone4_procs#INFO: })"
  else
    cat "$work/cache.log" >&2
  fi
  echo "team cache: $team_line" >&2
fi

# 6. Cold go build: the unit of the ratios.
gocache=$(mktemp -d "$work/gocache.XXXXXX")
t0=$(now)
(cd "$repo" && GOCACHE="$gocache" CGO_ENABLED=0 GOFLAGS=-trimpath "$sdk_go" build -o "$gobin" ./server/cmd/cat-server)
t1=$(now)
gocold=$(secs "$t0" "$t1")
rm -rf "$gocache"
ratio_of() { if [ -n "$1" ]; then awk -v a="$1" -v b="$gocold" 'BEGIN{printf "%.2f×", a/b}'; else echo "n/a"; fi; }
echo "cold go build (empty GOCACHE): ${gocold}s" >&2

load_after=$(uptime)
cat <<EOT

### $(date -u '+%Y-%m-%d %H:%M UTC'), \`bench/build.sh\` (EDITS=$EDITS)

- load before: \`${load_before#*load average: }\`, after: \`${load_after#*load average: }\` (2 cores)
- cold \`//image\` (fresh output base, \`--disk_cache=\`): **${cold} s**; ${critical#INFO: }; GoStdlib actions: ${stdlibs:-?}
- no-op rebuild: **${noop} s**
- edit → \`//image\`: median **${bz_med} s** vs \`go build\` **${gb_med} s** (same edit, pinned SDK): **${ratio}×**; vs \`go build -ldflags=-w\` (the image's binary: no DWARF) **${gbw_med} s**: **${ratio_w}×** (bazel: ${bz[*]}; go build: ${gb[*]}; go build -ldflags=-w: ${gbw[*]}; ${edit_actions#INFO: })
- edit → image with \`ko build --push=false\` (same edit, same base, pinned SDK): ${ko_line}
- second clone: ${clone_line}
- team cache: ${team_line}
- cold \`go build\` (empty GOCACHE, pinned SDK, \`-trimpath\`): **${gocold} s**. As ratios to it: cold \`//image\` **$(ratio_of "$cold")**, new clone from the team cache **$(ratio_of "$team_time")**, from the disk cache (second clone) **$(ratio_of "${clone2_time:-}")**, edit → \`//image\` **$(ratio_of "$bz_med")**

Cold build phases (\`bazel analyze-profile\`):

\`\`\`
${phases}
\`\`\`

Second clone phases:

\`\`\`
${clone_phases:-}
\`\`\`
EOT
