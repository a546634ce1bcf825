#!/usr/bin/env bash
# throughput.sh: cat-server against nginx, side by side, on the same tree.
#
# Serves one generated tree from nginx (Debian nginx-light: 2 workers,
# sendfile on, access log off, keep-alive without a request limit,
# 127.0.0.1 only) and from the release cat-server binary, then runs wrk
# (-t2 -c64, on 127.0.0.1) in alternating pairs (nginx first on odd rounds,
# cat-server first on even ones) for three scenarios:
#   small   one 1 KiB file
#   rotate  1000 different 1 KiB files, the path rotating per request
#   large   one 1 MiB file
#   fill    200 different 48 KiB files (9.4 MiB, more than cat-server's
#           8 MiB cache), rotating: the worst case for cat-server's memory;
#           no target, for RSS (not in the default SCENARIOS)
# and prints, per run: req/s, p99 latency, server CPU per request (utime +
# stime deltas from /proc/PID/stat, all nginx processes summed), server RSS,
# errors (socket errors + non-2xx/3xx) and the load average; then per
# scenario the median cat-server/nginx req/s ratio and the target.
#
# Environment: DURATION (seconds per run, default 5), PAIRS (default 3),
# SCENARIOS (default "small rotate large"), NGINX_PORT (default 18080),
# CAT_PORT (default 18081), CAT_SERVER (a prebuilt binary; default: built
# here with go build, CGO_ENABLED=0 -trimpath as in the image).
#
# Installs nginx-light and wrk with apt-get when missing (needs root).
# Everything it creates lives in one temporary directory, removed on exit;
# both servers are stopped on exit.
set -euo pipefail

DURATION=${DURATION:-5}
PAIRS=${PAIRS:-3}
SCENARIOS=${SCENARIOS:-"small rotate large"}
NGINX_PORT=${NGINX_PORT:-18080}
CAT_PORT=${CAT_PORT:-18081}
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

die() { echo "throughput.sh: $*" >&2; exit 1; }
case $DURATION in ''|*[!0-9]*|0) die "DURATION=$DURATION: must be a whole number of seconds >= 1";; esac
case $PAIRS in ''|*[!0-9]*|0) die "PAIRS=$PAIRS: must be a whole number >= 1";; esac
[ "$DURATION" -le 120 ] || die "DURATION=$DURATION: at most 120 seconds per run"
for s in $SCENARIOS; do
	case $s in small|rotate|large|fill) ;; *) die "SCENARIOS: unknown scenario '$s' (small, rotate, large, fill)";; esac
done

if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ] || ! command -v wrk >/dev/null; then
	echo "installing nginx-light and wrk with apt-get" >&2
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light wrk >/dev/null
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

TMP=$(mktemp -d)
chmod 755 "$TMP" # nginx workers run as an unprivileged user
NGINX_PID=
CAT_PID=
cleanup() {
	[ -n "$CAT_PID" ] && kill "$CAT_PID" 2>/dev/null && wait "$CAT_PID" 2>/dev/null
	[ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null && wait "$NGINX_PID" 2>/dev/null
	[ -n "${KEEP_TMP:-}" ] && cat "$TMP"/nginx/stderr "$TMP"/nginx/error.log >&2; rm -rf "$TMP"
}
trap cleanup EXIT

# The tree.
SRV=$TMP/srv
mkdir -p "$SRV/r"
head -c 1024 /dev/urandom | base64 -w 64 | head -c 1024 >"$SRV/small.txt"
for i in $(seq 0 999); do
	cp "$SRV/small.txt" "$SRV/r/f$(printf %04d "$i").txt"
done
head -c 1048576 /dev/urandom >"$SRV/large.bin"
mkdir -p "$SRV/m"
head -c $((48 << 10)) /dev/urandom >"$SRV/m/f000.bin"
for i in $(seq 1 199); do
	cp "$SRV/m/f000.bin" "$SRV/m/f$(printf %03d "$i").bin"
done
# wrk scripts: each thread rotates through N paths.
rotate_script() { # file count format
	cat >"$1" <<EOF
local i = 0
request = function()
  i = (i + 1) % $2
  return wrk.format("GET", string.format("$3", i))
end
EOF
}
rotate_script "$TMP/rotate.lua" 1000 /r/f%04d.txt
rotate_script "$TMP/fill.lua" 200 /m/f%03d.bin

# nginx.
mkdir -p "$TMP/nginx"
cat >"$TMP/nginx/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes 2;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log warn;
events { worker_connections 1024; }
http {
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  access_log off;
  sendfile on;
  keepalive_requests 100000000;
  client_body_temp_path $TMP/nginx/body;
  proxy_temp_path $TMP/nginx/proxy;
  fastcgi_temp_path $TMP/nginx/fastcgi;
  uwsgi_temp_path $TMP/nginx/uwsgi;
  scgi_temp_path $TMP/nginx/scgi;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    root $SRV;
  }
}
EOF
"$NGINX" -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" 2>"$TMP/nginx/stderr" &
NGINX_PID=$!

