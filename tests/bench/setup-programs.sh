#!/bin/sh
# setup-programs.sh - install the lock-heavy programs that run-programs.py measures.
# SPDX-License-Identifier: MIT
#
#   sudo tests/bench/setup-programs.sh
#
# Installs sysbench, stress-ng and memcached from the distribution (Debian or
# Ubuntu: apt-get install --no-install-recommends). Idempotent: programs that
# are already installed are left alone and nothing is downloaded when all of
# them are there. Runs `apt-get update` only if the first install attempt fails
# (stale package lists). Exit status 0 when all three are installed afterwards.
set -eu

PACKAGES="sysbench stress-ng memcached"

missing=""
for p in $PACKAGES; do
  if command -v "$p" >/dev/null 2>&1; then
    echo "setup-programs: $p is installed ($(command -v "$p"))"
  else
    missing="$missing $p"
  fi
done
if [ -z "$missing" ]; then
  echo "setup-programs: nothing to do"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "setup-programs: apt-get not found; install these with your package manager:$missing" >&2
  exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "setup-programs: must run as root to install:$missing (try: sudo $0)" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
echo "setup-programs: apt-get install -y --no-install-recommends$missing"
# shellcheck disable=SC2086  # word splitting of the package list is intended
if ! apt-get install -y --no-install-recommends $missing; then
  echo "setup-programs: install failed; running apt-get update and trying again"
  apt-get update
  # shellcheck disable=SC2086
  apt-get install -y --no-install-recommends $missing
fi

status=0
for p in $missing; do
  if command -v "$p" >/dev/null 2>&1; then
    echo "setup-programs: installed $p ($(command -v "$p"))"
  else
    echo "setup-programs: $p is still missing after the install" >&2
    status=1
  fi
done
exit $status
