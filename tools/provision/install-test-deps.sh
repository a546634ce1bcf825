#!/usr/bin/env bash
# Installs what the tests tagged requires-registry need, from Debian's archive:
# docker-registry (CNCF distribution 2.8, the registry they start on 127.0.0.1) and
# apache2-utils (htpasswd, for its bcrypt password file), and cosign (3.1.x, only in
# Debian sid: from the sid entry debian-sid.sh adds, as for install-bazel.sh, pinned low,
# so nothing else comes from sid) for the signing tests and //image:release. Does
# nothing when all are installed.
#
# The package enables a system service on :5000. The tests start their own registry on
# a free port with a temporary config, so the service is stopped and disabled: it
# would only hold :5000 (the default repository of //image:push) with a registry
# nobody configured.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

have() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'; }

if have docker-registry && have apache2-utils && have cosign; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "install-test-deps: docker-registry, apache2-utils or cosign is missing and installing them needs root (apt-get);" \
       "run this script as root, or leave their tests out with --test_tag_filters=-requires-registry" >&2
  exit 1
fi
if ! have cosign && ! grep -qs '^Suites: sid' /etc/apt/sources.list.d/cat-server-sid.sources; then
  # cosign 3.1.x is only in sid: the same sid entry, pinned low, as install-bazel.sh.
  . "$(dirname "${BASH_SOURCE[0]}")/debian-sid.sh"
  add_sid_low install-test-deps
fi

# Keep the package's service from starting during the install (where init scripts are
# allowed to run), then disable it.
policy=/usr/sbin/policy-rc.d
added_policy=
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy"
  chmod 755 "$policy"
  added_policy=1
fi
cleanup() { if [ -n "$added_policy" ]; then rm -f "$policy"; fi; }
trap cleanup EXIT

apt-get update -q
apt-get install -y -q --no-install-recommends \
  -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
  docker-registry apache2-utils
if ! have cosign; then
  # sid is pinned to priority 50: -t sid takes cosign (and what it needs) from there only.
  apt-get install -y -q --no-install-recommends -t sid \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold cosign
fi

if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
  systemctl disable --now docker-registry.service >/dev/null 2>&1 || true
else
  update-rc.d docker-registry disable >/dev/null 2>&1 || true
  rm -f /etc/systemd/system/multi-user.target.wants/docker-registry.service
fi
echo "install-test-deps: $(dpkg-query -W -f='${Package} ${Version}' docker-registry), $(dpkg-query -W -f='${Package} ${Version}' apache2-utils), $(dpkg-query -W -f='${Package} ${Version}' cosign) installed"
