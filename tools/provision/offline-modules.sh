#!/usr/bin/env bash
# Prepares what Bazel needs to resolve this bzlmod workspace without the Bazel Central
# Registry, using only the Go module proxy, and with any Go on the host (or none):
# - rules_go and gazelle: their module zips, downloaded from the Go module proxy and
#   checked against the sha256 pinned below (the go.sum h1 hash is noted next to it);
# - the Go SDK pinned by go.mod (tools/gosdk/toolchain.sums), downloaded once, used here to
#   vendor gazelle's dependencies and handed to Bazel through --distdir, so Bazel does not
#   download it again;
# - gazelle's repository tools, built once (see below);
# - module-only stubs for four modules that @bazel_tools declares but a pure-Go build never
#   loads, and a generated bazelrc of --override_module lines, try-imported from
#   /etc/bazel.bazelrc (which Debian's /etc/bazel/bazelrc try-imports).
#
# The proxy comes from the environment as for the go command: GOPROXY, else
# `go env GOPROXY` of a go on PATH (any version). Everything written is machine-specific
# and lives outside the repository. A second run with the same inputs finds its stamp and
# returns at once.
set -euo pipefail

RULES_GO_VERSION=v0.62.0   # newest that needs neither package_metadata nor bazel_features > 1.11
RULES_GO_SHA256=054b526908b4add7ede54a6defb4e41e0868f3ea7af2684c489ae11fcadc3bcc   # h1:FpVmU5mfoqSiY6dLquUAtldkcKOMLrmNaWrSnXuGPF4=
GAZELLE_VERSION=v0.43.0    # newest without a package_metadata dependency
GAZELLE_SHA256=f9734dae4a9770ec42c72efd4e3cf086f7ca5cd7f52cdea1e7e292648304f9df    # h1:NQmf8f7+7OcecUdnAgYoPete6RzAutjEuYjNhE9LU68=
STUBS=(apple_support buildozer zlib protobuf)
# Not under /tmp: Bazel's sandbox mounts an empty /tmp.
OFFLINE_DIR=${CAT_SERVER_OFFLINE_DIR:-/var/cache/cat-server/bazel-offline}
SYSTEM_RC=${CAT_SERVER_SYSTEM_BAZELRC:-/etc/bazel.bazelrc}
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

die() { echo "offline-modules: $*" >&2; exit 1; }

# The proxy list, as the go command finds it.
goproxy=${GOPROXY:-}
if [ -z "$goproxy" ] && command -v go >/dev/null; then
  goproxy=$(GOTOOLCHAIN=local GOFLAGS= go env GOPROXY 2>/dev/null || true)
fi
proxies=()
IFS=',|' read -r -a entries <<<"$goproxy"
for e in "${entries[@]}"; do
  e=${e%/}
  case "$e" in
    ""|direct|off) ;;
    http://*|https://*|file://*) proxies+=("$e") ;;
    *) die "GOPROXY entry '$e' is not an http(s):// or file:// URL" ;;
  esac
done
[ "${#proxies[@]}" -gt 0 ] || die "no Go module proxy found: set GOPROXY (as for the go command, e.g. export GOPROXY=https://<your proxy>)${goproxy:+; GOPROXY is '$goproxy'}"
hosts=()
for p in "${proxies[@]}"; do
  h=${p#*://}; h=${h%%/*}; h=${h%%:*}
  [ -n "$h" ] && hosts+=("$h")
done

# The Go SDK pinned by go.mod, for this host.
go_version=$(awk '$1=="toolchain"{sub(/^go/,"",$2); t=$2} $1=="go"{g=$2} END{print (t!="" ? t : g)}' "$repo/go.mod")
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) plat=linux-amd64 ;; Linux-aarch64) plat=linux-arm64 ;;
  Darwin-arm64) plat=darwin-arm64 ;; Darwin-x86_64) plat=darwin-amd64 ;;
  *) die "unsupported host $(uname -s)-$(uname -m)" ;;
