#!/usr/bin/env bash
# End-to-end check of the third-party story: build examples/hello-connector and
# examples/disk-tier-connector outside the reactor against the installed API jar, drop them into
# plugins directories, and use them through ./kvconnect.
# Called by `./kvconnect test` after the reactor is installed; JAVA_HOME is set by the launcher.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
passed=0
failed=0

check() { # $1 = description, $2 = command output file, $3 = expected text (grep -F)
  if grep -qF -- "$3" "$2"; then
    passed=$((passed + 1)); echo "ok   - $1"
  else
    failed=$((failed + 1)); echo "FAIL - $1: expected '$3' in:"; sed 's/^/       /' "$2"
  fi
}

mvn -B -ntp -q -Dstyle.color=never -f "$ROOT/examples/hello-connector/pom.xml" clean package
mkdir -p "$WORK/plugins"
cp "$ROOT/examples/hello-connector/target/hello-connector-1.0.0.jar" "$WORK/plugins/"

"$ROOT/kvconnect" connectors --plugins-dir "$WORK/plugins" >"$WORK/list.txt" 2>&1 || true
check "the plugin is discovered from the plugins directory" "$WORK/list.txt" "plugins_directory"
check "its name, version and module are listed" "$WORK/list.txt" "hello            1.0.0        plugins_directory  com.example.hello"

# The same jar found by ServiceLoader on the module path and on the class path, without a plugins directory.
MODULES="$ROOT/distribution/target/modules"
JAR="$WORK/plugins/hello-connector-1.0.0.jar"
# The engine JVM's options, as ./kvconnect passes them.
ENGINE_JVM_ARGS="$ROOT/kvconnect-tools/src/main/resources/io/kvconnect/tools/cli/engine-jvm.args"
mkdir -p "$WORK/empty"
"$JAVA_HOME/bin/java" @"$ENGINE_JVM_ARGS" --module-path "$MODULES:$JAR" --module kvconnect.tools/io.kvconnect.tools.cli.Main \
  connectors --plugins-dir "$WORK/empty" >"$WORK/modulepath.txt" 2>&1 || true
check "on the module path it is found as a named module" "$WORK/modulepath.txt" \
  "hello            1.0.0        module_path        com.example.hello        $JAR"
"$JAVA_HOME/bin/java" @"$ENGINE_JVM_ARGS" -cp "$MODULES/*:$JAR" io.kvconnect.tools.cli.Main \
  connectors --plugins-dir "$WORK/empty" >"$WORK/classpath.txt" 2>&1 || true
check "on the class path it is found through META-INF/services" "$WORK/classpath.txt" \
  "hello            1.0.0        class_path         (unnamed)"

cat >"$WORK/config.json" <<JSON
{"model": "tiny", "workers": 2, "plugins_dir": "$WORK/plugins", "connector": {"name": "hello", "config": {"label": "ci"}}}
JSON
"$ROOT/kvconnect" run --config "$WORK/config.json" --sessions 3 --no-progress --baseline >"$WORK/run.txt" 2>&1 || true
check "the configured plugin is created for the scheduler and each worker" "$WORK/run.txt" \
  "Created connector 'hello' 1.0.0 from plugins-directory $WORK/plugins/hello-connector-1.0.0.jar: 1 scheduler side, 2 worker side(s)."
check "the engine runs the workload with the plugin and its outputs equal the run without it" "$WORK/run.txt" \
  "outputs identical to the baseline: yes"

cat >"$WORK/typo.json" <<JSON
{"plugins_dir": "$WORK/plugins", "connector": {"name": "hello", "config": {"lable": "ci"}}}
JSON
status=0; "$ROOT/kvconnect" run --config "$WORK/typo.json" >"$WORK/typo.txt" 2>&1 || status=$?
echo "exit status $status" >>"$WORK/typo.txt"
check "a misspelt plugin key is a configuration error naming the field" "$WORK/typo.txt" \
  "configuration error: config.connector.config.lable: unknown key; allowed keys: [label]"
