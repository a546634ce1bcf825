#!/bin/sh
# Bazel's --workspace_status_command (.bazelrc): prints "KEY VALUE" lines that rules read
# only under --stamp (//tools/stamp). Keys starting with STABLE_ go to stable-status.txt
# (a change rebuilds stamped outputs); the others to volatile-status.txt.
#
#   STABLE_GIT_COMMIT        the checked-out commit ("" outside a git checkout)
#   STABLE_GIT_DIRTY         true when tracked files differ from it, else false
#   STABLE_VERSION           the VERSION file's first line, else `git describe --tags --always`
#   STABLE_VERSION_TAG       STABLE_VERSION as a valid OCI tag (other characters become -)
#   BUILD_TIMESTAMP_RFC3339  now (or $SOURCE_DATE_EPOCH if set), RFC 3339 in UTC
#   BUILD_INVOCATION_ID      a random UUID for this bazel command
#
# Fast (three git commands) and never fails: outside git, or without git, the git keys
# are empty/false and the version comes from VERSION alone.
set -u

commit=""
dirty=false
describe=""
if command -v git >/dev/null 2>&1 && git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  commit=$(git rev-parse --verify -q HEAD 2>/dev/null || true)
  if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
    dirty=true
  fi
  describe=$(git describe --tags --always 2>/dev/null || true)
fi

version=""
if [ -f VERSION ]; then
  version=$(head -n 1 VERSION | tr -d ' \t\r')
fi
[ -n "$version" ] || version=$describe
[ -n "$version" ] || version=0.0.0-unknown
tag=$(printf '%s\n' "$version" | sed -e 's/[^A-Za-z0-9_.-]/-/g' -e 's/^[.-]*//' | cut -c 1-128)
[ -n "$tag" ] || tag=unknown

if [ -n "${SOURCE_DATE_EPOCH:-}" ]; then
  created=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ 2>/dev/null ||
    date -u -r "$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)
else
  created=$(date -u +%Y-%m-%dT%H:%M:%SZ)
fi

if [ -r /proc/sys/kernel/random/uuid ]; then
  invocation=$(cat /proc/sys/kernel/random/uuid)
else
  invocation=$(od -An -N16 -tx1 /dev/urandom 2>/dev/null | tr -d ' \n')
fi

echo "STABLE_GIT_COMMIT $commit"
echo "STABLE_GIT_DIRTY $dirty"
echo "STABLE_VERSION $version"
echo "STABLE_VERSION_TAG $tag"
echo "BUILD_TIMESTAMP_RFC3339 $created"
echo "BUILD_INVOCATION_ID $invocation"
