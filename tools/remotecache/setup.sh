#!/usr/bin/env bash
# Sets up a team build cache for Bazel (--config=remote-cache / remote-cache-ci, see
# README "Sharing the cache across a team"): Debian's nginx with its WebDAV module serving
# Bazel's HTTP cache layout (/ac/<sha256>, /cas/<sha256>), writable only by the CI user,
# readable by everyone or by authenticated readers, optionally over TLS, with a request
# body limit, and //tools/remotecache/cmd/cacheevict on a timer keeping the store under a
# size cap, least recently used first.
#
#   tools/remotecache/setup.sh --dir /srv/bazel-cache --listen 0.0.0.0:8443 \
#     --writer ci --writer-password-file ci.pw --tls-cert cache.crt --tls-key cache.key \
#     --cap 50G --install          # as root: systemd units for nginx and the eviction timer
#   tools/remotecache/setup.sh --dir DIR --listen 127.0.0.1:9090 --writer ci \
#     --writer-password-file ci.pw --run    # nginx in the foreground (tests, .ci/remote-cache.sh)
#
# Options:
#   --dir DIR                     state: DIR/store (the cache), DIR/log, DIR/tmp, DIR/nginx.conf,
#                                 DIR/*.htpasswd, DIR/bin/cacheevict (required)
#   --listen ADDR:PORT            default 127.0.0.1:9090
#   --writer NAME                 the one user allowed to PUT/DELETE (required)
#   --writer-password-file F      its password (first line); never pass passwords as arguments
#   --readers public|auth         GET/HEAD for anyone (default) or only for the users below and the writer
#   --reader NAME --reader-password-file F   an authenticated reader (repeatable pairs; needs --readers auth)
#   --tls-cert F --tls-key F      serve HTTPS with this certificate (PEM)
#   --max-body SIZE               largest blob accepted (nginx size, default 2g)
#   --cap SIZE                    eviction cap (K/M/G/T, default 50G); evicts down to 90% of it
#   --protect DURATION            never evict entries used this recently (Go duration, default 10m)
#   --every DURATION              eviction period: the systemd timer's (default 5min) or,
#                                 with --run, cacheevict's own loop (Go duration, default 1m)
#   --user NAME                   nginx workers' user when started as root (default www-data)
#   --evict-bin FILE              a built cacheevict (default: tools/bazel builds it)
#   --install | --run             install and start systemd units | run nginx in the foreground
#                                 (with cacheevict alongside); neither: write the files only
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

die() { echo "remotecache/setup.sh: $*" >&2; exit 1; }
dir= listen=127.0.0.1:9090 writer= writer_pw= readers=public tls_cert= tls_key= max_body=2g
cap=50G protect=10m every= run_user=www-data mode= evict_from= reader_names=() reader_pws=()
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) dir=${2:?--dir needs a value}; shift ;;
    --listen) listen=${2:?--listen needs a value}; shift ;;
    --writer) writer=${2:?--writer needs a value}; shift ;;
    --writer-password-file) writer_pw=${2:?--writer-password-file needs a value}; shift ;;
    --readers) readers=${2:?--readers needs a value}; shift ;;
    --reader) reader_names+=("${2:?--reader needs a value}"); shift ;;
    --reader-password-file) reader_pws+=("${2:?--reader-password-file needs a value}"); shift ;;
    --tls-cert) tls_cert=${2:?--tls-cert needs a value}; shift ;;
    --tls-key) tls_key=${2:?--tls-key needs a value}; shift ;;
    --max-body) max_body=${2:?--max-body needs a value}; shift ;;
    --cap) cap=${2:?--cap needs a value}; shift ;;
    --protect) protect=${2:?--protect needs a value}; shift ;;
    --every) every=${2:?--every needs a value}; shift ;;
    --user) run_user=${2:?--user needs a value}; shift ;;
    --evict-bin) evict_from=${2:?--evict-bin needs a value}; shift ;;
    --install|--run) [ -z "$mode" ] || die "give only one of --install and --run"; mode=${1#--} ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
  shift
done
[ -n "$dir" ] || die "--dir is required"
[ -n "$writer" ] || die "--writer is required"
[ -n "$writer_pw" ] && [ -s "$writer_pw" ] || die "--writer-password-file: missing or empty file '${writer_pw}'"
case "$readers" in public|auth) ;; *) die "--readers $readers: want public or auth" ;; esac
[ "${#reader_names[@]}" -eq "${#reader_pws[@]}" ] || die "each --reader needs one --reader-password-file"
[ "${#reader_names[@]}" -eq 0 ] || [ "$readers" = auth ] || die "--reader needs --readers auth"
[[ "$listen" =~ ^([0-9.]+|\[[0-9a-fA-F:]+\]):[0-9]+$ ]] || die "--listen $listen: want ADDR:PORT"
if [ -n "$tls_cert$tls_key" ]; then
  [ -s "$tls_cert" ] || die "--tls-cert: missing or empty file '$tls_cert'"
  [ -s "$tls_key" ] || die "--tls-key: missing or empty file '$tls_key'"