# cat-server.
if [ -z "${CAT_SERVER:-}" ]; then
	echo "building cat-server (go build)" >&2
	(cd "$REPO" && CGO_ENABLED=0 go build -trimpath -o "$TMP/cat-server" ./server/cmd/cat-server)
	CAT_SERVER=$TMP/cat-server
fi
[ -x "$CAT_SERVER" ] || die "CAT_SERVER=$CAT_SERVER: not an executable"
PORT=$CAT_PORT CAT_SERVER_MODE=release "$CAT_SERVER" -root "$SRV" >"$TMP/cat-server.log" 2>&1 &
CAT_PID=$!

wait_up() { # name url
	for _ in $(seq 1 200); do
		curl -fsS -o /dev/null "$2" 2>/dev/null && return 0
		sleep 0.05
	done
	die "$1 did not answer $2 within 10 s"
}
wait_up nginx "http://127.0.0.1:$NGINX_PORT/small.txt"
wait_up cat-server "http://127.0.0.1:$CAT_PORT/small.txt"
for p in small.txt r/f0000.txt r/f0999.txt large.bin m/f199.bin; do
	for port in "$NGINX_PORT" "$CAT_PORT"; do
		curl -fsS "http://127.0.0.1:$port/$p" | cmp -s - "$SRV/$p" || die "port $port: /$p is not served with its content"
	done
done

CLK_TCK=$(getconf CLK_TCK)
# Process ids whose CPU and RSS count for a server: nginx's master and
# its workers; cat-server's single process.
pids_of() {
	if [ "$1" = nginx ]; then
		echo "$NGINX_PID" $(pgrep -P "$NGINX_PID" || true)
	else
		echo "$CAT_PID"
	fi
}
cpu_ticks() { # pids...: sum of utime+stime
	local t=0 p f
	for p in "$@"; do
		# Fields after the ")" of comm: utime and stime are fields 14 and 15.
		f=$(sed 's/^.*) //' "/proc/$p/stat")
		set -- $f
		t=$((t + ${12} + ${13}))
	done
	echo "$t"
}
rss_kib() { # pids...: sum of VmRSS
	local r=0 p
	for p in "$@"; do r=$((r + $(awk '/^VmRSS:/{print $2}' "/proc/$p/status"))); done
	echo "$r"
}