check "... with exit status 2" "$WORK/typo.txt" "exit status 2"

cat >"$WORK/unknown.json" <<JSON
{"plugins_dir": "$WORK/plugins", "connector": {"name": "helo"}}
JSON
"$ROOT/kvconnect" run --config "$WORK/unknown.json" >"$WORK/unknown.txt" 2>&1 || true
check "an unknown connector name lists the available ones" "$WORK/unknown.txt" \
  "config.connector.name: unknown connector 'helo'; available: disk, hello"

# A plugins directory that is not there is an error naming it, never an empty directory in disguise.
status=0; "$ROOT/kvconnect" connectors --plugins-dir "$WORK/absent" >"$WORK/absent.txt" 2>&1 || status=$?
echo "exit status $status" >>"$WORK/absent.txt"
check "a missing plugins directory is an error naming the option and the path" "$WORK/absent.txt" \
  "configuration error: --plugins-dir: plugins directory $WORK/absent does not exist"
check "... with exit status 2" "$WORK/absent.txt" "exit status 2"

# A refused plugin is reported once, as refused: two copies of the example jar provide 'hello' twice.
mkdir -p "$WORK/twice"
cp "$JAR" "$WORK/twice/hello-a.jar"
cp "$JAR" "$WORK/twice/hello-b.jar"
cat >"$WORK/twice.json" <<JSON
{"plugins_dir": "$WORK/twice", "connector": {"name": "hello"}}
JSON
status=0; "$ROOT/kvconnect" run --config "$WORK/twice.json" >"$WORK/twice.txt" 2>&1 || status=$?
echo "exit status $status" >>"$WORK/twice.txt"
check "a configured connector that was refused is an error saying so, and why" "$WORK/twice.txt" \
  "configuration error: config.connector.name: connector 'hello' was refused: connector name 'hello' is provided more than once"
check "... with exit status 2" "$WORK/twice.txt" "exit status 2"
echo "reported $(grep -cF "is provided more than once" "$WORK/twice.txt") time(s)." >"$WORK/twice-count.txt"
check "... and the refusal is reported once" "$WORK/twice-count.txt" "reported 1 time(s)."

# The disk tier example, a plugin that moves KV, built and installed the same way (its tests run
# the conformance kit), on a GPU pool too small to keep the conversations: later turns load their
# prefix from the block files.
mvn -B -ntp -q -Dstyle.color=never -f "$ROOT/examples/disk-tier-connector/pom.xml" clean package
mkdir -p "$WORK/disk-plugins"
cp "$ROOT/examples/disk-tier-connector/target/disk-tier-connector-1.0.0.jar" "$WORK/disk-plugins/"
cat >"$WORK/disk.json" <<JSON
{"model": "tiny", "gpu_blocks": 256, "workers": 2, "plugins_dir": "$WORK/disk-plugins",
 "connector": {"name": "disk-tier", "config": {"directory": "$WORK/kv", "capacity": "64MiB"}}}
JSON
"$ROOT/kvconnect" run --config "$WORK/disk.json" --sessions 12 --no-progress --baseline >"$WORK/disk.txt" 2>&1 || true
check "the disk tier is created from the plugins directory" "$WORK/disk.txt" \
  "Created connector 'disk-tier' 1.0.0 from plugins-directory $WORK/disk-plugins/disk-tier-connector-1.0.0.jar: 1 scheduler side, 2 worker side(s)."
check "with the disk tier the outputs equal the run without it" "$WORK/disk.txt" "outputs identical to the baseline: yes"
check "... and every KV read verifies" "$WORK/disk.txt" "result                                          OK"
awk '/^  connector hit rate/ { sub("%", "", $4); if ($4 + 0 > 0) print "nonzero" }' "$WORK/disk.txt" >"$WORK/disk-rate.txt"
check "... and later turns load from the block files (a connector hit rate above zero)" "$WORK/disk-rate.txt" "nonzero"
find "$WORK/kv" -name '*.kv' | wc -l | awk '{ if ($1 > 0) print "block files written" }' >"$WORK/disk-files.txt"
check "... which the workers wrote under the tier's directory" "$WORK/disk-files.txt" "block files written"

