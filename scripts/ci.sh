#!/usr/bin/env bash
# What CI runs (through .ci/run): installs what a fresh machine lacks, then runs the README's test command.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if ! command -v mvn >/dev/null 2>&1; then
  echo "ci: installing Maven" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq maven >/dev/null
fi
# UCX for the nixl-like connector's UCX backend (JUCX links against the system's libucp). Optional:
# if it cannot be installed, the UCX tests skip naming why and everything else runs over TCP.
if ! ldconfig -p 2>/dev/null | grep -q 'libucp\.so\.0'; then
  echo "ci: installing libucx0 (UCX) for the nixl-like UCX backend" >&2
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libucx0 >/dev/null; }; then
    echo "ci: could not install libucx0; the UCX tests will be skipped" >&2
  fi
fi
# Redis for the redis connector's tests, which start their own servers (standalone, cluster, TLS)
# on loopback. Without it those tests skip naming why.
if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
  echo "ci: installing redis-server (and redis-cli) for the redis connector's tests" >&2
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; }; then
    echo "ci: could not install redis-server; the redis connector's tests will be skipped" >&2
  fi
fi
./kvconnect test