esac
sdk_version="v0.0.1-go$go_version.$plat"
sdk_sha256=$(awk -v v="$sdk_version" '$1=="golang.org/toolchain" && $2==v {sub(/^sha256:/,"",$3); print $3}' "$repo/tools/gosdk/toolchain.sums")
[ -n "$sdk_sha256" ] || die "tools/gosdk/toolchain.sums has no sha256 for golang.org/toolchain $sdk_version; run tools/gosdk/update-sums.sh"

stamp="rules_go=$RULES_GO_VERSION gazelle=$GAZELLE_VERSION sdk=$sdk_version stubs=${STUBS[*]} hosts=${hosts[*]} format=8"
rc="$OFFLINE_DIR/bazelrc"
import_line="try-import $rc"
if [ "$(cat "$OFFLINE_DIR/stamp" 2>/dev/null || true)" = "$stamp" ] && [ -f "$rc" ] \
   && grep -qxF "$import_line" "$SYSTEM_RC" 2>/dev/null; then
  exit 0
fi

missing=()
for t in curl unzip sha256sum; do command -v "$t" >/dev/null || missing+=("$t"); done
if [ "${#missing[@]}" -gt 0 ]; then
  [ "$(id -u)" = 0 ] || die "needs ${missing[*]}; install them (apt-get install curl unzip) or run as root"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends curl unzip ca-certificates coreutils \
    || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends curl unzip ca-certificates coreutils; }
fi

mkdir -p "$OFFLINE_DIR/distdir"
rm -f "$OFFLINE_DIR/stamp"

# Downloads <module>@<version>'s zip from the first proxy that has it to <dest> and checks
# its sha256; a mismatch is an error, never a fallback to the next proxy.
fetch_zip() {  # <module> <version> <sha256> <dest>
  local mod=$1 ver=$2 want=$3 dest=$4 p got
  if [ -f "$dest" ] && [ "$(sha256sum "$dest" | cut -d' ' -f1)" = "$want" ]; then return 0; fi
  for p in "${proxies[@]}"; do
    if curl -fsSL --retry 2 -o "$dest.part" "$p/$mod/@v/$ver.zip"; then
      got=$(sha256sum "$dest.part" | cut -d' ' -f1)
      [ "$got" = "$want" ] || { rm -f "$dest.part"; die "$mod@$ver from $p has sha256 $got, want $want"; }
      mv "$dest.part" "$dest"
      return 0
    fi
  done
  rm -f "$dest.part"
  die "could not download $mod@$ver from GOPROXY=$goproxy"
}

# Unpacks a module zip into $OFFLINE_DIR/<name>, restoring the executable bit on scripts
# (module zips do not keep file modes).
unpack_module() {  # <name> <module> <version> <zip>
  local name=$1 mod=$2 ver=$3 zip=$4
  rm -rf "$OFFLINE_DIR/$name.new" "$OFFLINE_DIR/$name.unzip"
  unzip -q "$zip" -d "$OFFLINE_DIR/$name.unzip"
  mv "$OFFLINE_DIR/$name.unzip/$mod@$ver" "$OFFLINE_DIR/$name.new"
  rm -rf "$OFFLINE_DIR/$name.unzip"
  find "$OFFLINE_DIR/$name.new" -type f -exec sh -c \
    'for f; do [ "$(head -c2 "$f")" = "#!" ] && chmod +x "$f"; done; true' _ {} +
}