# A second engine on the same directory, without warm-up and with a GPU pool that keeps every
# block of the workload: its connector hits can only come from the files the first run left.
sed 's/"gpu_blocks": 256/"gpu_blocks": 4096/' "$WORK/disk.json" >"$WORK/disk-again.json"
"$ROOT/kvconnect" run --config "$WORK/disk-again.json" --sessions 12 --no-progress --baseline --warmup 0 \
  >"$WORK/disk-again.txt" 2>&1 || true
grep -E "disk-tier: [1-9][0-9]* block\(s\) of earlier runs found in $WORK/kv" "$WORK/disk-again.txt" \
  >"$WORK/disk-found.txt" || true
check "a second engine on the same directory finds the blocks of the first run" "$WORK/disk-found.txt" "disk-tier:"
check "... its outputs equal the run without the connector" "$WORK/disk-again.txt" "outputs identical to the baseline: yes"
check "... every KV read verifies" "$WORK/disk-again.txt" "result                                          OK"
awk '/^  connector hit rate/ { sub("%", "", $4); if ($4 + 0 > 0) print "nonzero" }' "$WORK/disk-again.txt" \
  >"$WORK/disk-again-rate.txt"
check "... and it loads the first run's blocks (a connector hit rate above zero)" "$WORK/disk-again-rate.txt" "nonzero"

# Tiers composed: a host tier too small for the conversations, alone and then in front of a disk
# tier and a Redis tier in one multi (a redis-server of its own on a free loopback port). The
# composed run must serve more tokens from the connector than the host tier alone, with identical
# outputs and every KV read verified.
if command -v redis-server >/dev/null 2>&1; then
  # A loopback port nothing listens on (a connection to it is refused).
  while :; do
    REDIS_PORT=$((20000 + RANDOM % 40000))
    (exec 3<>"/dev/tcp/127.0.0.1/$REDIS_PORT") 2>/dev/null || break
  done
  mkdir -p "$WORK/redis"
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$WORK/redis" --save "" --appendonly no \
    --daemonize yes --pidfile "$WORK/redis/redis.pid" --logfile "$WORK/redis/redis.log"
  for _ in $(seq 50); do [ -s "$WORK/redis/redis.pid" ] && break; sleep 0.1; done
  "$ROOT/kvconnect" run --config "$ROOT/docs/examples/host-small.json" --no-progress --baseline \
    >"$WORK/host-small.txt" 2>&1 || true
  sed -e "s|127.0.0.1:6379|127.0.0.1:$REDIS_PORT|" -e "s|\"kv-disk-tier\"|\"$WORK/tiers-disk\"|" \
    "$ROOT/docs/examples/host-disk-redis.json" >"$WORK/host-disk-redis.json"
  "$ROOT/kvconnect" run --config "$WORK/host-disk-redis.json" --no-progress --baseline \
    >"$WORK/host-disk-redis.txt" 2>&1 || true
  kill "$(cat "$WORK/redis/redis.pid")" 2>/dev/null || true
  check "host, disk and Redis tiers composed: outputs equal the run without a connector" \
    "$WORK/host-disk-redis.txt" "outputs identical to the baseline: yes"
  check "... every KV read verifies" "$WORK/host-disk-redis.txt" "result                                          OK"
  computed() { sed -nE 's/.* saved [0-9]+% of prefill tokens \(([0-9,]+) instead of.*/\1/p' "$1" | tr -d ,; }
  alone=$(computed "$WORK/host-small.txt"); composed=$(computed "$WORK/host-disk-redis.txt")
  echo "prefill tokens computed: host tier alone ${alone:-?}, host+disk+redis ${composed:-?}" >"$WORK/tiers.txt"
  if [ -n "$alone" ] && [ -n "$composed" ] && [ "$composed" -lt "$alone" ]; then
    echo "the composed tiers computed fewer prefill tokens" >>"$WORK/tiers.txt"
  fi
  check "... and they serve more than the host tier alone (fewer prefill tokens computed)" "$WORK/tiers.txt" \
    "the composed tiers computed fewer prefill tokens"
