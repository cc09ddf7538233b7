#!/usr/bin/env bash
# Builds the benchmarks module (and the modules it needs, tests skipped) and runs the JMH benchmarks,
# ending with a summary table and the scheduler-step target.
#   scripts/run-benchmarks.sh [REGEX] [--quick]     (also: ./kvconnect bench ...)
# REGEX selects benchmarks (JMH include pattern); --quick is a short smoke run.
#   scripts/run-benchmarks.sh connector-timing [READ_MS] [SESSIONS]     (defaults 5 and 24)
#   scripts/run-benchmarks.sh disk [DIRECTORY] [PROMPTS]                 (disk tier vs plain file I/O)
#   scripts/run-benchmarks.sh copy-interleaved [KIBS [BATCHES [ROUNDS]]]   (copy service vs plain copy,
#                                                 alternating rounds in one JVM: robust to other load)
#   scripts/run-benchmarks.sh step-cpu [NAME=VALUE ...]   (the scheduler step's engine-thread CPU time
#                                                 and allocation per step, rounds after a long warm-up)
#   scripts/run-benchmarks.sh cuda [--quick]     (copy service on CUDA device memory vs cudaMemcpyAsync;
#                                                 prints why and "skipped", exit 0, without CUDA)
#   scripts/run-benchmarks.sh redis              (the redis connector's data path vs raw SET/GET through
#                                                 the same client, on a redis-server of its own)
# shows how the engine times a connector's own threads: one storage tier whose loads take READ_MS
# of wall time, loaded inline, on its own thread without pacing, and with pacing "loads" (the
# default); prints time to first token (modelled) and wall time of each.
# Finds a JDK >= 25 by itself, as ./kvconnect does; needs Maven >= 3.8.7.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
. "$ROOT/scripts/jdk.sh"
use_jdk bench
# Maven's own Guava calls sun.misc.Unsafe, which JDK 25 warns about on every start; allow it quietly.
export MAVEN_OPTS="${MAVEN_OPTS:---sun-misc-unsafe-memory-access=allow}"

if ! command -v mvn >/dev/null 2>&1; then
  echo "bench: Maven (mvn >= 3.8.7) is not installed; on Debian: apt-get install maven" >&2
  exit 1
fi
if [[ "${1:-}" == redis ]]; then
  # The Redis benchmark drives the connector's package-private store and value code, so it lives
  # with the connector's tests (behind a property, so the test suite never runs it) and starts its
  # own redis-server the way those tests do.
  command -v redis-server >/dev/null 2>&1 || { echo "bench: redis-server is not installed" >&2; exit 1; }
  echo "bench: building connector-redis and what it needs (tests skipped) ..." >&2
  (cd "$ROOT" && mvn -B -ntp -q -Dstyle.color=never -DskipTests -pl connector-redis -am install) >&2
  (cd "$ROOT" && mvn -B -ntp -q -Dstyle.color=never -pl connector-redis surefire:test \
    -Dtest=RedisBenchmark -Dkvconnect.redis.bench=true -Dsurefire.failIfNoSpecifiedTests=false) >&2
  exec cat "$ROOT/connector-redis/target/redis-benchmark.txt"
fi
echo "bench: building the benchmarks (tests skipped) ..." >&2
(cd "$ROOT" && mvn -B -ntp -q -Dstyle.color=never -DskipTests -pl benchmarks -am package) >&2

CLASS=io.kvconnect.bench.BenchMain
JVM_EXTRA=()
if [[ "${1:-}" == connector-timing ]]; then
  CLASS=io.kvconnect.bench.ConnectorTimingComparison
  shift
elif [[ "${1:-}" == disk ]]; then
  CLASS=io.kvconnect.bench.DiskTierBandwidth
  shift
elif [[ "${1:-}" == copy-interleaved ]]; then
  CLASS=io.kvconnect.bench.InterleavedCopyBandwidth
  # A fixed, pre-touched heap, as in an engine that has run a while: the copy service allocates a
  # little per copy, and in a fresh JVM each new allocation buffer first touches pages of the heap
  # that were never used, a page fault each, which the plain copy (allocating nothing) never pays.
  JVM_EXTRA=(-Xms1g -Xmx1g -XX:+AlwaysPreTouch)
  shift
elif [[ "${1:-}" == step-cpu ]]; then
  CLASS=io.kvconnect.bench.SchedulerStepCpu
  shift
elif [[ "${1:-}" == cuda ]]; then
  CLASS=io.kvconnect.bench.CudaCopyBandwidth
  shift
fi
# The class path is written by maven-dependency-plugin (build-classpath) during package. JMH forks
# its benchmark JVMs with the same class path; JMH 1.37 itself calls sun.misc.Unsafe.
exec "$JAVA_HOME/bin/java" --sun-misc-unsafe-memory-access=allow --enable-native-access=ALL-UNNAMED "${JVM_EXTRA[@]}" \
  -cp "$ROOT/benchmarks/target/classes:$(cat "$ROOT/benchmarks/target/classpath.txt")" \
  "$CLASS" "$@"