fi
[[ "$max_body" =~ ^[0-9]+[kKmMgG]?$ ]] || die "--max-body $max_body: want an nginx size such as 2g"
for name in "$writer" ${reader_names[@]+"${reader_names[@]}"}; do
  [[ "$name" =~ ^[A-Za-z0-9._-]+$ ]] || die "user name '$name': letters, digits, . _ - only"
done

"$repo/tools/provision/install-cache-server.sh" >&2

mkdir -p "$dir"/{store,log,tmp,run,bin}
dir=$(cd "$dir" && pwd)

# Passwords: hashed with SHA-512 crypt (htpasswd -5; nginx checks it through crypt(3)),
# read from the files on stdin, never on a command line.
hash() { # FILE NAME PWFILE
  head -n1 "$3" | tr -d '\r\n' | htpasswd -i -5 "$1" "$2" 2>/dev/null \
    || die "htpasswd failed for user $2 (password file $3)"
}
umask 077
rm -f "$dir/writers.htpasswd.new" "$dir/readers.htpasswd.new"
touch "$dir/writers.htpasswd.new" "$dir/readers.htpasswd.new"
hash "$dir/writers.htpasswd.new" "$writer" "$writer_pw"
hash "$dir/readers.htpasswd.new" "$writer" "$writer_pw"
for i in ${reader_names[@]+"${!reader_names[@]}"}; do
  [ -s "${reader_pws[$i]}" ] || die "--reader-password-file: missing or empty file '${reader_pws[$i]}'"
  hash "$dir/readers.htpasswd.new" "${reader_names[$i]}" "${reader_pws[$i]}"
done
umask 022

user_line=
if [ "$(id -u)" = 0 ]; then
  id "$run_user" >/dev/null 2>&1 || die "--user $run_user: no such user"
  user_line="user $run_user;"
  chown -R "$run_user" "$dir/store" "$dir/tmp"
  chgrp "$(id -gn "$run_user")" "$dir/writers.htpasswd.new" "$dir/readers.htpasswd.new"
  chmod 640 "$dir/writers.htpasswd.new" "$dir/readers.htpasswd.new"
fi
mv "$dir/writers.htpasswd.new" "$dir/writers.htpasswd"
mv "$dir/readers.htpasswd.new" "$dir/readers.htpasswd"

ssl=; ssl_conf=
if [ -n "$tls_cert" ]; then
  ssl=" ssl"
  ssl_conf="ssl_certificate $(realpath "$tls_cert");
        ssl_certificate_key $(realpath "$tls_key");
        ssl_protocols TLSv1.2 TLSv1.3;"
fi
read_auth=
if [ "$readers" = auth ]; then
  read_auth="auth_basic \"build cache\";
            auth_basic_user_file $dir/readers.htpasswd;"
fi

cat >"$dir/nginx.conf.new" <<EOC
# Written by tools/remotecache/setup.sh; run it again to change this file.
$user_line
worker_processes auto;
pid $dir/run/nginx.pid;
error_log $dir/log/error.log warn;
events { worker_connections 1024; }
http {
    # One line per request; cacheevict reads it for recency (keep the first four fields).
    log_format bazelcache '\$msec \$request_method \$uri \$status \$body_bytes_sent \$remote_user \$request_time';
    access_log $dir/log/cache.log bazelcache;
    # A PUT is written here first, then renamed into the store (same file system):
    # a reader never sees half a blob.
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    types { }
    default_type application/octet-stream;
    server_tokens off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    keepalive_timeout 120s;
    client_body_timeout 60s;
    send_timeout 60s;

    server {
        listen $listen$ssl;
        $ssl_conf
        root $dir/store;
        client_max_body_size $max_body;

        # Bazel's HTTP cache: action results under /ac/, content under /cas/, named by SHA-256.
        location ~ "^/(ac|cas)/[0-9a-f]{64}\$" {
            $read_auth
            dav_methods PUT DELETE;
            create_full_put_path on;
            dav_access user:rw group:r all:r;
            limit_except GET HEAD {
                auth_basic "build cache writers";
                auth_basic_user_file $dir/writers.htpasswd;
            }
        }
        location / { return 404; }
    }
}
EOC
nginx -t -q -p "$dir" -c "$dir/nginx.conf.new" -e "$dir/log/error.log" \
  || die "nginx rejected the generated config $dir/nginx.conf.new (see above)"