else
  echo "skip - host, disk and Redis tiers composed: redis-server is not installed"
fi

# The main job as a new user runs it: the embedded default puts the bundled offload connector on a
# GPU pool too small for the conversations and runs the same workload without it, side by side.
status=0; "$ROOT/kvconnect" run --no-progress --html "$WORK/run.html" >"$WORK/default.txt" 2>&1 || status=$?
echo "exit status $status" >>"$WORK/default.txt"
grep -E '^ +connector offload +baseline$' "$WORK/default.txt" >"$WORK/default-columns.txt" || true
check "./kvconnect run shows the run with offload and the run without a connector side by side" \
  "$WORK/default-columns.txt" "connector offload"
grep -E '^outputs identical +yes' "$WORK/default.txt" >"$WORK/default-identical.txt" || true
check "... every output token is identical" "$WORK/default-identical.txt" "outputs identical"
grep -E '^offload saved [0-9]+% of prefill tokens .*; outputs identical; KV verified$' "$WORK/default.txt" \
  >"$WORK/default-saved.txt" || true
check "... and it ends saying what offload saved, outputs identical and KV verified" "$WORK/default-saved.txt" \
  "offload saved"
check "... with exit status 0" "$WORK/default.txt" "exit status 0"
[ -f "$WORK/run.html" ] && echo "png charts: $(grep -o 'src="data:image/png;base64,' "$WORK/run.html" | wc -l)" >"$WORK/default-html.txt" || true
touch "$WORK/default-html.txt"
check "... and --html wrote the page with its three charts" "$WORK/default-html.txt" "png charts: 3"
status=0; "$ROOT/kvconnect" run --no-baseline --sessions 8 --no-progress >"$WORK/single.txt" 2>&1 || status=$?
echo "exit status $status" >>"$WORK/single.txt"
check "./kvconnect run --no-baseline runs only the offload run, with its full report" "$WORK/single.txt" \
  "verified block reads"
grep -c "baseline" "$WORK/single.txt" | sed 's/^/lines naming a baseline: /' >"$WORK/single-baseline.txt" || true
check "... and no run without the connector" "$WORK/single-baseline.txt" "lines naming a baseline: 0"

# The bundled offload connector end to end: a GPU pool too small to keep the conversations, so
# later turns hit the host tier; outputs must equal the run without it and every KV read verify.
cat >"$WORK/offload.json" <<JSON
{"model": "tiny", "gpu_blocks": 256, "workers": 2, "connector": {"name": "offload", "config": {"capacity": "64MiB"}}}
JSON
"$ROOT/kvconnect" run --config "$WORK/offload.json" --sessions 12 --no-progress --baseline >"$WORK/offload.txt" 2>&1 || true
check "the bundled offload connector is found on the module path" "$WORK/offload.txt" \
  "Created connector 'offload' 0.1.0 from module-path"
check "with the offload connector the outputs equal the run without it" "$WORK/offload.txt" \
  "outputs identical to the baseline: yes"
check "... and every KV read verifies" "$WORK/offload.txt" \
  "result                                          OK"
grep -E '^  connector hit rate +[0-9]+\.[0-9]%' "$WORK/offload.txt" >"$WORK/offload-hits.txt" || true
check "... and later turns hit the host tier (a connector hit rate)" "$WORK/offload-hits.txt" "connector hit rate"
awk '/^  connector hit rate/ { sub("%", "", $4); if ($4 + 0 > 0) print "nonzero" }' "$WORK/offload.txt" >"$WORK/offload-rate.txt"
check "... which is above zero" "$WORK/offload-rate.txt" "nonzero"

