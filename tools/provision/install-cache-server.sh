#!/usr/bin/env bash
# Installs what a team build cache (tools/remotecache/setup.sh) and its CI check
# (.ci/remote-cache.sh) need, from Debian's archive: nginx-light (nginx with the WebDAV
# module) and apache2-utils (htpasswd). Does nothing when both are installed.
#
# The package enables a system nginx on :80. The cache runs its own nginx with its own
# config (setup.sh), so the package's service is kept from starting during the install
# and disabled afterwards, unless it was already installed (then it is left alone).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

have() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'; }

if have apache2-utils && command -v nginx >/dev/null && nginx -V 2>&1 | grep -q -- --with-http_dav_module; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "install-cache-server: nginx (with WebDAV) or htpasswd is missing and installing them needs root (apt-get);" \
       "run this script as root: apt-get install nginx-light apache2-utils" >&2
  exit 1
fi
had_nginx=; command -v nginx >/dev/null && had_nginx=1

policy=/usr/sbin/policy-rc.d
added_policy=
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy"
  chmod 755 "$policy"
  added_policy=1
fi
cleanup() { if [ -n "$added_policy" ]; then rm -f "$policy"; fi; }
trap cleanup EXIT

# Only one apt/dpkg at a time on this machine: wait for the lock (up to 5 minutes).
apt_get() { apt-get -o DPkg::Lock::Timeout=300 "$@"; }
apt_get install -y -q --no-install-recommends \
  -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold nginx-light apache2-utils \
  || { apt_get update -q && apt_get install -y -q --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold nginx-light apache2-utils; }

if [ -z "$had_nginx" ]; then
  if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
    systemctl disable --now nginx.service >/dev/null 2>&1 || true
  else
    update-rc.d nginx disable >/dev/null 2>&1 || true
    rm -f /etc/systemd/system/multi-user.target.wants/nginx.service
  fi
fi
nginx -V 2>&1 | grep -q -- --with-http_dav_module \
  || { echo "install-cache-server: this nginx has no WebDAV module (nginx -V); install nginx-light or nginx-full" >&2; exit 1; }
echo "install-cache-server: $(nginx -v 2>&1), $(dpkg-query -W -f='${Package} ${Version}' apache2-utils) installed"