# run SERVER SCENARIO: one wrk run; prints
# "reqs rps p99_ms cpu_us_per_req rss_mib errors load1"
run() {
	local server=$1 scenario=$2 port url script=() pids c0 c1 out
	port=$NGINX_PORT; [ "$server" = cat-server ] && port=$CAT_PORT
	case $scenario in
	small) url=http://127.0.0.1:$port/small.txt ;;
	rotate) url=http://127.0.0.1:$port/; script=(-s "$TMP/rotate.lua") ;;
	large) url=http://127.0.0.1:$port/large.bin ;;
	fill) url=http://127.0.0.1:$port/; script=(-s "$TMP/fill.lua") ;;
	esac
	pids=$(pids_of "$server")
	c0=$(cpu_ticks $pids)
	out=$(timeout $((DURATION + 30)) wrk -t2 -c64 -d"${DURATION}s" --timeout 5s --latency "${script[@]}" "$url")
	c1=$(cpu_ticks $pids)
	echo "$out" >>"$TMP/wrk.log"
	awk -v ticks=$((c1 - c0)) -v hz="$CLK_TCK" -v rss="$(rss_kib $pids)" -v load="$(cut -d' ' -f1 /proc/loadavg)" '
		function ms(v) {
			if (v ~ /us$/) return substr(v, 1, length(v) - 2) / 1000
			if (v ~ /ms$/) return substr(v, 1, length(v) - 2) + 0
			if (v ~ /s$/) return substr(v, 1, length(v) - 1) * 1000
			if (v ~ /m$/) return substr(v, 1, length(v) - 1) * 60000
			return -1
		}
		/ requests in / { reqs = $1 }
		/^Requests\/sec:/ { rps = $2 }
		$1 == "99%" { p99 = ms($2) }
		/Socket errors:/ { gsub(/,/, ""); errs += $4 + $6 + $8 + $10 }
		/Non-2xx or 3xx responses:/ { errs += $NF }
		END {
			if (reqs == 0) { print "wrk made no requests" > "/dev/stderr"; exit 1 }
			printf "%d %.0f %.2f %.1f %.1f %d %s\n", reqs, rps, p99, ticks / hz * 1e6 / reqs, rss / 1024, errs, load
		}' <<<"$out"
}

echo
echo "cat-server vs nginx: wrk -t2 -c64 -d${DURATION}s, $PAIRS alternating pairs per scenario"
echo "$(nproc) CPUs, $(uname -r), $("$NGINX" -v 2>&1 | sed 's/.*: //'), $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2), $(go version 2>/dev/null | cut -d' ' -f3)"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
printf '%-7s %-5s %-10s %10s %10s %9s %12s %8s %7s %6s\n' scenario pair server requests "req/s" "p99 ms" "CPU us/req" "RSS MiB" errors load1
declare -A ratios
fail=0
for scenario in $SCENARIOS; do
	# One warm-up second per server (page cache, connection set-up).
	for s in nginx cat-server; do DURATION=1 run "$s" "$scenario" >/dev/null; done
	for pair in $(seq 1 "$PAIRS"); do
		order="nginx cat-server"
		[ $((pair % 2)) -eq 0 ] && order="cat-server nginx"
		declare -A rps=()
		for s in $order; do
			read -r reqs r p99 cpu rss errs load < <(run "$s" "$scenario")
			rps[$s]=$r
			[ "$errs" -eq 0 ] || fail=1
			printf '%-7s %-5s %-10s %10d %10d %9.2f %12.1f %8.1f %7d %6s\n' "$scenario" "$pair" "$s" "$reqs" "$r" "$p99" "$cpu" "$rss" "$errs" "$load"
		done
		ratios[$scenario]+="$(awk -v a="${rps[cat-server]}" -v b="${rps[nginx]}" 'BEGIN { printf "%.3f", a / b }') "
	done
done

echo
echo "cat-server / nginx req/s, per pair, and the median:"
for scenario in $SCENARIOS; do
	target=0.9; [ "$scenario" = large ] && target=1.3; [ "$scenario" = fill ] && target=0
	# shellcheck disable=SC2086
	printf '%s\n' ${ratios[$scenario]} | sort -n | awk -v s="$scenario" -v t="$target" '
		{ v[NR] = $1; all = all " " $1 }
		END {
			m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			printf "%-7s%s  median %.2f  target >= %s: %s\n", s, all, m, t, (m >= t) ? "ok" : "MISSED"
		}'
done
echo "cat-server peak RSS (VmHWM): $(awk '/^VmHWM:/{printf "%.1f MiB", $2 / 1024}' "/proc/$CAT_PID/status")"
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ "$fail" -ne 0 ]; then
	echo "errors: some runs had socket errors or non-2xx/3xx responses (see above)"
fi
