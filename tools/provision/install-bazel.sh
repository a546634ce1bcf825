#!/usr/bin/env bash
# Installs Bazel 7.7.1 from Debian sid (package bazel-bootstrap) on a Debian 12 machine
# whose only reachable archive is Debian's. Does nothing when it is already installed.
#
# sid is pinned to priority 50, so it is used only for the packages named here and
# never to upgrade anything else later. This pulls a newer libc6/OpenSSL from sid:
# fine for CI and development machines, not for a long-lived server.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

want="bazel 7.7.1"
if [ "$(bazel --version 2>/dev/null || true)" = "$want" ] && [ -d /usr/share/bazel/rules/shell ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "install-bazel: $want is missing and installing it needs root (apt-get); run this script as root" >&2
  exit 1
fi

# sid from the mirror configured for bookworm, pinned low (debian-sid.sh).
. "$(dirname "${BASH_SOURCE[0]}")/debian-sid.sh"
add_sid_low install-bazel

pkgs=(bazel-bootstrap bazel-rules-shell)
# bookworm's OpenSSH refuses to start against sid's OpenSSL: upgrade it alongside.
for p in openssh-client openssh-server; do
  if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then pkgs+=("$p"); fi
done
opts=(-y -q --no-install-recommends -t sid
      -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)

apt-get update -q
apt-get install "${opts[@]}" --download-only "${pkgs[@]}"
# sid's openssl-provider-legacy ships a file still owned by bookworm's libssl3 without
# declaring Replaces; unpack it first with --force-overwrite, then let apt finish.
if dpkg-query -W -f='${Status}' libssl3 2>/dev/null | grep -q 'ok installed'; then
  dpkg --unpack --force-overwrite /var/cache/apt/archives/openssl-provider-legacy_*.deb
  apt-get install -f "${opts[@]}"
fi
apt-get install "${opts[@]}" "${pkgs[@]}"

got=$(bazel --version)
if [ "$got" != "$want" ]; then
  echo "install-bazel: wanted $want, got $got" >&2
  exit 1
fi
echo "install-bazel: $got installed"
