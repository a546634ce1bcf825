#!/usr/bin/env bash
# Times tools/provision/install-vulndb.sh: a build of the local Go vulnerability database
# into a fresh directory (module already in the Go module cache, vulndbmirror in Go's build
# cache after the first round) against a second run that finds it done, side by side,
# ROUNDS times (default 3). Prints each time, the load average, and the database size.
#
#   bench/vulndb.sh [ROUNDS]
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
rounds=${1:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

ms() { local t0 t1; t0=$(date +%s%N); "$@" >/dev/null 2>&1; t1=$(date +%s%N); echo $(((t1 - t0) / 1000000)); }

uptime
for i in $(seq "$rounds"); do
  dir="$work/round$i"
  build=$(CAT_SERVER_VULNDB_DIR=$dir ms "$repo/tools/provision/install-vulndb.sh")
  again=$(CAT_SERVER_VULNDB_DIR=$dir ms "$repo/tools/provision/install-vulndb.sh")
  echo "round $i: build ${build} ms, second run ${again} ms"
done
db=$(CAT_SERVER_VULNDB_DIR=$work/round1 "$repo/tools/provision/install-vulndb.sh" 2>/dev/null)
echo "database: $(find "${db#file://}/ID" -name '*.json' | wc -l) entries, $(du -sh "${db#file://}" | cut -f1)"
uptime
