#!/usr/bin/env bash
# Transfer throughput of the nixl-like connector's transport for blocks of 16 KiB to 4 MiB, as a
# ratio against a raw loopback socket copy measured in the same run; with --first-reads, the
# latency of the first reads on a new connection between two processes (as in ./kvconnect disagg).
#   scripts/nixl-transport.sh [--quick | --first-reads]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
. "$ROOT/scripts/jdk.sh"
use_jdk bench
export MAVEN_OPTS="${MAVEN_OPTS:---sun-misc-unsafe-memory-access=allow}"
echo "bench: building connector-nixl-like and its test classes (tests skipped) ..." >&2
(cd "$ROOT" && mvn -B -ntp -q -Dstyle.color=never -DskipTests -pl connector-nixl-like -am install \
  && mvn -B -ntp -q -Dstyle.color=never -pl connector-nixl-like dependency:build-classpath \
       -Dmdep.outputFile=target/test-classpath.txt -Dmdep.includeScope=test) >&2
M="$ROOT/connector-nixl-like/target"
# UCX 1.13 warns on stdout that JUCX 1.15 asked for a newer API (it works; see docs/connectors/nixl-like.md),
# once per context: it would cut through the table. Errors still print.
export UCX_LOG_LEVEL="${UCX_LOG_LEVEL:-error}"
# JUCX loads its JNI library (the UCX backend); allowed explicitly so the JDK does not warn.
MAIN=io.kvconnect.nixl.transport.TransportThroughput
if [ "${1:-}" = "--first-reads" ]; then
  MAIN=io.kvconnect.nixl.transport.FirstReads
  shift
fi
exec "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -cp "$M/test-classes:$M/classes:$(cat "$M/test-classpath.txt")" \
  "$MAIN" "$@"
