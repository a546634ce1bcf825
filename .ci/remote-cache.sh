#!/usr/bin/env bash
# CI: the team build cache (README "Sharing the cache across a team") against a real
# server: tools/remotecache/setup.sh runs nginx (WebDAV) on 127.0.0.1 with a writer
# password made up for the run, and two clones of this checkout's HEAD, each with its own
# output base and no disk cache (--disk_cache=), check that
#   1. clone A builds //... with --config=remote-cache-ci and fills the cache;
#   2. clone B (another path, fresh output base, no credentials) builds //image and
#      //image:index with --config=remote-cache: >= 99% of its actions are remote cache
#      hits, and the digests are A's;
#   3. B uploads nothing: no PUT in nginx's access log while B builds (here and below);
#   4. the cache stopped in the middle of B's build of an edit: the build succeeds locally,
#      with a warning; so does the next edit with the cache down (no "Failed to fetch
#      blobs"), and going back to HEAD gives A's digest again;
#   5. a blob of the image corrupted on the server: B (after `bazel clean`) detects it,
#      rebuilds, and the image has A's digest;
#   6. A with a wrong password: its build succeeds, Bazel warns, nginx refuses the PUTs
#      and nothing is stored;
#   7. cacheevict with a cap below the store's size, every second while A builds and
#      uploads an edit and B builds it from the cache: the store stays under the cap
#      after each pass, both builds succeed, B gets >= 99% hits (the least recently used
#      entries went, not A's new ones) and A's digest.
# Prints "remote-cache: PASSED|FAILED <check>" per check, then the figures, then
# "remote-cache: N passed, N failed" last (counted by .ci/run). Needs root on a machine
# without nginx-light and apache2-utils (it installs them). Most of its time is clone A's
# cold //... (971 actions, no disk cache: 5 min on 2 cores at load ~7, 9-11 min at load
# 15-20); the rest takes 2-3 min.
#   .ci/remote-cache.sh
#   KEEP_LOGS=DIR .ci/remote-cache.sh     # keeps the builds' and nginx's logs in DIR
set -uo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