# The other settings: offloaded blocks of 4 engine blocks, ARC eviction in a tier too small for
# the workload, synchronous loads, asynchronous scheduling, 4 workers.
cat >"$WORK/offload2.json" <<JSON
{"model": "tiny", "gpu_blocks": 256, "workers": 4, "async_scheduling": true, "connector": {"name": "offload",
 "config": {"capacity": "2MiB", "block_multiple": 4, "eviction": "arc", "load": "sync"}}}
JSON
"$ROOT/kvconnect" run --config "$WORK/offload2.json" --sessions 12 --no-progress --baseline --warmup 0 \
  >"$WORK/offload2.txt" 2>&1 || true
check "offload with block_multiple 4, arc, sync loads, async scheduling, 4 workers: identical outputs" \
  "$WORK/offload2.txt" "outputs identical to the baseline: yes"
check "... and every KV read verifies" "$WORK/offload2.txt" "result                                          OK"
awk '/^  connector hit rate/ { sub("%", "", $4); if ($4 + 0 > 0) print "nonzero" }' "$WORK/offload2.txt" \
  >"$WORK/offload2-rate.txt"
check "... with host-tier hits" "$WORK/offload2-rate.txt" "nonzero"

# The bundled multi connector end to end. First two host tiers: a small one with synchronous
# loads (fast, evicts constantly) in front of a larger one; loads come from the first tier with a
# hit, saves go to both, and the outputs must equal the run without a connector.
check "the multi connector is listed with the bundled ones" "$WORK/list.txt" \
  "multi            0.1.0        module_path        kvconnect.multi"
cat >"$WORK/tiers.json" <<JSON
{"model": "tiny", "gpu_blocks": 256, "workers": 2, "connector": {"name": "multi", "config": {"connectors": [
  {"name": "offload", "config": {"capacity": "2MiB", "load": "sync"}},
  {"name": "offload", "config": {"capacity": "64MiB"}}]}}}
JSON
"$ROOT/kvconnect" run --config "$WORK/tiers.json" --sessions 12 --no-progress --baseline >"$WORK/tiers.txt" 2>&1 || true
check "a multi of two host tiers is created from the module path" "$WORK/tiers.txt" \
  "Created connector 'multi' 0.1.0 from module-path"
check "with two host tiers the outputs equal the run without a connector" "$WORK/tiers.txt" \
  "outputs identical to the baseline: yes"
check "... and every KV read verifies" "$WORK/tiers.txt" "result                                          OK"
check "... the first tier serves loads (stats kept per child instance)" "$WORK/tiers.txt" "stat: 0:offload.hit_blocks"
check "... and the second tier stores too (saves go to every child)" "$WORK/tiers.txt" "stat: 1:offload.stored_blocks"
check "... and no child hook failed" "$WORK/tiers.txt" \
  "connector hook failures                          0                     0"

# Offload composed with the third-party test connector from the plugins directory: the composite
# (module path) finds a child in a plugin layer through the engine's catalog.
cat >"$WORK/mixed.json" <<JSON
{"model": "tiny", "gpu_blocks": 256, "workers": 2, "plugins_dir": "$WORK/plugins", "connector": {"name": "multi",
 "config": {"connectors": [{"name": "offload", "config": {"capacity": "64MiB"}}, {"name": "hello", "config": {"label": "multi"}}]}}}
JSON
"$ROOT/kvconnect" run --config "$WORK/mixed.json" --sessions 12 --no-progress --baseline >"$WORK/mixed.txt" 2>&1 || true
check "a multi of offload and the plugin connector runs with outputs equal to the run without it" "$WORK/mixed.txt" \
  "outputs identical to the baseline: yes"
check "... every KV read verifies" "$WORK/mixed.txt" "result                                          OK"
check "... the plugin child saw every request, under its own key" "$WORK/mixed.txt" "stat: 1:hello.requests_seen"
check "... and no child hook failed" "$WORK/mixed.txt" \
  "connector hook failures                          0                     0"

cat >"$WORK/multi-unknown.json" <<JSON
{"plugins_dir": "$WORK/plugins", "connector": {"name": "multi", "config": {"connectors": [
  {"name": "offload", "config": {"capacity": "64MiB"}}, {"name": "ofload"}]}}}
