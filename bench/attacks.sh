#!/usr/bin/env bash
# Runs the hostile-client attacks of issue 9 against the cat-server container, limited like
# the seeds run it (--memory 64m --cpus 0.1), while a normal client fetches a small file
# every 0.5 s, and reports per attack what the normal client saw, then the container's
# peak memory against the seed's 32 MB and its health at the end.
#
#   bench/attacks.sh                       # ~2 min
#   SEND_TIMEOUT=10s bench/attacks.sh      # the server's send timeout for this run (default 5s,
#                                          # so stalled readers are cut within the run; the
#                                          # server's own default is 60s)
#
# Attacks (each bounded in time and count; all traffic to 127.0.0.1):
#   header-bomb   50 connections, each sending a 1 MB header that never ends
#   conn-flood    300 connections (limit 256) holding unfinished requests for 5 s (slowloris)
#   stalled       100 clients that request a 32 MB file and never read (cut after SEND_TIMEOUT)
#   listing       10 concurrent GETs and 10 HEADs of a directory of 20,000 entries
#   ranges        50 requests of 200 tiny parts and 50 of 100 overlapping 1 MB parts
#   fifo          a FIFO swapped in for a served file while it is requested 200 times
#   methods       PROPFIND, MKCOL, FOO: 405 with Allow
#
# It loads the image with `tools/bazel run //image:load`, tags it cat-server:attacks-PID
# (other users of cat-server:latest cannot swap it mid-run) and checks the image knows
# -max-conns. Peak memory: the cgroup's memory.max_usage_in_bytes (v1) or memory.peak
# (v2), and the server's VmHWM (peak RSS). The script exits non-zero when Docker, Bazel
# or the tooling fails, or when the container is unhealthy at the end.
set -euo pipefail

SEND_TIMEOUT=${SEND_TIMEOUT:-5s}
for tool in docker curl python3; do
  command -v "$tool" >/dev/null || { echo "attacks: $tool is not on PATH" >&2; exit 2; }