sdk_zip="$OFFLINE_DIR/distdir/$sdk_version.zip"   # the name Bazel's --distdir looks for
fetch_zip golang.org/toolchain "$sdk_version" "$sdk_sha256" "$sdk_zip"
# Unpacked once; tools/gosdk links it (CAT_SERVER_GO_SDK_CACHE below) when <version>.sha256
# names the sha256 that toolchain.sums pins, instead of extracting the zip again.
sdk="$OFFLINE_DIR/go-sdk/$sdk_version"
if [ ! -x "$sdk/bin/go" ] || [ "$(cat "$sdk.sha256" 2>/dev/null || true)" != "$sdk_sha256" ]; then
  rm -f "$sdk.sha256"
  rm -rf "$sdk.unzip" && mkdir -p "$sdk.unzip"
  unzip -q "$sdk_zip" -d "$sdk.unzip"
  chmod +x "$sdk.unzip/golang.org/toolchain@$sdk_version"/bin/* "$sdk.unzip/golang.org/toolchain@$sdk_version"/pkg/tool/*/*
  rm -rf "$sdk" && mv "$sdk.unzip/golang.org/toolchain@$sdk_version" "$sdk" && rm -rf "$sdk.unzip"
  echo "$sdk_sha256" > "$sdk.sha256"
fi

fetch_zip github.com/bazelbuild/rules_go "$RULES_GO_VERSION" "$RULES_GO_SHA256" "$OFFLINE_DIR/rules_go.zip"
fetch_zip github.com/bazelbuild/bazel-gazelle "$GAZELLE_VERSION" "$GAZELLE_SHA256" "$OFFLINE_DIR/gazelle.zip"
# A module directory already made from the same zip stays untouched (Bazel servers of other
# checkouts may be reading it).
marker=".cat-server-source"
if [ "$(cat "$OFFLINE_DIR/rules_go/$marker" 2>/dev/null || true)" != "$RULES_GO_SHA256" ]; then
  unpack_module rules_go github.com/bazelbuild/rules_go "$RULES_GO_VERSION" "$OFFLINE_DIR/rules_go.zip"
  echo "$RULES_GO_SHA256" > "$OFFLINE_DIR/rules_go.new/$marker"
  rm -rf "$OFFLINE_DIR/rules_go" && mv "$OFFLINE_DIR/rules_go.new" "$OFFLINE_DIR/rules_go"
fi
if [ "$(cat "$OFFLINE_DIR/gazelle/$marker" 2>/dev/null || true)" != "$GAZELLE_SHA256" ]; then
  unpack_module gazelle github.com/bazelbuild/bazel-gazelle "$GAZELLE_VERSION" "$OFFLINE_DIR/gazelle.zip"
  # gazelle <= 0.43 builds its repository tools in GOPATH mode from vendor/, which its
  # release archive holds but the Go module zip does not. The pinned SDK vendors it,
  # checking gazelle's go.sum.
  (cd "$OFFLINE_DIR/gazelle.new" && GOPROXY="$goproxy" GOTOOLCHAIN=local GOFLAGS=-mod=mod GOWORK=off \
    "$sdk/bin/go" mod vendor)
  echo "$GAZELLE_SHA256" > "$OFFLINE_DIR/gazelle.new/$marker"
  rm -rf "$OFFLINE_DIR/gazelle" && mv "$OFFLINE_DIR/gazelle.new" "$OFFLINE_DIR/gazelle"
fi

