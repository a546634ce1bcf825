#!/usr/bin/env bash
# Measures the cat-server container at run time against the targets of the original
# Docker design:
#   start-up         < 2 s    docker run invoked -> first HTTP 200 from /healthz
#   memory           < 32 MB  docker stats MemUsage after a few requests
#   healthcheck      < 3 s    End - Start of the Docker HEALTHCHECK runs (State.Health.Log),
#                             and the wall time of `docker exec CID /app/cat-server healthcheck`
#   graceful stop    exit 0   docker stop (SIGTERM) -> exit code 0, with its duration
#
#   bench/runtime.sh                    # 5 runs
#   RUNS=10 bench/runtime.sh            # more runs
#   HEALTH_CHECKS=3 bench/runtime.sh    # Docker health checks to wait for per run (default 3)
#
# It loads the image with `tools/bazel run //image:load` (as cat-server:latest), then per
# run serves a fresh temporary directory with
#   docker run -d --read-only --cap-drop ALL --memory 64m -v DIR:/srv:ro \
#     -p 127.0.0.1::8080 --health-interval 1s cat-server:latest
# All traffic goes to 127.0.0.1. Memory is also read from the container's cgroup (v1:
# memory.usage_in_bytes, memory.max_usage_in_bytes, rss from memory.stat) and from the
# server process's VmRSS, for information. Prints a per-run table and min/median/max next
# to each target; a missed target prints MISSED but does not fail the script: it exits
# non-zero only when Docker, Bazel or the tooling fails. Containers and temporary
# directories are removed on exit.
set -euo pipefail

RUNS=${RUNS:-5}
HEALTH_CHECKS=${HEALTH_CHECKS:-3}
IMAGE=cat-server:latest
READY_CAP_S=10        # give up waiting for the first 200 after this long
HEALTH_CAP_S=20       # give up waiting for HEALTH_CHECKS health-log entries after this long
REQUESTS=20           # requests made before reading memory

case "$RUNS$HEALTH_CHECKS" in *[!0-9]*) echo "runtime: RUNS and HEALTH_CHECKS must be numbers" >&2; exit 2 ;; esac
if [ "$RUNS" -lt 1 ] || [ "$HEALTH_CHECKS" -lt 1 ] || [ "$HEALTH_CHECKS" -gt 5 ]; then
  echo "runtime: need RUNS >= 1 and 1 <= HEALTH_CHECKS <= 5 (Docker keeps 5 log entries)" >&2
  exit 2
fi
for tool in docker curl python3; do
  command -v "$tool" >/dev/null || { echo "runtime: $tool is not on PATH" >&2; exit 2; }
done

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

