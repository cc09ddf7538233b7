#!/usr/bin/env bash
# How the engine times a connector's own threads: one storage tier whose loads take READ_MS of wall
# time, loaded inline, on its own thread without pacing, and on its own thread with pacing "loads"
# (the default). Prints time to first token (modelled) and wall time of each.
#   bench/connector-timing.sh [READ_MS] [SESSIONS]     (defaults 5 and 24)
# Finds a JDK >= 25 by itself, as ./kvconnect does; needs Maven >= 3.8.7.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
. "$ROOT/scripts/jdk.sh"
use_jdk bench
export MAVEN_OPTS="${MAVEN_OPTS:---sun-misc-unsafe-memory-access=allow}"
if ! command -v mvn >/dev/null 2>&1; then
  echo "bench: Maven (mvn >= 3.8.7) is not installed; on Debian: apt-get install maven" >&2
  exit 1
fi
echo "bench: building the benchmarks (tests skipped) ..." >&2
(cd "$ROOT" && mvn -B -ntp -q -Dstyle.color=never -DskipTests -pl benchmarks -am package) >&2
exec "$JAVA_HOME/bin/java" -cp "$ROOT/benchmarks/target/classes:$(cat "$ROOT/benchmarks/target/classpath.txt")" \
  io.kvconnect.bench.ConnectorTimingComparison "$@"