done
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tag="cat-server:attacks-$$"
cid=""
srv=$(mktemp -d)
cleanup() {
  [ -n "$cid" ] && docker rm -f "$cid" >/dev/null 2>&1 || true
  docker rmi "$tag" >/dev/null 2>&1 || true
  rm -rf "$srv"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== tools/bazel run //image:load" >&2
(cd "$repo" && tools/bazel run //image:load) >&2
docker tag cat-server:latest "$tag"
docker run --rm "$tag" -h | grep -q -- -max-conns \
  || { echo "attacks: $tag has no -max-conns: not this branch's image (another load raced?)" >&2; exit 1; }

echo "hello from the normal client" >"$srv/hello.txt"
head -c $((32 << 20)) /dev/zero >"$srv/big.bin"
head -c $((1 << 20)) /dev/zero >"$srv/onemb.bin"
echo '<script>alert(document.domain)</script>' >"$srv/page.html"
echo "swap" >"$srv/swap"
python3 - "$srv/bigdir" <<'PY'
import os, sys
os.mkdir(sys.argv[1])
for i in range(20000):
    open(os.path.join(sys.argv[1], "entry-with-a-longish-name-%06d.txt" % i), "w").close()
PY
chmod -R a+rX "$srv"

cid=$(docker run -d --read-only --cap-drop ALL --memory 64m --cpus 0.1 \
        -e CAT_SERVER_SEND_TIMEOUT="$SEND_TIMEOUT" \
        -v "$srv:/srv:ro" -p 127.0.0.1::8080 --health-interval 2s "$tag")
port=$(docker port "$cid" 8080/tcp | grep -m1 '^127\.0\.0\.1:'); port=${port##*:}
for _ in $(seq 1 100); do
  curl -sf --max-time 1 -o /dev/null "http://127.0.0.1:$port/healthz" && break
  sleep 0.1
done
pid=$(docker inspect -f '{{.State.Pid}}' "$cid")
cg=""
for f in "/sys/fs/cgroup/memory/docker/$cid/memory.max_usage_in_bytes" \
         "/sys/fs/cgroup/memory/system.slice/docker-$cid.scope/memory.max_usage_in_bytes" \
         "/sys/fs/cgroup/system.slice/docker-$cid.scope/memory.peak" \
         "/sys/fs/cgroup/docker/$cid/memory.peak"; do
  [ -r "$f" ] && { cg=$f; break; }
done
echo "== container ${cid:0:12} on 127.0.0.1:$port, server pid $pid, send timeout $SEND_TIMEOUT; $(uptime)" >&2

python3 - "$port" "$pid" "$srv" "$SEND_TIMEOUT" <<'PY'
import os, socket, sys, threading, time, http.client

port, pid, srv, send_timeout = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
send_timeout_s = float(send_timeout.rstrip("s"))
ADDR = ("127.0.0.1", port)

def fds():
    try:
        return len(os.listdir("/proc/%s/fd" % pid))
    except OSError:
        return -1

def vm(key):
    try:
        for line in open("/proc/%s/status" % pid):
            if line.startswith(key):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return -1

# The normal client: GET /hello.txt every 0.5 s, 5 s timeout, results per phase.
phase = ["idle"]
results = {}
stop = threading.Event()
def normal():
    while not stop.is_set():
        t0 = time.time()
        try:
            c = http.client.HTTPConnection(*ADDR, timeout=5)
            c.request("GET", "/hello.txt")
            r = c.getresponse()
            ok = r.status == 200 and r.read() == b"hello from the normal client\n"
            c.close()
            key = "ok" if ok else "status %d" % r.status
        except Exception as e:
            key = type(e).__name__
        results.setdefault(phase[0], []).append((key, time.time() - t0))
        stop.wait(0.5)
threading.Thread(target=normal, daemon=True).start()

def raw(data, read=True, timeout=10):
    s = socket.create_connection(ADDR, timeout=timeout)
    try:
        s.sendall(data)
        return s.recv(200) if read else b""
    except OSError as e:
        return type(e).__name__.encode()
    finally:
        s.close()

def run(name, fn):
    phase[0] = name
    t0 = time.time()
    detail = fn()
    time.sleep(1)
    rs = results.get(name, [])
    oks = sum(1 for k, _ in rs if k == "ok")
    worst = max((d for _, d in rs), default=0)
    other = sorted(set(k for k, _ in rs if k != "ok"))
    print("%-12s %5.1fs  normal client %2d/%-2d ok (slowest %.2fs)%s  fds %3d  RSS %5.1f MB  %s" % (
        name, time.time() - t0, oks, len(rs), worst, (" others: " + ",".join(other)) if other else "",
        fds(), vm("VmRSS:") / 1e6, detail), flush=True)

def header_bomb():
    out = {}
    def one():
        try:
            s = socket.create_connection(ADDR, timeout=15)
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Bomb: " + b"a" * (1 << 20))
            k = s.recv(40).split(b"\r\n")[0].decode()
        except OSError as e:
            k = type(e).__name__
        out[k] = out.get(k, 0) + 1
    ts = [threading.Thread(target=one) for _ in range(50)]
    [t.start() for t in ts]; [t.join() for t in ts]
    return "answers: %s" % out

def conn_flood():
    socks, first = [], {}
    for _ in range(300):
        try:
            s = socket.create_connection(ADDR, timeout=5)
            s.sendall(b"GET /hello.txt HTTP/1.1\r\nHost: x\r\n")
            socks.append(s)
        except OSError as e:
            first[type(e).__name__] = first.get(type(e).__name__, 0) + 1
    time.sleep(5)
    rejected = closed = 0
    for s in socks:
        s.setblocking(False)
        try:
            got = s.recv(100)
            if got.startswith(b"HTTP/1.1 503"):
                rejected += 1
            elif got == b"":
                closed += 1
        except BlockingIOError:
            pass
        except OSError:
            closed += 1
        s.close()
    return "300 held: %d displaced (closed by the server), %d answered 503, errors %s" % (closed, rejected, first)

def stalled():
    socks, base = [], fds()
    for _ in range(100):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.settimeout(5)
        s.connect(ADDR)
        s.sendall(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        socks.append(s)
    time.sleep(1)
    held = fds()
    t0 = time.time()
    while fds() > base + 10 and time.time() - t0 < send_timeout_s + 30:
        time.sleep(0.25)
    cut = time.time() - t0
    for s in socks:
        s.close()
    return "server fds %d while stalled, freed after %.1fs (send timeout %s)" % (held, cut, send_timeout)

def listing():
    out = {}
    def one(method):
        try:
            c = http.client.HTTPConnection(*ADDR, timeout=60)
            c.request(method, "/bigdir/", headers={"Accept": "application/json"})
            r = c.getresponse()
            body = r.read()
            k = "%s %d %dB truncated=%s" % (method, r.status, len(body), r.getheader("X-Listing-Truncated"))
        except Exception as e:
            k = method + " " + type(e).__name__
        out[k] = out.get(k, 0) + 1
    ts = [threading.Thread(target=one, args=(m,)) for m in ["GET"] * 10 + ["HEAD"] * 10]
    [t.start() for t in ts]; [t.join() for t in ts]
    return str(out)

def ranges():
    out = {}
    tiny = "bytes=" + ",".join("%d-%d" % (2 * i, 2 * i) for i in range(200))
    overlap = "bytes=" + ",".join(["0-1048575"] * 100)
    sent = 0
    for rng in [tiny] * 50 + [overlap] * 50:
        c = http.client.HTTPConnection(*ADDR, timeout=30)
        c.request("GET", "/onemb.bin", headers={"Range": rng})
        r = c.getresponse()
        sent += len(r.read())
        out[r.status] = out.get(r.status, 0) + 1
        c.close()
    return "statuses %s, %.0f MB sent for 100 requests of a 1 MB file" % (out, sent / 1e6)

def fifo():
    stop_swap = threading.Event()
    def swap():
        i = 0
        while not stop_swap.is_set():
            tmp = os.path.join(srv, ".swap-tmp")
            try:
                if i % 2:
                    os.mkfifo(tmp, 0o644)
                else:
                    open(tmp, "w").write("swap\n")
                os.chmod(tmp, 0o644)
                os.rename(tmp, os.path.join(srv, "swap"))
            except OSError:
                pass
            i += 1
            time.sleep(0.005)
    t = threading.Thread(target=swap); t.start()
    out = {}
    for _ in range(200):
        try:
            c = http.client.HTTPConnection(*ADDR, timeout=10)
            c.request("GET", "/swap")
            r = c.getresponse(); r.read(); c.close()
            out[r.status] = out.get(r.status, 0) + 1
        except Exception as e:
            out[type(e).__name__] = out.get(type(e).__name__, 0) + 1
    stop_swap.set(); t.join()
    return "statuses %s" % out

def methods():
    out = {}
    for m in ["PROPFIND", "MKCOL", "FOO", "POST"]:
        resp = raw(("%s / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n" % m).encode(), timeout=10)
        out[m] = resp.split(b"\r\n")[0].decode() + (" Allow ok" if b"Allow: GET, HEAD" in resp else " no Allow")
    c = http.client.HTTPConnection(*ADDR, timeout=10)
    c.request("GET", "/page.html"); r = c.getresponse(); r.read()
    out["page.html CSP"] = r.getheader("Content-Security-Policy")
    return str(out)

print("attack       time   normal client (GET every 0.5 s)            server after the attack", flush=True)
run("baseline", lambda: time.sleep(3) or "")
for name, fn in [("header-bomb", header_bomb), ("conn-flood", conn_flood), ("stalled", stalled),
                 ("listing", listing), ("ranges", ranges), ("fifo", fifo), ("methods", methods)]:
    run(name, fn)
run("after", lambda: time.sleep(3) or "")
stop.set()
print("server peak RSS (VmHWM): %.1f MB" % (vm("VmHWM:") / 1e6))
PY

if [ -n "$cg" ]; then
  echo "container peak memory ($(basename "$cg")): $(python3 -c 'import sys; print("%.1f MB" % (int(open(sys.argv[1]).read()) / 1e6))' "$cg") (seed target < 32 MB, limit 64 MiB)"
fi
health=$(docker inspect -f '{{.State.Health.Status}} {{.State.OOMKilled}} {{.RestartCount}}' "$cid")
echo "docker: health, OOM-killed, restarts: $health"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$port/healthz" || true)
echo "GET /healthz at the end: $code"
[ "$code" = 200 ] && [ "${health%% *}" = healthy ] || { docker logs --tail 20 "$cid" >&2; exit 1; }