JSON
status=0; "$ROOT/kvconnect" run --config "$WORK/multi-unknown.json" >"$WORK/multi-unknown.txt" 2>&1 || status=$?
echo "exit status $status" >>"$WORK/multi-unknown.txt"
check "an unknown child connector names its field and lists the available ones" "$WORK/multi-unknown.txt" \
  "configuration error: config.connector.config.connectors[1].name: unknown connector 'ofload'; available: disk, hello, multi, nixl-like, offload, redis"
check "... with exit status 2" "$WORK/multi-unknown.txt" "exit status 2"

# The bundled nixl-like connector end to end: a prefill and a decode engine as two processes on
# loopback and the router; the decode engine pulls every prefill's blocks over UCX where UCX is
# installed (transport auto), else over TCP.
cat >"$WORK/disagg.json" <<JSON
{"model": "tiny", "gpu_blocks": 256, "workers": 2}
JSON
status=0
"$ROOT/kvconnect" disagg --config "$WORK/disagg.json" --sessions 6 --timeout 120 >"$WORK/disagg.txt" 2>&1 || status=$?
echo "exit status $status" >>"$WORK/disagg.txt"
check "disagg: the decode engine's outputs equal a single engine's" "$WORK/disagg.txt" \
  "outputs identical to a single engine: yes"
check "... every KV read on both engines verifies" "$WORK/disagg.txt" "KV verification on both engines: OK"
expected_transport=tcp
if grep -qF "nixl-like: transport ucx (auto: UCX available" "$WORK/disagg.txt"; then expected_transport=ucx; fi
check "... the blocks moved over the transport auto picked ($expected_transport)" "$WORK/disagg.txt" \
  "transport                            $expected_transport"
check "... the prefill engine freed every offered transfer" "$WORK/disagg.txt" "stat: sends_finished"
check "... the engines authenticated each other with the run's secret" "$WORK/disagg.txt" "stat: handshakes_ok"
check "... with exit status 0" "$WORK/disagg.txt" "exit status 0"

# The same with the transport forced to TCP (the other backend, when auto picked UCX above).
status=0
"$ROOT/kvconnect" disagg --config "$WORK/disagg.json" --sessions 4 --timeout 120 --transport tcp \
  >"$WORK/disagg-tcp.txt" 2>&1 || status=$?
echo "exit status $status" >>"$WORK/disagg-tcp.txt"
check "disagg --transport tcp: outputs equal a single engine's" "$WORK/disagg-tcp.txt" \
  "outputs identical to a single engine: yes"
check "... every KV read on both engines verifies" "$WORK/disagg-tcp.txt" "KV verification on both engines: OK"
check "... over the TCP transport" "$WORK/disagg-tcp.txt" "transport                            tcp"
check "... with exit status 0" "$WORK/disagg-tcp.txt" "exit status 0"

# The soak command: random streams with aborts, preemptions and injected copy faults
# through the offload tier and through a multi of two tiers; nothing may leak or change an output.
status=0; "$ROOT/kvconnect" soak --config "$WORK/offload.json" --rounds 6 \
  --faults copy_fail=0.05,copy_stall=0.05,stall_ms=2,late_errors=0.5 >"$WORK/soak.txt" 2>/dev/null || status=$?
echo "exit status $status" >>"$WORK/soak.txt"
check "a soak of the offload tier with failed and stalled copies passes" "$WORK/soak.txt" "result: PASSED"
check "... with exit status 0" "$WORK/soak.txt" "exit status 0"
status=0; "$ROOT/kvconnect" soak --config "$WORK/tiers.json" --rounds 4 \
  --faults copy_fail=0.05,copy_stall=0.05,stall_ms=2,late_errors=0.5 >"$WORK/soak-multi.txt" 2>/dev/null || status=$?
check "a soak of a multi of two tiers with failed and stalled copies passes" "$WORK/soak-multi.txt" "result: PASSED"

echo "example plugin checks: $passed of $((passed + failed)) passed"
[ "$failed" -eq 0 ]