containers=()
tmpdirs=()
cleanup() {
  local c d
  for c in "${containers[@]}"; do docker rm -f "$c" >/dev/null 2>&1 || true; done
  for d in "${tmpdirs[@]}"; do rm -rf "$d"; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now_us() { echo "${EPOCHREALTIME//[!0-9]/}"; }     # wall clock, microseconds (bash 5; any locale)
ms_since() { echo $(( ($(now_us) - $1) / 1000 )); }  # <start_us> -> elapsed ms

# Python: ts(), an RFC 3339 timestamp with nanoseconds (as Docker and cat-server write
# them) -> seconds since the epoch.
PY_TS='
import re, sys
from datetime import datetime
def ts(s):
    m = re.fullmatch(r"(\S+?)(\.\d+)?(Z|[+-]\d\d:\d\d)", s)
    t = datetime.fromisoformat(m.group(1) + m.group(3).replace("Z", "+00:00")).timestamp()
    return t + float("0" + (m.group(2) or ".0"))
'

# Bytes from a docker stats figure such as "9.496MiB" or "812kB".
to_bytes() {
  python3 - "$1" <<'PY'
import re, sys
m = re.fullmatch(r"([0-9.]+)\s*([KMGT]?i?B|[kKMGT]?B)", sys.argv[1].strip())
if not m:
    sys.exit("runtime: cannot read memory figure %r" % sys.argv[1])
n, u = float(m.group(1)), m.group(2)
p = {"": 0, "k": 1, "K": 1, "M": 2, "G": 3, "T": 4}[u[0] if u[0] != "B" else ""]
print(int(n * ((1024 if "i" in u else 1000) ** p)))
PY
}

# Milliseconds (1 decimal) from the container's start (.State.StartedAt) to the server's
# "cat-server started" log line: start-up inside the container, without Docker's own
# container set-up. Reads `docker logs` (JSON lines) on stdin.
#   server_start_ms <StartedAt>
server_start_ms() {
  python3 -c "$PY_TS"'
import json
started = ts(sys.argv[1])
for line in sys.stdin:
    try:
        rec = json.loads(line)
    except ValueError:
        continue
    if rec.get("msg") == "cat-server started":
        print("%.1f" % ((ts(rec["time"]) - started) * 1000))
        break
else:
    print("-")
' "$1"
}

# Durations (ms, 1 decimal) and exit codes of the health-log entries, from the JSON
# of .State.Health on stdin: "<count> <max_ms> <exit codes, comma-separated> <ok|fail>".
health_summary() {
  python3 -c "$PY_TS"'
import json
h = json.load(sys.stdin) or {}
log = h.get("Log") or []
if not log:
    print("0 - - -")
else:
    d = [(ts(e["End"]) - ts(e["Start"])) * 1000 for e in log]
    codes = [e["ExitCode"] for e in log]
    print(len(log), "%.1f" % max(d), ",".join(map(str, codes)), "ok" if not any(codes) else "fail")
'
}

cgroup_file() {  # <container id> <file>: cgroup v1 (cgroupfs or systemd driver), or nothing
  local f
  for f in "/sys/fs/cgroup/memory/docker/$1/$2" "/sys/fs/cgroup/memory/system.slice/docker-$1.scope/$2"; do
    if [ -r "$f" ]; then echo "$f"; return; fi
  done
}

echo "== tools/bazel run //image:load" >&2
(cd "$repo" && tools/bazel run //image:load) >&2
image_id=$(docker image inspect -f '{{.Id}}' "$IMAGE")
image_size=$(docker image inspect -f '{{.Size}}' "$IMAGE")
echo "== $IMAGE $image_id ($image_size bytes in Docker); $RUNS runs" >&2

results=$(mktemp)
tmpdirs+=("$results")
printf 'run\tdocker_run_ms\tserver_ms\tready_ms\tstats_mb\tcg_usage_mb\tcg_peak_mb\tcg_rss_mb\tvmrss_mb\thealth_log_ms\thealth_exec_ms\tstop_ms\texit\n' >"$results"

mb() { python3 -c 'import sys; print("%.2f" % (int(sys.argv[1]) / 1e6))' "$1"; }

for run in $(seq 1 "$RUNS"); do
  srv=$(mktemp -d)
  tmpdirs+=("$srv")
  echo "hello from cat-server bench run $run" >"$srv/hello.txt"
  chmod 0755 "$srv"; chmod 0644 "$srv/hello.txt"   # readable by the image's user (1000)

  # --- start-up: docker run invoked -> first 200 from /healthz ---------------------
  t0=$(now_us)
  cid=$(docker run -d --read-only --cap-drop ALL --memory 64m \
          -v "$srv:/srv:ro" -p 127.0.0.1::8080 --health-interval 1s "$IMAGE")
  containers+=("$cid")
  docker_run_ms=$(ms_since "$t0")
  hostport=$(docker port "$cid" 8080/tcp | grep -m1 '^127\.0\.0\.1:')
  port=${hostport##*:}
  base="http://127.0.0.1:$port"

  ready_ms=timeout
  for _ in $(seq 1 1000); do   # 1000 polls x >= 10 ms, and the time cap below
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$base/healthz" || true)
    if [ "$code" = 200 ]; then ready_ms=$(ms_since "$t0"); break; fi
    [ $(( $(now_us) - t0 )) -lt $((READY_CAP_S * 1000000)) ] || break
    sleep 0.01
  done

  started_at=$(docker inspect -f '{{.State.StartedAt}}' "$cid")
  server_ms=$(docker logs "$cid" 2>&1 | server_start_ms "$started_at")

  stats_mb=- cg_usage_mb=- cg_peak_mb=- cg_rss_mb=- vmrss_mb=- health_log_ms=- health_exec_ms=-
  if [ "$ready_ms" = timeout ]; then
    echo "run $run: no 200 from /healthz within ${READY_CAP_S}s; container log:" >&2
    docker logs "$cid" >&2 || true
  else
    # --- memory, after a few requests -----------------------------------------------
    for _ in $(seq 1 "$REQUESTS"); do
      body=$(curl -sf --max-time 2 "$base/hello.txt") \
        || { echo "runtime: GET /hello.txt failed" >&2; exit 1; }
      [ "$body" = "hello from cat-server bench run $run" ] \
        || { echo "runtime: GET /hello.txt returned unexpected content: $body" >&2; exit 1; }
      curl -sf --max-time 2 -o /dev/null "$base/healthz" || { echo "runtime: GET /healthz failed" >&2; exit 1; }
    done
    usage=$(docker stats --no-stream --format '{{.MemUsage}}' "$cid")   # "9.5MiB / 64MiB"
    stats_mb=$(mb "$(to_bytes "${usage%%/*}")")
    if f=$(cgroup_file "$cid" memory.usage_in_bytes) && [ -n "$f" ]; then
      cg_usage_mb=$(mb "$(cat "$f")")
      cg_peak_mb=$(mb "$(cat "${f%/*}/memory.max_usage_in_bytes")")
      cg_rss_mb=$(mb "$(awk '$1 == "rss" {print $2}' "${f%/*}/memory.stat")")
    fi
    pid=$(docker inspect -f '{{.State.Pid}}' "$cid")
    if [ -r "/proc/$pid/status" ]; then
      vmrss_mb=$(mb "$(awk '$1 == "VmRSS:" {print $2 * 1024}' "/proc/$pid/status")")
    fi

    # --- healthcheck: Docker's own runs, then one by hand -----------------------------
    hsum="0 - - -"
    for _ in $(seq 1 $((HEALTH_CAP_S * 10))); do   # every 100 ms, up to HEALTH_CAP_S
      hsum=$(docker inspect -f '{{json .State.Health}}' "$cid" | health_summary)
      [ "${hsum%% *}" -ge "$HEALTH_CHECKS" ] && break
      [ $(( $(now_us) - t0 )) -lt $(( (HEALTH_CAP_S + 2) * 1000000)) ] || break
      sleep 0.1
    done
    read -r hcount hmax hcodes hok <<<"$hsum"
    if [ "$hcount" -ge 1 ]; then
      health_log_ms=$hmax
      if [ "$hok" != ok ]; then
        echo "run $run: health check exit codes $hcodes (not all 0)" >&2
        health_log_ms="$hmax(fail)"
      fi
    else
      echo "run $run: no Docker health check ran within ${HEALTH_CAP_S}s" >&2
      health_log_ms=none
    fi
    t1=$(now_us)
    if docker exec "$cid" /app/cat-server healthcheck; then
      health_exec_ms=$(ms_since "$t1")
    else
      health_exec_ms="$(ms_since "$t1")(fail)"
    fi
  fi

  # --- graceful stop ------------------------------------------------------------------
  t2=$(now_us)
  docker stop "$cid" >/dev/null
  stop_ms=$(ms_since "$t2")
  exit_code=$(docker inspect -f '{{.State.ExitCode}}' "$cid")
  docker rm "$cid" >/dev/null

  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$run" "$docker_run_ms" "$server_ms" "$ready_ms" \
    "$stats_mb" "$cg_usage_mb" "$cg_peak_mb" "$cg_rss_mb" "$vmrss_mb" "$health_log_ms" \
    "$health_exec_ms" "$stop_ms" "$exit_code" >>"$results"
  echo "run $run: ready ${ready_ms} ms, docker stats ${stats_mb} MB, health ${health_log_ms} ms, stop ${stop_ms} ms, exit ${exit_code}" >&2
done

echo
echo "cat-server runtime benchmark: $RUNS runs, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, image $image_id"
echo
python3 - "$results" <<'PY'
import csv, re, statistics, sys

rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
cols = list(rows[0].keys())
# column -> (label, target description, predicate on a number or None)
meta = {
    "docker_run_ms":  ("docker run returned (ms)",            "info",     None),
    "server_ms":      ("container start -> server listening (ms)", "info", None),
    "ready_ms":       ("start-up: first 200 /healthz (ms)",   "< 2000",   lambda v: v < 2000),
    "stats_mb":       ("memory: docker stats (MB)",           "< 32",     lambda v: v < 32),
    "cg_usage_mb":    ("memory: cgroup usage (MB)",           "info",     None),
    "cg_peak_mb":     ("memory: cgroup peak usage (MB)",      "info",     None),
    "cg_rss_mb":      ("memory: cgroup rss/anon (MB)",        "info",     None),
    "vmrss_mb":       ("memory: server VmRSS (MB)",           "< 32",     lambda v: v < 32),
    "health_log_ms":  ("healthcheck: Docker log, max (ms)",   "< 3000",   lambda v: v < 3000),
    "health_exec_ms": ("healthcheck: docker exec (ms)",       "< 3000",   lambda v: v < 3000),
    "stop_ms":        ("docker stop (ms)",                    "info",     None),
    "exit":           ("exit code after docker stop",         "0",        lambda v: v == 0),
}

# A cell is a number, "-" (not measured: the server never answered, or the figure is not
# readable here) or anything else ("timeout", "none", "64(fail)"): a missed target.
def num(s):  # the number in a cell ("64(fail)" -> 64.0), or None
    m = re.match(r"[0-9]+(\.[0-9]+)?", s)
    return float(m.group(0)) if m else None

def failed(s):  # a cell that records a failure ("timeout", "64(fail)") rather than a figure
    return re.fullmatch(r"[0-9]+(\.[0-9]+)?", s) is None

# Per-run table, one column per run.
w = 42
print("%-*s %-8s" % (w, "measure", "target") + "".join("%10s" % ("run " + r["run"]) for r in rows))
for c in cols[1:]:
    print("%-*s %-8s" % (w, meta[c][0], meta[c][1]) + "".join("%10s" % r[c] for r in rows))

print()
print("%-*s %-8s %10s %10s %10s  %s" % (w, "measure", "target", "min", "median", "max", "verdict"))
missed = 0
for c in cols[1:]:
    label, target, ok = meta[c]
    cells = [r[c] for r in rows if r[c] != "-"]
    vals = [num(x) for x in cells]
    good = [v for v in vals if v is not None]
    unmeasured = len(rows) - len(cells)
    if good:
        lo, med, hi = min(good), statistics.median(good), max(good)
        fmt = (lambda v: "%g" % v) if c == "exit" else (lambda v: "%.2f" % v if "mb" in c else "%.1f" % v)
        stats = (fmt(lo), fmt(med), fmt(hi))
    else:
        stats = ("-", "-", "-")
    bad = 0 if ok is None else sum(1 for x in cells if failed(x) or not ok(num(x)))
    if ok is None:
        verdict = ""
    elif bad:
        verdict = "MISSED (%d of %d runs)" % (bad, len(rows))
        missed += 1
    elif not vals:
        verdict = "not measured"
    else:
        verdict = "ok"
    if unmeasured and ok is not None:
        verdict += " (%d runs not measured)" % unmeasured
    print("%-*s %-8s %10s %10s %10s  %s" % ((w, label, target) + stats + (verdict,)))
print()
print("targets missed: %d" % missed if missed else "all targets met")
PY