passed=0 failed=0
pass() { passed=$((passed + 1)); echo "remote-cache: PASSED $*"; }
fail() { failed=$((failed + 1)); echo "remote-cache: FAILED $*"; }
finish() {
  echo "remote-cache: $passed passed, $failed failed"
  [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
  exit
}

if ! tools/provision/install-cache-server.sh >&2; then
  fail "setup: nginx-light and apache2-utils are needed (tools/provision/install-cache-server.sh, as root)"
  finish
fi

# Clones and output bases under the user's cache directory (not /tmp: Bazel's sandbox
# mounts an empty /tmp over it); the server's directory in $TMPDIR (mktemp; nginx's workers run as
# www-data when started as root, and cannot enter a home directory).
work=${XDG_CACHE_HOME:-$HOME/.cache}/cat-server-ci/remote-cache.$$
srv=$(mktemp -d -t cat-server-cache.XXXXXX)
chmod 755 "$srv"
mkdir -p "$work"
server_pid=
evict_pid=
cleanup() {
  [ -n "$evict_pid" ] && kill "$evict_pid" 2>/dev/null
  stop_cache
  local ob
  for ob in "$work"/*-ob; do
    [ -d "$ob" ] && (cd "$repo" && tools/bazel --output_base="$ob" shutdown >/dev/null 2>&1)
  done
  if [ -n "${KEEP_LOGS:-}" ]; then   # KEEP_LOGS=DIR: keep Bazel's and nginx's logs there
    mkdir -p "$KEEP_LOGS" && cp "$work"/*.log "$srv/cache/log/"*.log "$KEEP_LOGS/" 2>/dev/null
  fi
  chmod -R u+w "$work" 2>/dev/null
  rm -rf "$work" "$srv"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Credentials made up for this run, only in $srv and $work (removed on exit).
umask 077
head -c 24 /dev/urandom | base64 | tr -d '/+=' >"$srv/writer.pw"
port=
url=
umask 022

stop_cache() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null
    wait "$server_pid" 2>/dev/null
    server_pid=
  fi
}
start_cache() {
  local i
  for _ in 1 2 3; do
    port=${port:-$((20000 + RANDOM % 20000))}
    tools/remotecache/setup.sh --dir "$srv/cache" --listen "127.0.0.1:$port" --writer ci \
      --writer-password-file "$srv/writer.pw" --max-body 512m --every 1h --run >>"$srv/setup.log" 2>&1 &
    server_pid=$!
    for i in $(seq 100); do
      if [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/cas/$(printf '%064d' 0)")" = 404 ]; then
        url=http://127.0.0.1:$port
        return 0
      fi
      kill -0 "$server_pid" 2>/dev/null || break
      sleep 0.2
    done
    stop_cache
    port=   # taken: another one
  done
  cat "$srv/setup.log" >&2
  return 1
}

netrc() { # FILE PASSWORD
  umask 077
  printf 'machine 127.0.0.1\nlogin ci\npassword %s\n' "$2" >"$1"
  umask 022
}
netrc "$work/writer.netrc" "$(cat "$srv/writer.pw")"
netrc "$work/wrong.netrc" "not-the-password"
: >"$work/none.netrc"

# bz CLONE NETRC ARGS...: tools/bazel in a clone, its own output base, no disk cache.
bz() {
  local clone=$1 nrc=$2; shift 2
  local cmd=$1; shift
  (cd "$work/$clone" && NETRC=$nrc tools/bazel --output_base="$work/$clone-ob" "$cmd" \
    --disk_cache= --color=no --curses=no "$@")
}
# digest_of CLONE TARGET: the digest file a build left.
digest_of() {
  local f
  # config(..., target): the top-level configuration only; a clone that built //... also
  # has //image under //image/stamptest's --stamp transition.
  f=$(bz "$1" "$work/none.netrc" cquery --output=files "config($2, target)" 2>/dev/null) || return 1
  cat "$work/$1-ob/execroot/_main/$f"
}
loglines() { wc -l <"$srv/cache/log/cache.log" 2>/dev/null || echo 0; }
# puts_since N: access-log lines after line N that are PUTs (any status).
puts_since() { tail -n +"$(($1 + 1))" "$srv/cache/log/cache.log" | awk '$2=="PUT"' | wc -l; }
stored() { du -sb "$srv/cache/store" | cut -f1; }
# procs LOG: Bazel's "INFO: N processes: ..." line.
procs() { grep -E '^INFO: [0-9]+ process' "$1" | tail -1; }
# hit_pct LOG: remote cache hits as a percentage of the non-internal processes.
hit_pct() {
  procs "$1" | awk '{
    n=$2; hits=0; internal=0
    for (i=3;i<=NF;i++) { if ($(i+1)=="remote" && $(i+2) ~ /^cache/) hits=$i+0; if ($(i+1) ~ /^internal/) internal=$i+0 }
    if (n-internal>0) printf "%.1f", 100*hits/(n-internal); else print 0 }'
}
edit() { # CLONE TEXT: a one-line change in the server's main package (from HEAD's file)
  restore "$1"
  printf '\nvar ciEdit string\n\nfunc init() { ciEdit = "%s" }\n' "$2" >>"$work/$1/server/cmd/cat-server/main.go"
}
restore() { git -C "$work/$1" checkout -q -- server/cmd/cat-server/main.go; }

if ! start_cache; then
  fail "setup: the cache did not start (above)"
  finish
fi
echo "remote-cache: cache at $url (store $srv/cache/store)" >&2
rc_flags=(--remote_cache="$url")

git clone -q "$repo" "$work/a" && git clone -q "$repo" "$work/b" || { fail "setup: git clone"; finish; }

# 1. Clone A fills the cache.
t0=$(date +%s)
if bz a "$work/writer.netrc" build //... --config=remote-cache-ci "${rc_flags[@]}" >"$work/a1.log" 2>&1; then
  a_secs=$(($(date +%s) - t0))
  full_bytes=$(stored)
  puts=$(awk '$2=="PUT" && $4==201' "$srv/cache/log/cache.log" | wc -l)
  if [ "$puts" -gt 0 ]; then
    pass "1 clone A built //... with --config=remote-cache-ci in ${a_secs}s and stored $puts entries, $full_bytes bytes"
  else
    fail "1 clone A built //... but stored nothing (no PUT 201 in the access log)"
  fi
else
  tail -30 "$work/a1.log"; fail "1 clone A: bazel build //... --config=remote-cache-ci failed"; finish
fi
want_image=$(digest_of a //image:image.digest)
want_index=$(digest_of a //image:index.digest)

# 2-3. Clone B from the cache.
before=$(loglines)
t0=$(date +%s)
if bz b "$work/none.netrc" build //image //image:index //image:image.digest //image:index.digest \
  --config=remote-cache "${rc_flags[@]}" >"$work/b1.log" 2>&1; then
  b_secs=$(($(date +%s) - t0))
  pct=$(hit_pct "$work/b1.log")
  got_image=$(digest_of b //image:image.digest)
  got_index=$(digest_of b //image:index.digest)
  if awk -v p="$pct" 'BEGIN{exit !(p >= 99)}' && [ "$got_image" = "$want_image" ] && [ "$got_index" = "$want_index" ]; then
    pass "2 clone B: //image and //image:index in ${b_secs}s, ${pct}% from the cache ($(procs "$work/b1.log" | sed 's/^INFO: //')), digests $got_image and $got_index as A's"
  else
    fail "2 clone B: ${pct}% from the cache ($(procs "$work/b1.log")), image $got_image (A: $want_image), index $got_index (A: $want_index)"
  fi
else
  tail -30 "$work/b1.log"; fail "2 clone B: the build from the cache failed"
fi
b_puts=$(puts_since "$before")

# 4. The cache stopped in the middle of an edit's build, then down for the next edit.
edit b "stopped-$$"
before=$(loglines)
bz b "$work/none.netrc" build //image //image:image.digest --config=remote-cache "${rc_flags[@]}" >"$work/b2.log" 2>&1 &
build_pid=$!
for _ in $(seq 300); do   # stop it at its first cache lookup (30 s at most)
  [ "$(loglines)" -gt "$before" ] && break
  sleep 0.1
done
lookups=$(($(loglines) - before))
b_puts=$((b_puts + $(puts_since "$before")))
stop_cache
wait "$build_pid"; rc=$?
if [ "$rc" -eq 0 ] && [ "$lookups" -gt 0 ] && grep -q '^WARNING: .*[Rr]emote' "$work/b2.log"; then
  pass "4a cache stopped after ${lookups} lookup(s) of B's edit build: built locally, warning: $(grep -m1 '^WARNING: .*[Rr]emote' "$work/b2.log" | cut -c1-160)"
else
  tail -30 "$work/b2.log"; fail "4a cache stopped mid-build: rc $rc, $lookups lookups before the stop, warning: $(grep -c '^WARNING: .*[Rr]emote' "$work/b2.log")"
fi
edit b "down-$$"
if bz b "$work/none.netrc" build //image //image:image.digest --config=remote-cache "${rc_flags[@]}" >"$work/b3.log" 2>&1 \
  && ! grep -q 'Failed to fetch blobs' "$work/b3.log"; then
  restore b
  if bz b "$work/none.netrc" build //image //image:image.digest --config=remote-cache "${rc_flags[@]}" >"$work/b4.log" 2>&1 \
    && [ "$(digest_of b //image:image.digest)" = "$want_image" ]; then
    pass "4b next edit with the cache down built locally ($(procs "$work/b3.log" | sed 's/^INFO: //')); back at HEAD: A's digest"
  else
    tail -20 "$work/b4.log"; fail "4b back at HEAD with the cache down: build failed or digest $(digest_of b //image:image.digest) is not A's $want_image"
  fi
else
  tail -30 "$work/b3.log"; fail "4b edit with the cache down: the build failed"
  restore b
fi
start_cache || { fail "setup: the cache did not start again"; finish; }
rc_flags=(--remote_cache="$url")

# 5. A corrupted blob: the largest blob of //image (its app layer) is one CAS entry.
layout=$(bz a "$work/none.netrc" cquery --output=files "config(//image, target)" 2>/dev/null)
blob=$(ls -S "$work/a-ob/execroot/_main/$layout/blobs/sha256/" | while read -r h; do
  [ -f "$srv/cache/store/cas/$h" ] && { echo "$h"; break; }; done)
if [ -n "$blob" ]; then
  size=$(stat -c %s "$srv/cache/store/cas/$blob")
  head -c "$size" /dev/urandom >"$srv/cache/store/cas/$blob"
  before=$(loglines)
  bz b "$work/none.netrc" clean >/dev/null 2>&1
  if bz b "$work/none.netrc" build //image //image:image.digest --config=remote-cache "${rc_flags[@]}" >"$work/b5.log" 2>&1; then
    got=$(digest_of b //image:image.digest)
    # Rebuilt: not every action came from the cache.
    if [ "$got" = "$want_image" ] && [ "$(hit_pct "$work/b5.log")" != 100.0 ]; then
      pass "5 blob $blob (${size} bytes) corrupted on the server: rebuilt ($(procs "$work/b5.log" | sed 's/^INFO: //')), digest $got as A's"
    else
      fail "5 corrupted blob $blob: digest $got (A: $want_image), $(procs "$work/b5.log")"
    fi
  else
    tail -30 "$work/b5.log"; fail "5 corrupted blob $blob: the build failed instead of rebuilding"
  fi
  b_puts=$((b_puts + $(puts_since "$before")))
else
  fail "5 no blob of //image found in the cache's store"
fi

if [ "$b_puts" -eq 0 ]; then
  pass "3 clone B (--config=remote-cache) sent no PUT in all its builds"
else
  fail "3 clone B sent $b_puts PUT requests"
fi

# 6. A with a wrong password.
edit a "wrong-password-$$"
before=$(loglines); entries=$(find "$srv/cache/store" -type f | wc -l)
if bz a "$work/wrong.netrc" build //image --config=remote-cache-ci "${rc_flags[@]}" >"$work/a2.log" 2>&1; then
  refused=$(tail -n +"$((before + 1))" "$srv/cache/log/cache.log" | awk '$2=="PUT" && $4==401' | wc -l)
  stored_now=$(tail -n +"$((before + 1))" "$srv/cache/log/cache.log" | awk '$2=="PUT" && $4==201' | wc -l)
  # Bazel's warning may span lines: the first line naming the remote cache, and a 401.
  warn=$(grep -m1 -E '^WARNING: .*[Rr]emote [Cc]ache' "$work/a2.log" | cut -c1-120)
  [ -n "$(grep -m1 -E '(HttpException|[^0-9:])401 ' "$work/a2.log")" ] || warn=''
  warn401=$(grep -m1 -E '(HttpException|[^0-9:])401 ' "$work/a2.log" | cut -c1-120)
  if [ "$refused" -gt 0 ] && [ "$stored_now" -eq 0 ] && [ -n "$warn" ] && [ "$(find "$srv/cache/store" -type f | wc -l)" -eq "$entries" ]; then
    pass "6 wrong password: the build succeeded, $refused PUTs refused (401), nothing stored, warning: $warn ... $warn401"
  else
    fail "6 wrong password: $refused PUTs refused, $stored_now stored, warning: '${warn}'"
  fi
else
  tail -30 "$work/a2.log"; fail "6 wrong password broke the writer's build"
fi
restore a

# 7. Eviction while A uploads an edit and B reads it.
cap=$(( $(stored) * 7 / 10 ))
"$srv/cache/bin/cacheevict" -store "$srv/cache/store" -log "$srv/cache/log/cache.log" \
  -state "$srv/evict.offset" -cap "$cap" -protect 0s -every 1s >"$work/evict.log" 2>&1 &
evict_pid=$!
edit a "evict-$$"; edit b "evict-$$"
t0=$(date +%s)
before=$(loglines)
if bz a "$work/writer.netrc" build //image //image:image.digest --config=remote-cache-ci "${rc_flags[@]}" >"$work/a3.log" 2>&1 \
  && edit_bytes=$(tail -n +"$((before + 1))" "$srv/cache/log/cache.log" | awk '$2=="PUT" && $4==201' | cut -d' ' -f3 \
      | while read -r p; do stat -c %s "$srv/cache/store$p" 2>/dev/null || echo 0; done | awk '{s+=$1} END{print s+0}') \
  && bz b "$work/none.netrc" build //image //image:image.digest --config=remote-cache "${rc_flags[@]}" >"$work/b6.log" 2>&1; then
  sleep 2   # one more pass after the builds
  kill "$evict_pid"; wait "$evict_pid" 2>/dev/null; evict_pid=
  over=$(awk '/bytes left/ { for (i=1;i<=NF;i++) if ($(i+1)=="bytes" && $(i+2)=="left") if ($i+0 > cap) print }' cap="$cap" "$work/evict.log" | wc -l)
  passes=$(grep -c 'removed' "$work/evict.log")
  a_d=$(digest_of a //image:image.digest); b_d=$(digest_of b //image:image.digest)
  if [ "$over" -eq 0 ] && [ "$passes" -gt 0 ] && [ "$(stored)" -le "$cap" ] && [ "$a_d" = "$b_d" ] \
    && awk -v p="$(hit_pct "$work/b6.log")" 'BEGIN{exit !(p >= 99)}'; then
    pass "7 eviction (cap $cap bytes, 70% of the store): $passes passes removed entries, store $(stored) bytes after, both builds fine in $(($(date +%s) - t0))s, B $(hit_pct "$work/b6.log")% hits ($(procs "$work/b6.log" | sed 's/^INFO: //')), digest $b_d as A's"
  else
    fail "7 eviction: $over passes over the cap $cap, $passes passes, store $(stored), A $a_d / B $b_d, B $(procs "$work/b6.log")"; tail -5 "$work/evict.log"
  fi
else
  tail -30 "$work/a3.log" "$work/b6.log" 2>/dev/null; fail "7 a build failed while eviction ran"
fi

echo "remote-cache: figures: full //... stored ${full_bytes:-?} bytes (clone A, ${a_secs:-?} s cold); an edit of server/cmd/cat-server stored ${edit_bytes:-?} bytes; clone B from the cache ${b_secs:-?} s"
finish