# gazelle's go_deps builds its repository tools (gazelle, fetch_repo, generate_repo_config)
# with `go install` in every fresh output base, about 20 s each time; build them once here,
# the same way (GOPATH mode from the vendored gazelle, the pinned SDK, -trimpath of the
# GOPATH) and hand them to Bazel with --override_repository.
tools_dir="$OFFLINE_DIR/gazelle-tools"
tools_stamp="gazelle=$GAZELLE_SHA256"   # built by whichever pinned SDK comes first: same tools
if [ "$(cat "$tools_dir/.cat-server-source" 2>/dev/null || true)" != "$tools_stamp" ]; then
  gopath="$OFFLINE_DIR/gazelle-tools.new"
  rm -rf "$gopath" && mkdir -p "$gopath/src/github.com/bazelbuild" "$gopath/bin"
  ln -s "$OFFLINE_DIR/gazelle" "$gopath/src/github.com/bazelbuild/bazel-gazelle"
  (cd "$gopath" && env -u GOFLAGS GOROOT="$sdk" GOPATH="$gopath" GOBIN= GO111MODULE=off CGO_ENABLED=0 \
    GOTOOLCHAIN=local "$sdk/bin/go" install -ldflags "-w -s" \
    -gcflags "all=-trimpath=$gopath" -asmflags "all=-trimpath=$gopath" \
    github.com/bazelbuild/bazel-gazelle/cmd/gazelle \
    github.com/bazelbuild/bazel-gazelle/cmd/fetch_repo \
    github.com/bazelbuild/bazel-gazelle/cmd/generate_repo_config)
  rm -rf "$gopath/src" "$gopath/pkg"
  {
    echo 'package(default_visibility = ["//visibility:public"])'
    for t in fetch_repo gazelle generate_repo_config; do
      printf '\nfilegroup(\n    name = "%s",\n    srcs = ["bin/%s"],\n)\n' "$t" "$t"
    done
    printf '\nexports_files(["ROOT"])\n'
  } > "$gopath/BUILD.bazel"
  : > "$gopath/ROOT"
  : > "$gopath/REPO.bazel"
  echo "$tools_stamp" > "$gopath/.cat-server-source"
  rm -rf "$tools_dir" && mv "$gopath" "$tools_dir"
fi

for m in "${STUBS[@]}"; do
  mkdir -p "$OFFLINE_DIR/stubs/$m"
  echo "module(name = \"$m\")" > "$OFFLINE_DIR/stubs/$m/MODULE.bazel"
  : > "$OFFLINE_DIR/stubs/$m/BUILD.bazel"
done

# Bazel's downloader refuses every URL but the Go module proxy's, so unreachable hosts fail
# at once; rules_go's go_sdk extension asks for the SDK list on every server start and
# tolerates the failure.
{
  for h in "${hosts[@]}"; do echo "allow $h"; done
  echo 'block *'
} > "$OFFLINE_DIR/downloader.cfg"

{
  echo "# Generated by tools/provision/offline-modules.sh: machine-specific, not committed."
  echo "common --override_module=rules_shell=/usr/share/bazel/rules/shell"
  echo "common --override_module=rules_go=$OFFLINE_DIR/rules_go"
  echo "common --override_module=gazelle=$OFFLINE_DIR/gazelle"
  for m in "${STUBS[@]}"; do
    echo "common --override_module=$m=$OFFLINE_DIR/stubs/$m"
  done
  echo "common --noenable_workspace"
  echo "common --lockfile_mode=off"
  echo "common --experimental_downloader_config=$OFFLINE_DIR/downloader.cfg"
  # The pinned Go SDK zip is already here: Bazel takes it (checked by sha256) from distdir,
  # or tools/gosdk links the SDK unpacked from it.
  echo "common --distdir=$OFFLINE_DIR/distdir"
  echo "common --repo_env=CAT_SERVER_GO_SDK_CACHE=$OFFLINE_DIR/go-sdk"
  # gazelle's repository tools, built above (Bazel 7's canonical name of that repository).
  echo "common --override_repository=gazelle~~non_module_deps~bazel_gazelle_go_repository_tools=$tools_dir"
  # go_deps fetches modules through the host's Go module cache (and GOPROXY).
  echo "common --repo_env=GO_REPOSITORY_USE_HOST_MODCACHE=1"
} > "$rc.new"
mv "$rc.new" "$rc"

touch "$SYSTEM_RC"
if ! grep -qxF "$import_line" "$SYSTEM_RC"; then
  if [ -s "$SYSTEM_RC" ] && [ -n "$(tail -c1 "$SYSTEM_RC")" ]; then echo >> "$SYSTEM_RC"; fi
  echo "$import_line" >> "$SYSTEM_RC"
fi

echo "$stamp" > "$OFFLINE_DIR/stamp"
echo "offline-modules: wrote $rc (imported from $SYSTEM_RC)"