mv "$dir/nginx.conf.new" "$dir/nginx.conf"

# The evictor: --evict-bin, or built from this checkout by Bazel (the pinned Go SDK, so the
# host's Go does not matter; tools/bazel provisions Bazel when it is missing).
evict_bin=$dir/bin/cacheevict
if [ -n "$evict_from" ]; then
  [ -x "$evict_from" ] || die "--evict-bin $evict_from: not an executable file"
  cp "$evict_from" "$evict_bin.new"
else
  (cd "$repo" && tools/bazel build //tools/remotecache/cmd/cacheevict >&2 \
    && f=$(tools/bazel cquery --output=files //tools/remotecache/cmd/cacheevict 2>/dev/null) \
    && cp "$(tools/bazel info execution_root 2>/dev/null)/$f" "$evict_bin.new") \
    || die "building //tools/remotecache/cmd/cacheevict failed (see above); or give --evict-bin"
fi
chmod 755 "$evict_bin.new"
mv "$evict_bin.new" "$evict_bin"
evict_args=(-store "$dir/store" -log "$dir/log/cache.log" -state "$dir/run/cache.log.offset" -cap "$cap" -protect "$protect")

scheme=http; [ -n "$tls_cert" ] && scheme=https
case "$mode" in
  install)
    [ "$(id -u)" = 0 ] || die "--install needs root (it writes systemd units)"
    command -v systemctl >/dev/null || die "--install needs systemd; use --run under another supervisor"
    name=cat-server-cache
    cat >/etc/systemd/system/$name.service <<EOU
[Unit]
Description=Bazel build cache (nginx WebDAV, written by tools/remotecache/setup.sh)
After=network.target
[Service]
ExecStart=$(command -v nginx) -p $dir -c $dir/nginx.conf -e $dir/log/error.log -g 'daemon off;'
ExecReload=/bin/kill -HUP \$MAINPID
Restart=on-failure
[Install]
WantedBy=multi-user.target
EOU
    cat >/etc/systemd/system/$name-evict.service <<EOU
[Unit]
Description=Keep the Bazel build cache in $dir under $cap
[Service]
Type=oneshot
User=$run_user
ExecStart=$evict_bin ${evict_args[*]}
EOU
    cat >/etc/systemd/system/$name-evict.timer <<EOU
[Unit]
Description=Evict the Bazel build cache's least recently used entries
[Timer]
OnBootSec=2min
OnUnitActiveSec=${every:-5min}
[Install]
WantedBy=timers.target
EOU
    chown "$run_user" "$dir/run"
    systemctl daemon-reload
    systemctl enable --now $name.service $name-evict.timer
    systemctl reload $name.service
    echo "remotecache/setup.sh: serving $scheme://$listen/ ($name.service, eviction: $name-evict.timer)" >&2
    ;;
  run)
    "$evict_bin" "${evict_args[@]}" -every "${every:-1m}" >>"$dir/log/evict.log" 2>&1 &
    evict_pid=$!
    trap 'kill "$evict_pid" 2>/dev/null' EXIT
    trap 'kill "$nginx_pid" 2>/dev/null; wait "$nginx_pid"; exit 143' TERM INT
    echo "remotecache/setup.sh: serving $scheme://$listen/ (nginx in the foreground, cacheevict every ${every:-1m})" >&2
    nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/log/error.log" -g 'daemon off;' &
    nginx_pid=$!
    wait "$nginx_pid"
    ;;
  *)
    echo "remotecache/setup.sh: wrote $dir/nginx.conf; start it with:" >&2
    echo "  nginx -p $dir -c $dir/nginx.conf -e $dir/log/error.log -g 'daemon off;'" >&2
    echo "and run on a timer: $evict_bin ${evict_args[*]}" >&2
    ;;
esac
