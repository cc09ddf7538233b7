#!/usr/bin/env bash
# Transfer throughput of the nixl-like connector's transport for blocks of 16 KiB to 4 MiB, as a
# ratio against a raw loopback socket copy measured in the same run.
#   scripts/nixl-transport.sh [--quick]
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
# JUCX loads its JNI library (the UCX backend); allowed explicitly so the JDK does not warn.
exec "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -cp "$M/test-classes:$M/classes:$(cat "$M/test-classpath.txt")" \
  io.kvconnect.nixl.TransportThroughput "$@"
