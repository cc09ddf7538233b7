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
  if [ ! -d "$need" ]; then
    echo "device-bundle: $need is missing; build first (mvn install -DskipTests, then mvn test-compile -pl connector-core)" >&2
    exit 1
  fi
done

rm -rf "$OUT"
mkdir -p "$OUT/lib" "$OUT/natives" "$OUT/tests" "$OUT/bench/io/kvconnect/bench"
# The CUDA copy bandwidth report: one class over the engine's DeviceCopyBandwidth (no JMH needed).
cp "$BENCH" "$OUT/bench/io/kvconnect/bench/"
cp "$MODULES"/*.jar "$OUT/lib/"
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

# The JDK modules the engine, its libraries and the launcher need (java.desktop: the launcher
# requires it for its HTML charts, which the check does not draw, so AWT's native libraries stay
# out); checked by running check.sh here. libjvm.so loses its symbol tables (5 MiB).
"$JAVA_HOME/bin/jlink" --add-modules java.base,java.logging,java.management,jdk.management,java.desktop,jdk.unsupported,jdk.zipfs \
  --strip-debug --no-header-files --no-man-pages --compress zip-9 \
  --exclude-files='regex:.*/lib/lib(awt_xawt|jawt|splashscreen|jsound|lcms|javajpeg|mlib_image|fontmanager|freetype)\.so' \
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
"$JAVA" @"$B/engine-jvm.args" -Djava.library.path="$B/natives" --module-path "$B/lib" \
  --module kvconnect.tools/io.kvconnect.tools.cli.Main run --config "$B/offload-cuda.json" --baseline || status=1
echo "== CUDA copy bandwidth: copy service vs plain cudaMemcpyAsync (skipped, naming why, without CUDA)"
"$JAVA" --enable-native-access=ALL-UNNAMED -Djava.library.path="$B/natives" -cp "$B/bench:$CP" \
  io.kvconnect.bench.CudaCopyBandwidth || status=1
exit $status
CHECK
chmod +x "$OUT/check.sh"
cp "$ROOT/kvconnect-tools/src/main/resources/io/kvconnect/tools/cli/engine-jvm.args" "$OUT/"
echo "device-bundle: $OUT ($(du -sm "$OUT" | cut -f1) MiB)"
