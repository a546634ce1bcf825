#!/usr/bin/env bash
# Measures the size of the cat-server image (target of the original Docker design:
# under 50 MB).
#
#   bench/image-size.sh [extra bazel build args, e.g. --define uid=2000 --define gid=2000]
#
# Builds //image with tools/bazel (from the repository root, found relative to this
# script), then reads the OCI layout it produces and prints:
#   - compressed size:   sum of the blobs the manifest references (layers + config)
#                        plus the manifest itself, i.e. what a registry stores / a pull
#                        downloads;
#   - uncompressed size: sum of the uncompressed layer tars (gzip -dc | wc -c per
#                        layer), roughly what the image takes once unpacked.
# Extra arguments build in the normal output base, so bazel-bin/image/... then holds that
# variant until the next plain build. Both in bytes and MB (1 MB = 1,000,000 bytes; MiB is shown alongside), next to the
# 50 MB target. Exits non-zero only when the build or the layout is broken, not when the
# target is missed (that prints MISSED).
set -euo pipefail

TARGET_MB=50

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

if ! command -v python3 >/dev/null; then
  echo "image-size: python3 is needed to read the image's JSON" >&2
  exit 2
fi

echo "== tools/bazel build //image //image:image.digest $*" >&2
tools/bazel build //image //image:image.digest "$@" >&2
bin=$(tools/bazel info bazel-bin "$@" 2>/dev/null)
layout="$bin/image/image"
if [ ! -f "$layout/index.json" ]; then
  echo "image-size: no OCI layout at $layout" >&2
  exit 2
fi

# One line per blob: kind, digest, size (from the descriptor), media type. The manifest
# is the single entry of index.json (the image rule writes one).
blob_list=$(python3 - "$layout" <<'PY'
import json, sys, os
layout = sys.argv[1]
index = json.load(open(os.path.join(layout, "index.json")))
if len(index["manifests"]) != 1:
    sys.exit("image-size: expected one manifest in index.json, found %d" % len(index["manifests"]))
md = index["manifests"][0]
def blob(d):
    algo, hexd = d["digest"].split(":", 1)
    return os.path.join(layout, "blobs", algo, hexd)
manifest = json.load(open(blob(md)))
print("manifest", md["digest"], md["size"], md["mediaType"])
c = manifest["config"]
print("config", c["digest"], c["size"], c["mediaType"])
for l in manifest["layers"]:
    print("layer", l["digest"], l["size"], l["mediaType"])
PY
)

mb() { python3 -c 'import sys; b=int(sys.argv[1]); print("%.3f MB (%.3f MiB)" % (b/1e6, b/1048576))' "$1"; }

compressed=0
uncompressed=0
printf '\n%-9s %-20s %14s %16s  %s\n' KIND DIGEST COMPRESSED UNCOMPRESSED MEDIATYPE
while read -r kind digest size mediatype; do
  file="$layout/blobs/${digest%%:*}/${digest#*:}"
  actual=$(wc -c <"$file")
  if [ "$actual" -ne "$size" ]; then
    echo "image-size: $digest: descriptor says $size bytes, blob has $actual" >&2
    exit 2
  fi
  compressed=$((compressed + size))
  unc="-"
  if [ "$kind" = layer ]; then
    case "$mediatype" in
      *tar+gzip) unc=$(gzip -dc <"$file" | wc -c) ;;
      *tar) unc=$size ;;
      *) echo "image-size: $digest: unexpected layer media type $mediatype" >&2; exit 2 ;;
    esac
    uncompressed=$((uncompressed + unc))
  fi
  printf '%-9s %-20s %14s %16s  %s\n' "$kind" "${digest:0:19}" "$size" "$unc" "$mediatype"
done <<<"$blob_list"

verdict() {  # <bytes>
  if [ "$1" -lt $((TARGET_MB * 1000000)) ]; then echo "ok (< $TARGET_MB MB)"; else echo "MISSED (target < $TARGET_MB MB)"; fi
}

echo
echo "image:        $(cat "$bin/image/image.json.sha256")  ($layout)"
echo "compressed:   $compressed bytes = $(mb "$compressed")   $(verdict "$compressed")"
echo "uncompressed: $uncompressed bytes = $(mb "$uncompressed")   $(verdict "$uncompressed")"
