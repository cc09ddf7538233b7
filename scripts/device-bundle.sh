#!/usr/bin/env bash
# Builds target/device-bundle: a self-contained check of the CUDA device path for a machine with one
# GPU and no network, Maven or Java. It holds a jlinked Java runtime (only the modules needed), the
# distribution's module path, JCuda's JNI library, the engine's test classes, the JUnit console
# launcher, and check.sh. On the GPU machine:
#     bash device-bundle/check.sh
# runs the CUDA tests, then ./kvconnect run with offload on device memory and --baseline, then the
# CUDA copy bandwidth report (copy service vs plain cudaMemcpyAsync). Run it here
# too: without a CUDA driver the tests skip naming why and the run falls back as memory: auto does.
# Needs the build (./kvconnect test, or mvn install -DskipTests) and Maven for the JUnit launcher jar.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
. "$ROOT/scripts/jdk.sh"
use_jdk device-bundle
OUT="$ROOT/target/device-bundle"
MODULES="$ROOT/distribution/target/modules"
TESTS="$ROOT/connector-core/target/test-classes"
BENCH="$ROOT/benchmarks/target/classes/io/kvconnect/bench/CudaCopyBandwidth.class"
JUNIT_VERSION=1.13.4
JCUDA_VERSION=12.6.0

for need in "$MODULES" "$TESTS" "$BENCH"; do
  if [ ! -e "$need" ]; then
    echo "device-bundle: $need is missing; build first (mvn install -DskipTests: it compiles the tests and the benchmarks too)" >&2
    exit 1
  fi
done

rm -rf "$OUT"
mkdir -p "$OUT/lib" "$OUT/natives" "$OUT/tests" "$OUT/bench/io/kvconnect/bench"
# The CUDA copy bandwidth report: one class over the engine's DeviceCopyBandwidth (no JMH needed).
cp "$BENCH" "$OUT/bench/io/kvconnect/bench/"
cp "$MODULES"/*.jar "$OUT/lib/"
# Left out, to keep the bundle small (the check needs none of them): the redis connector and its
# client stack, and JFreeChart, which only the launcher's HTML charts use (check.sh draws none and
# runs the launcher on the class path, so neither JFreeChart nor java.desktop is loaded).
(cd "$OUT/lib" && rm -f connector-redis-*.jar lettuce-core-*.jar netty-*.jar reactor-core-*.jar \
  reactive-streams-*.jar redis-authx-*.jar jfreechart-*.jar)
# JCuda finds its JNI library on java.library.path first, so only the one library the runtime
# binding needs is shipped, unpacked, instead of the natives jar (9 MiB of libraries for NVRTC and
# the PTX compiler that nothing here uses).
NATIVES="$(ls "$OUT"/lib/jcuda-natives-*-linux-x86_64.jar)"
(cd "$OUT/natives" && "$JAVA_HOME/bin/jar" xf "$NATIVES" "lib/libJCudaRuntime-$JCUDA_VERSION-linux-x86_64.so" \
  && mv lib/*.so . && rmdir lib)
rm "$NATIVES"
cp -r "$TESTS"/. "$OUT/tests/"
(cd "$ROOT" && mvn -B -ntp -q dependency:copy \
  -Dartifact="org.junit.platform:junit-platform-console-standalone:$JUNIT_VERSION" \
  -DoutputDirectory="$OUT") >&2

# The JDK modules the engine, its libraries and the JUnit launcher need; java.desktop is not among
# them (only the launcher's charts use it). Checked by running check.sh here.
"$JAVA_HOME/bin/jlink" --add-modules java.base,java.logging,java.management,jdk.management,jdk.unsupported,jdk.zipfs \
  --strip-debug --no-header-files --no-man-pages --compress zip-9 \
  --output "$OUT/runtime"
if command -v strip >/dev/null 2>&1; then
  chmod u+w "$OUT/runtime/lib/server/libjvm.so"
  strip --strip-unneeded "$OUT/runtime/lib/server/libjvm.so"
fi

cat > "$OUT/offload-cuda.json" <<'JSON'
{
  "model": "tiny",
  "block_size": 16,
  "gpu_blocks": 256,
  "workers": 2,
  "eos_rate": 0.02,
  "memory": "auto",
  "connector": {"name": "offload", "config": {"capacity": "64MiB"}}
}
JSON

cat > "$OUT/check.sh" <<'CHECK'
#!/usr/bin/env bash
# The device check: CUDA tests, then a run with offload on device memory against the baseline.
set -uo pipefail
B="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
JAVA="$B/runtime/bin/java"
status=0
echo "== CUDA tests (JUnit console; they skip naming why where CUDA is not usable)"
CP="$B/tests:$(ls "$B"/lib/*.jar | tr '\n' ':')"
"$JAVA" --enable-native-access=ALL-UNNAMED -Djava.library.path="$B/natives" -jar "$B"/junit-platform-console-standalone-*.jar execute \
  --class-path "$CP" --select-class io.kvconnect.core.memory.CudaDeviceTest \
  --select-class io.kvconnect.core.memory.DeviceKvMemoryTest --details=tree || status=1
echo "== kvconnect run, offload on device memory (memory: auto), with --baseline"
# On the class path, not the module path: the launcher's module requires java.desktop and
# JFreeChart for its charts, which this bundle leaves out. Native access as engine-jvm.args grants
# it, to the unnamed module here; restricted methods elsewhere still throw.
LIBCP="$(ls "$B"/lib/*.jar | tr '\n' ':')"
"$JAVA" --sun-misc-unsafe-memory-access=deny --illegal-native-access=deny --enable-native-access=ALL-UNNAMED \
  -XX:-EnableDynamicAgentLoading -Djava.library.path="$B/natives" -cp "$LIBCP" \
  io.kvconnect.tools.cli.Main run --config "$B/offload-cuda.json" --baseline || status=1
echo "== CUDA copy bandwidth: copy service vs plain cudaMemcpyAsync (skipped, naming why, without CUDA)"
"$JAVA" --enable-native-access=ALL-UNNAMED -Djava.library.path="$B/natives" -cp "$B/bench:$CP" \
  io.kvconnect.bench.CudaCopyBandwidth || status=1
exit $status
CHECK
chmod +x "$OUT/check.sh"
echo "device-bundle: $OUT ($(du -sm "$OUT" | cut -f1) MiB)"
