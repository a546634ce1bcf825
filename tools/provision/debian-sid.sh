# Sourced by install-bazel.sh and install-test-deps.sh: adds Debian sid as an apt source
# on the mirror already configured for bookworm (no host name is written here), pinned
# to priority 50, so that sid is used only for the packages a script installs with
# `-t sid` and never to upgrade anything else later. Idempotent. Needs root.
add_sid_low() {
  local who=$1 uri
  uri=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  [ -n "$uri" ] || uri=$(awk '$1=="deb" && $3=="bookworm"{print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
  if [ -z "$uri" ]; then
    echo "$who: no Debian mirror found in /etc/apt/sources.list(.d)" >&2
    return 1
  fi
  cat > /etc/apt/sources.list.d/cat-server-sid.sources <<EOT
Types: deb
URIs: ${uri}
Suites: sid
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOT
  cat > /etc/apt/preferences.d/90-cat-server-sid-low <<'EOT'
Package: *
Pin: release n=sid
Pin-Priority: 50
EOT
}
