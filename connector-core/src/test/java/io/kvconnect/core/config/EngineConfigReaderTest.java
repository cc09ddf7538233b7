package io.kvconnect.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.common.ConfigException;
import io.kvconnect.api.common.DType;
import io.kvconnect.api.common.ModelShape;
import io.kvconnect.core.plugin.PluginsDirectory;
import io.kvconnect.core.sched.LoadFailurePolicy;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Reading the engine's JSON configuration: every key, every refusal, and the messages an operator sees. */
class EngineConfigReaderTest {
    private static final String TOP_LEVEL_KEYS =
            "[async_scheduling, block_size, connector, connector_block_references, connector_errors, connector_timeout, "
                    + "cost, eos_rate, gpu_blocks, hook_timeout, host_memory_budget, "
                    + "kv_events, kv_layout, kv_memory_limit, load_failure_policy, load_failure_window, memory, model, "
                    + "pacing, plugins_dir, "
                    + "scheduler, trusted_plugins, verify_kv, workers]";
    private static final int ONE_MIB = 1 << 20;

    @TempDir
    Path dir;

    // ---- defaults -------------------------------------------------------------------------------

    @Test
    void embeddedDefaultHasTheValuesOfDefaultConfigJson() {
        EngineConfig config = EngineConfigReader.readDefault();

        assertEquals(new ModelShape("llama-3.2-1b", 16, 8, 64, DType.BF16), config.model());
        assertEquals(16, config.blockSize());
        assertEquals(2048, config.gpuBlocks());
        assertEquals(2, config.workers(), "default-config.json sets 2 workers, unlike the built-in fallback of 1");
        assertEquals(false, config.asyncScheduling());
        assertEquals(LoadFailurePolicy.FAIL, config.loadFailurePolicy());
        assertEquals(
                PluginsDirectory.byDefault(), config.pluginsDirectory(), "unset: the default, which may be absent");
        assertEquals(Optional.empty(), config.connector());
    }

    @Test
    void embeddedDefaultIsTheResourceParsed() throws IOException {
        String text;
        try (InputStream in = EngineConfigReader.class.getResourceAsStream(EngineConfigReader.DEFAULT_RESOURCE)) {
            assertTrue(in != null, "resource " + EngineConfigReader.DEFAULT_RESOURCE + " is packaged");
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }

        assertEquals(EngineConfigReader.parse(text, "resource"), EngineConfigReader.readDefault());
    }

    @Test
    void anEmptyObjectTakesTheBuiltInDefaultForEveryKey() {
        EngineConfig config = EngineConfigReader.parse("{}", "test");

        assertEquals(ModelPresets.all().get("llama-3.2-1b"), config.model());
        assertEquals(16, config.blockSize());
        assertEquals(2048, config.gpuBlocks());
        assertEquals(1, config.workers());
        assertEquals(false, config.asyncScheduling());
        assertEquals(LoadFailurePolicy.FAIL, config.loadFailurePolicy());
        assertEquals(
                PluginsDirectory.byDefault(), config.pluginsDirectory(), "unset: the default, which may be absent");
        assertEquals(Set.of(), config.trustedPlugins(), "no plugin is trusted unless configured");
        assertEquals(Optional.empty(), config.connector());
    }

    // ---- every key's happy path -----------------------------------------------------------------

    @Test
    void everyKeyIsRead() {
        EngineConfig config = EngineConfigReader.parse("""
                {
                  "model": "qwen2.5-7b",
                  "block_size": 32,
                  "gpu_blocks": 4096,
                  "workers": 4,
                  "async_scheduling": true,
                  "load_failure_policy": "recompute",
                  "plugins_dir": "/opt/kvconnect/plugins",
                  "trusted_plugins": ["com.example.fast", "jcuda"],
                  "connector": {"name": "offload", "config": {"capacity": "8GiB"}}
                }""", "test");

        assertEquals(new ModelShape("qwen2.5-7b", 28, 4, 128, DType.BF16), config.model());
        assertEquals(32, config.blockSize());
        assertEquals(4096, config.gpuBlocks());
        assertEquals(4, config.workers());
        assertEquals(true, config.asyncScheduling());
        assertEquals(LoadFailurePolicy.RECOMPUTE, config.loadFailurePolicy());
        assertEquals(
                PluginsDirectory.setBy("config.plugins_dir", Path.of("/opt/kvconnect/plugins")),
                config.pluginsDirectory());
        assertEquals(Set.of("com.example.fast", "jcuda"), config.trustedPlugins());
        ConnectorEntry entry = config.connector().orElseThrow();
        assertEquals("offload", entry.name());
        assertEquals(8L << 30, entry.config().getBytes("capacity", 0, 0, Long.MAX_VALUE));
    }

    @Test
    void asyncSchedulingFalseIsRead() {
        assertEquals(
                false,
                EngineConfigReader.parse("{\"async_scheduling\": false}", "test")
                        .asyncScheduling());
    }

    @Test
    void aRelativePluginsDirectoryStaysRelative() {
        assertEquals(
                PluginsDirectory.setBy("config.plugins_dir", Path.of("lib/plugins")),
                EngineConfigReader.parse("{\"plugins_dir\": \"lib/plugins\"}", "test")
                        .pluginsDirectory());
    }

    // ---- model ----------------------------------------------------------------------------------

    @Test
    void everyPresetCanBeNamed() {
        assertEquals(
                List.of("tiny", "llama-3.2-1b", "qwen2.5-7b", "llama-3-8b", "llama-3-70b"),
                List.copyOf(ModelPresets.all().keySet()));
        for (Map.Entry<String, ModelShape> preset : ModelPresets.all().entrySet()) {
            EngineConfig config = EngineConfigReader.parse("{\"model\": \"" + preset.getKey() + "\"}", "test");
            assertEquals(preset.getValue(), config.model(), preset.getKey());
            assertEquals(preset.getKey(), config.model().name());
        }
    }

    @Test
    void theTinyPresetHasItsOwnShape() {
        assertEquals(
                new ModelShape("tiny", 2, 2, 16, DType.FP16),
                EngineConfigReader.parse("{\"model\": \"tiny\"}", "test").model());
    }

    @Test
    void modelAsAnObject() {
        EngineConfig config = EngineConfigReader.parse("""
                {"model": {"name": "mistral-7b", "layers": 32, "kv_heads": 8, "head_dim": 128, "dtype": "fp8"}}""", "test");

        assertEquals(new ModelShape("mistral-7b", 32, 8, 128, DType.FP8), config.model());
    }

    @Test
    void aModelObjectFillsMissingFieldsWithDefaults() {
        EngineConfig config = EngineConfigReader.parse("{\"model\": {\"layers\": 4}}", "test");

        assertEquals(new ModelShape("custom", 4, 8, 64, DType.BF16), config.model());
    }

    @Test
    void modelDtypeIsCaseInsensitive() {
        assertEquals(
                DType.FP32,
                EngineConfigReader.parse("{\"model\": {\"dtype\": \"FP32\"}}", "test")
                        .model()
                        .dtype());
        assertEquals(
                DType.FP16,
                EngineConfigReader.parse("{\"model\": {\"dtype\": \"Fp16\"}}", "test")
                        .model()
                        .dtype());
    }

    @Test
    void anUnknownPresetListsThePresets() {
        ConfigException e = fails("{\"model\": \"gpt-5\"}");

        assertEquals("config.model", e.path());
        assertEquals(
                "config.model: unknown preset 'gpt-5'; allowed presets: tiny, llama-3.2-1b, qwen2.5-7b, "
                        + "llama-3-8b, llama-3-70b, or an object with name, layers, kv_heads, head_dim and dtype",
                e.getMessage());
    }

    @Test
    void presetNamesAreCaseSensitive() {
        ConfigException e = fails("{\"model\": \"TINY\"}");

        assertEquals("config.model", e.path());
        assertContains(e, "unknown preset 'TINY'");
    }

    @Test
    void aModelThatIsNeitherStringNorObjectIsRefused() {
        ConfigException e = fails("{\"model\": 7}");

        assertEquals("config.model", e.path());
        assertEquals("config.model: expected an object, got 7", e.getMessage());
    }

    @Test
    void anUnknownKeyInsideAModelObjectIsAnError() {
        ConfigException e = fails("{\"model\": {\"layers\": 4, \"num_layers\": 4}}");

        assertEquals("config.model.num_layers", e.path());
        assertEquals(
                "config.model.num_layers: unknown key; allowed keys: [dtype, head_dim, kv_heads, layers, name]",
                e.getMessage());
    }

    @ParameterizedTest
    @CsvSource({
        "layers, 0, '[1, 1024]'",
        "layers, 1025, '[1, 1024]'",
        "kv_heads, 0, '[1, 1024]'",
        "head_dim, 4097, '[1, 4096]'",
    })
    void outOfRangeModelFieldsNameTheFieldAndRange(String field, int value, String range) {
        ConfigException e = fails("{\"model\": {\"" + field + "\": " + value + "}}");

        assertEquals("config.model." + field, e.path());
        assertEquals("config.model." + field + ": " + value + " is out of range; allowed: " + range, e.getMessage());
    }

    @Test
    void anUnknownDtypeListsTheAllowedOnes() {
        ConfigException e = fails("{\"model\": {\"dtype\": \"int4\"}}");

        assertEquals("config.model.dtype", e.path());
        assertContains(e, "'int4' is not allowed; allowed values: fp16, bf16, fp32, fp8");
    }

    // ---- unknown keys ---------------------------------------------------------------------------

    @Test
    void kvEventsNameTheirSinkAndEngineAndBadSinksSayWhatIsAllowed() {
        EngineConfig config = EngineConfigReader.parse(
                "{\"kv_events\": {\"sink\": \"tcp:router:5557\", \"engine_id\": \"decode-3\", \"queue\": 16}}", "test");
        assertEquals(
                Optional.of(new KvEventsConfig(new KvEventsConfig.Tcp("router", 5557), "decode-3", 16)),
                config.kvEvents());
        assertEquals(Optional.empty(), EngineConfigReader.parse("{}", "test").kvEvents());
        ConfigException e = fails("{\"kv_events\": {\"sink\": \"zmq:x\"}}");
        assertEquals("config.kv_events.sink", e.path());
        assertTrue(e.getMessage().contains("\"tcp:<host>:<port>\""), e.getMessage());
        assertEquals(
                "config.kv_events.queue",
                fails("{\"kv_events\": {\"sink\": \"file:/x\", \"queue\": 0}}").path());
    }

    @Test
    void anUnknownTopLevelKeyIsNamedWithTheAllowedKeys() {
        ConfigException e = fails("{\"block_size\": 16, \"blocksize\": 16}");

        assertEquals("config.blocksize", e.path());
        assertEquals("config.blocksize: unknown key; allowed keys: " + TOP_LEVEL_KEYS, e.getMessage());
    }

    @Test
    void anUnknownKeyIsReportedEvenWhenEveryOtherKeyIsValid() {
        ConfigException e = fails("""
                {"model": "tiny", "workers": 2, "gpu_blocks": 64, "verbose": true}""");

        assertEquals("config.verbose", e.path());
        assertContains(e, "unknown key; allowed keys: " + TOP_LEVEL_KEYS);
    }

    // ---- numeric ranges -------------------------------------------------------------------------

    @ParameterizedTest
    @CsvSource({
        "block_size, 0, 1, 1024",
        "block_size, 1025, 1, 1024",
        "block_size, -16, 1, 1024",
        "gpu_blocks, 1, 2, 16777216",
        "gpu_blocks, 16777217, 2, 16777216",
        "workers, 0, 1, 64",
        "workers, 65, 1, 64",
    })
    void outOfRangeValuesNameTheFieldAndTheRange(String field, long value, long min, long max) {
        ConfigException e = fails("{\"" + field + "\": " + value + "}");

        assertEquals("config." + field, e.path());
        assertEquals(
                "config." + field + ": " + value + " is out of range; allowed: [" + min + ", " + max + "]",
                e.getMessage());
    }

    @ParameterizedTest
    @CsvSource({
        "block_size, 1",
        "block_size, 1024",
        "gpu_blocks, 2",
        "gpu_blocks, 16777216",
        "workers, 1",
        "workers, 64",
    })
    void rangeBoundsAreInclusive(String field, int value) {
        // Without a memory limit: 16777216 blocks of the default model are terabytes, which the
        // check of the KV cache's size (EngineLimitsConfigTest) refuses on any machine.
        EngineConfig config = EngineConfigReader.parse(
                "{\"" + field + "\": " + value + ", \"kv_memory_limit\": " + Long.MAX_VALUE + "}", "test");

        int read =
                switch (field) {
                    case "block_size" -> config.blockSize();
                    case "gpu_blocks" -> config.gpuBlocks();
                    default -> config.workers();
                };
        assertEquals(value, read);
    }

    @Test
    void aValueBeyondIntRangeIsOutOfRangeNotTruncated() {
        // 2^32 + 16 would read as 16 if the long were narrowed to int before the range check.
        ConfigException e = fails("{\"block_size\": 4294967312}");

        assertEquals("config.block_size: 4294967312 is out of range; allowed: [1, 1024]", e.getMessage());
    }

    @Test
    void anIntegerBeyond64BitsIsRefused() {
        ConfigException e = fails("{\"gpu_blocks\": 99999999999999999999}");

        assertEquals("config.gpu_blocks", e.path());
        assertContains(e, "does not fit in 64 bits");
    }

    @Test
    void aNumberWrittenAsAStringIsAWrongType() {
        ConfigException e = fails("{\"block_size\": \"16\"}");

        assertEquals("config.block_size: expected an integer in [1, 1024], got '16'", e.getMessage());
    }

    @Test
    void aFractionIsNotAnInteger() {
        ConfigException e = fails("{\"workers\": 1.5}");

        assertEquals("config.workers: expected an integer in [1, 64], got 1.5", e.getMessage());
    }

    @Test
    void nullIsRefusedRatherThanTakenAsTheDefault() {
        ConfigException e = fails("{\"workers\": null}");

        assertEquals("config.workers", e.path());
        assertContains(e, "null is not a value; leave the key out instead");
    }

    @Test
    void asyncSchedulingMustBeABoolean() {
        ConfigException e = fails("{\"async_scheduling\": \"yes\"}");

        assertEquals("config.async_scheduling: expected true or false, got 'yes'", e.getMessage());
    }

    @Test
    void pluginsDirMustBeAString() {
        ConfigException e = fails("{\"plugins_dir\": [\"a\", \"b\"]}");

        assertEquals("config.plugins_dir: expected a string, got a list", e.getMessage());
    }

    @Test
    void anInvalidPluginsDirIsAConfigException() {
        ConfigException e = fails("{\"plugins_dir\": \"plug\\u0000ins\"}");

        assertEquals("config.plugins_dir", e.path());
    }

    // ---- trusted_plugins ------------------------------------------------------------------------

    @Test
    void trustedPluginsMustBeAListOfStrings() {
        assertEquals(
                "config.trusted_plugins: expected a list of strings, got 'com.example.fast'",
                fails("{\"trusted_plugins\": \"com.example.fast\"}").getMessage());
        assertEquals(
                "config.trusted_plugins[1]: expected a string, got 7",
                fails("{\"trusted_plugins\": [\"a\", 7]}").getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "com..example", "com.example.", "1plugin", "com/example", "my plugin", "*"})
    void aTrustedPluginThatIsNoModuleNameIsRefusedNamingItsIndex(String name) {
        ConfigException e = fails("{\"trusted_plugins\": [\"com.example.ok\", \"" + name + "\"]}");

        assertEquals("config.trusted_plugins[1]", e.path());
        assertContains(e, "is not a module name; allowed: a plugin's module name, such as com.example.connector");
    }

    // ---- load_failure_policy --------------------------------------------------------------------

    @ParameterizedTest
    @CsvSource({
        "fail, FAIL",
        "FAIL, FAIL",
        "Fail, FAIL",
        "recompute, RECOMPUTE",
        "RECOMPUTE, RECOMPUTE",
        "ReCompute, RECOMPUTE",
    })
    void loadFailurePolicyIsCaseInsensitive(String written, LoadFailurePolicy expected) {
        EngineConfig config = EngineConfigReader.parse("{\"load_failure_policy\": \"" + written + "\"}", "test");

        assertEquals(expected, config.loadFailurePolicy());
    }

    @ParameterizedTest
    @ValueSource(strings = {"retry", "", "failure", "re-compute!"})
    void anyOtherLoadFailurePolicyListsTheAllowedValues(String written) {
        ConfigException e = fails("{\"load_failure_policy\": \"" + written + "\"}");

        assertEquals("config.load_failure_policy", e.path());
        assertEquals(
                "config.load_failure_policy: '" + written + "' is not allowed; allowed values: fail, recompute",
                e.getMessage());
    }

    @Test
    void aLoadFailurePolicyOfTheWrongTypeListsTheAllowedValues() {
        ConfigException e = fails("{\"load_failure_policy\": true}");

        assertEquals("config.load_failure_policy: expected one of: fail, recompute, got true", e.getMessage());
    }

    // ---- connector ------------------------------------------------------------------------------

    @Test
    void aConnectorEntryWithConfig() {
        EngineConfig config = EngineConfigReader.parse("""
                {"connector": {"name": "offload", "config": {"capacity": "4GiB", "tiers": ["cpu", "disk"]}}}""", "test");

        ConnectorEntry entry = config.connector().orElseThrow();
        assertEquals("offload", entry.name());
        assertEquals("config.connector", entry.path());
        assertEquals("config.connector.config", entry.config().path());
        assertEquals(List.of("capacity", "tiers"), List.copyOf(entry.config().keys()));
        assertEquals("4GiB", entry.config().requireString("capacity"));
        assertEquals(List.of("cpu", "disk"), entry.config().getStringList("tiers"));
    }

    @Test
    void aConnectorsOwnConfigErrorsNameTheFullPath() {
        ConnectorEntry entry = EngineConfigReader.parse(
                        "{\"connector\": {\"name\": \"offload\", \"config\": " + "{\"capacity\": -1}}}", "test")
                .connector()
                .orElseThrow();

        ConfigException e =
                assertThrows(ConfigException.class, () -> entry.config().getLong("capacity", 1, 1, 10));

        assertEquals("config.connector.config.capacity", e.path());
    }

    @Test
    void aConnectorEntryWithoutConfigGetsAnEmptyConfigAtTheRightPath() {
        ConnectorEntry entry = EngineConfigReader.parse("{\"connector\": {\"name\": \"offload\"}}", "test")
                .connector()
                .orElseThrow();

        assertEquals("offload", entry.name());
        assertEquals("config.connector", entry.path());
        assertTrue(entry.config().keys().isEmpty(), entry.config().toString());
        assertEquals("config.connector.config", entry.config().path());
    }

    @Test
    void aConnectorEntryWithAnEmptyConfigObject() {
        ConnectorEntry entry = EngineConfigReader.parse(
                        "{\"connector\": {\"name\": \"offload\", \"config\": {}}}", "test")
                .connector()
                .orElseThrow();

        assertTrue(entry.config().keys().isEmpty(), entry.config().toString());
        assertEquals("config.connector.config", entry.config().path());
    }

    @Test
    void aConnectorEntryWithoutNameIsAnErrorAtItsName() {
        ConfigException e = fails("{\"connector\": {\"config\": {\"capacity\": 1}}}");

        assertEquals("config.connector.name", e.path());
        assertEquals("config.connector.name: is required but missing", e.getMessage());
    }

    @Test
    void aConnectorNameMustBeAString() {
        ConfigException e = fails("{\"connector\": {\"name\": 5}}");

        assertEquals("config.connector.name: expected a string, got 5", e.getMessage());
    }

    @Test
    void anUnknownKeyInsideTheConnectorEntryIsAnError() {
        // A classic slip: the connector's settings put next to its name instead of inside "config".
        ConfigException e = fails("{\"connector\": {\"name\": \"offload\", \"capacity\": \"4GiB\"}}");

        assertEquals("config.connector.capacity", e.path());
        assertEquals("config.connector.capacity: unknown key; allowed keys: [config, name]", e.getMessage());
    }

    @Test
    void theConnectorMustBeAnObject() {
        ConfigException e = fails("{\"connector\": \"offload\"}");

        assertEquals("config.connector: expected an object, got 'offload'", e.getMessage());
    }

    @Test
    void theConnectorsConfigMustBeAnObject() {
        ConfigException e = fails("{\"connector\": {\"name\": \"offload\", \"config\": [1]}}");

        assertEquals("config.connector.config: expected an object, got a list", e.getMessage());
    }

    // ---- JSON syntax ----------------------------------------------------------------------------

    @Test
    void duplicateTopLevelKeysAreRejectedWithTheirPosition() {
        ConfigException e = fails("""
                {
                  "workers": 2,
                  "workers": 3
                }""");

        assertEquals("config", e.path());
        assertContains(e, "test is not a valid JSON object at line 3, column ");
        assertContains(e, "Duplicate field 'workers'");
        assertTrue(
                Pattern.compile("at line 3, column [1-9]\\d*:")
                        .matcher(e.getMessage())
                        .find(),
                e.getMessage());
    }

    @Test
    void duplicateKeysInsideNestedObjectsAreRejectedToo() {
        ConfigException e = fails("""
                {
                  "connector": {
                    "name": "offload",
                    "config": {"capacity": "1GiB",
                               "capacity": "2GiB"}
                  }
                }""");

        assertContains(e, "at line 5, column ");
        assertContains(e, "Duplicate field 'capacity'");
    }

    @Test
    void malformedJsonNamesLineAndColumn() {
        ConfigException e = fails("""
                {
                  "workers": 2,
                  "block_size": }""");

        assertEquals("config", e.path());
        // The stray '}' is the 17th character of the third line.
        assertContains(e, "config: test is not a valid JSON object at line 3, column 17: ");
    }

    @Test
    void aTrailingCommaIsMalformed() {
        ConfigException e = fails("{\"workers\": 2,}");

        assertContains(e, "is not a valid JSON object at line 1, column 15");
    }

    @Test
    void commentsAreNotJson() {
        ConfigException e = fails("{\n  // workers\n  \"workers\": 2\n}");

        assertContains(e, "is not a valid JSON object at line 2, column 3");
    }

    @Test
    void anUnterminatedObjectIsMalformed() {
        ConfigException e = fails("{\n  \"workers\": 2");

        assertEquals("config", e.path());
        assertContains(e, "is not a valid JSON object at line 2");
        assertContains(e, "end-of-input");
    }

    @ParameterizedTest
    @ValueSource(strings = {"[]", "[{\"workers\": 2}]", "42", "\"tiny\"", "true"})
    void aJsonValueOtherThanAnObjectIsAConfigException(String text) {
        ConfigException e = fails(text);

        assertEquals("config", e.path());
        assertContains(e, "config: test is not a valid JSON object at line 1, column 1: ");
    }

    @Test
    void jsonNullIsRefusedAsEmpty() {
        ConfigException e = fails("null");

        assertEquals("config: test is empty; expected a JSON object", e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "  \n\t"})
    void noTextAtAllIsAConfigException(String text) {
        ConfigException e = fails(text);

        assertEquals("config", e.path());
        assertContains(e, "test is not a valid JSON object");
        assertContains(e, "end-of-input");
    }

    @ParameterizedTest
    @ValueSource(strings = {"{} {}", "{\"workers\": 2} x", "{} ]", "{}\n42", "{} \"more\""})
    void trailingGarbageAfterTheObjectIsRejected(String text) {
        ConfigException e = fails(text);

        assertEquals("config", e.path());
        assertContains(e, "test is not a valid JSON object at line ");
    }

    @Test
    void anEmptyKeyIsRefused() {
        ConfigException e = fails("{\"\": 1}");

        assertEquals("config", e.path());
        assertContains(e, "keys must be non-empty strings");
    }

    @Test
    void excessiveNestingIsAConfigExceptionNotAStackOverflow() {
        String deep = "[".repeat(5000) + "]".repeat(5000);

        ConfigException e = fails("{\"connector\": {\"name\": \"x\", \"config\": {\"a\": " + deep + "}}}");

        assertEquals("config", e.path());
        assertContains(e, "nesting depth");
    }

    // ---- files ----------------------------------------------------------------------------------

    @Test
    void readsAFile() throws IOException {
        Path file = Files.writeString(dir.resolve("engine.json"), "{\"model\": \"tiny\", \"workers\": 4}");

        EngineConfig config = EngineConfigReader.read(file);

        assertEquals(ModelPresets.all().get("tiny"), config.model());
        assertEquals(4, config.workers());
    }

    @Test
    void errorsInAFileNameTheFile() throws IOException {
        Path file = Files.writeString(dir.resolve("engine.json"), "{\n  \"workers\": }");

        ConfigException e = assertThrows(ConfigException.class, () -> EngineConfigReader.read(file));

        assertContains(e, "config: " + file + " is not a valid JSON object at line 2, column 14");
    }

    @Test
    void aMissingFileDoesNotExist() {
        Path missing = dir.resolve("nope.json");

        ConfigException e = assertThrows(ConfigException.class, () -> EngineConfigReader.read(missing));

        assertEquals("config", e.path());
        assertEquals("config: file " + missing + " does not exist", e.getMessage());
    }

    @Test
    void aDirectoryCannotBeRead() throws IOException {
        Path folder = Files.createDirectory(dir.resolve("engine.json"));

        ConfigException e = assertThrows(ConfigException.class, () -> EngineConfigReader.read(folder));

        assertContains(e, "config: cannot read " + folder);
    }

    @Test
    void aFileThatIsNotUtf8CannotBeRead() throws IOException {
        Path file = Files.write(
                dir.resolve("latin1.json"), "{\"plugins_dir\": \"caf\u00e9\"}".getBytes(StandardCharsets.ISO_8859_1));

        ConfigException e = assertThrows(ConfigException.class, () -> EngineConfigReader.read(file));

        assertContains(e, "config: cannot read " + file);
    }

    @Test
    void aFileLargerThanOneMebibyteIsRejected() throws IOException {
        Path file = dir.resolve("huge.json");
        // Valid JSON, so the size alone is the reason.
        Files.writeString(file, "{" + " ".repeat(ONE_MIB - 1) + "}");
        assertEquals(ONE_MIB + 1, Files.size(file));

        ConfigException e = assertThrows(ConfigException.class, () -> EngineConfigReader.read(file));

        assertEquals("config", e.path());
        assertEquals("config: file " + file + " is larger than 1048576 bytes", e.getMessage());
    }

    @Test
    void aFileOfExactlyOneMebibyteIsRead() throws IOException {
        Path file = dir.resolve("big.json");
        String body = "{\"workers\": 8}";
        Files.writeString(file, body + " ".repeat(ONE_MIB - body.length()));
        assertEquals(ONE_MIB, Files.size(file));

        assertEquals(8, EngineConfigReader.read(file).workers());
    }

    // ---- helpers --------------------------------------------------------------------------------

    private static ConfigException fails(String json) {
        return assertThrows(ConfigException.class, () -> EngineConfigReader.parse(json, "test"));
    }

    private static void assertContains(Exception e, String part) {
        assertTrue(e.getMessage().contains(part), () -> "expected '" + part + "' in: " + e.getMessage());
    }

    @Test
    void aFileWithAUtf8ByteOrderMarkIsRead(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("bom.json");
        java.nio.file.Files.writeString(file, "\uFEFF{\"workers\": 4}");

        assertEquals(4, EngineConfigReader.read(file).workers());
    }

    // ---- engine sections added with the engine loop ----------------------------------------------

    @Test
    void schedulerLayoutVerificationAndCostAreRead() {
        EngineConfig config = EngineConfigReader.parse("""
                {"scheduler": {"max_batched_tokens": 512, "max_running_requests": 8, "long_prefill_chunk": 128,
                               "policy": "priority"},
                 "kv_layout": "cross-layer", "verify_kv": false,
                 "cost": {"prefill_tokens_per_s": 1000, "decode_step_ms": 2, "decode_request_ms": 0.5,
                          "context_token_ns": 4}}""", "test");

        assertEquals(512, config.scheduler().maxBatchedTokens());
        assertEquals(8, config.scheduler().maxRunningRequests());
        assertEquals(128, config.scheduler().longPrefillChunk());
        assertEquals(
                io.kvconnect.core.sched.SchedulingPolicy.PRIORITY,
                config.scheduler().policy());
        assertEquals(io.kvconnect.api.worker.LayoutKind.CROSS_LAYER, config.kvLayout());
        assertEquals(false, config.verifyKv());
        assertEquals(1000, config.cost().prefillTokensPerSecond());
        assertEquals(0.002, config.cost().decodeStepSeconds(), 1e-12);
        assertEquals(0.0005, config.cost().decodeRequestSeconds(), 1e-12);
        assertEquals(4e-9, config.cost().contextTokenSeconds(), 1e-18);
    }

    @Test
    void engineSectionsDefaultToVerifiedPerLayerFcfs() {
        EngineConfig config = EngineConfigReader.parse("{}", "test");

        assertEquals(io.kvconnect.api.worker.LayoutKind.PER_LAYER, config.kvLayout());
        assertEquals(true, config.verifyKv());
        assertEquals(io.kvconnect.core.sched.SchedulerConfig.defaults(), config.scheduler());
        assertEquals(io.kvconnect.core.model.ModelCost.defaults(), config.cost());
    }

    @Test
    void anUnknownLayoutNamesTheAllowedOnes() {
        assertEquals(
                "config.kv_layout: 'rows' is not allowed; allowed values: per-layer, cross-layer",
                fails("{\"kv_layout\": \"rows\"}").getMessage());
    }

    @Test
    void anUnknownSchedulerKeyIsNamed() {
        assertContains(fails("{\"scheduler\": {\"budget\": 3}}"), "config.scheduler.budget: unknown key");
    }

    @Test
    void aNegativeCostIsRefusedWithItsRange() {
        assertContains(fails("{\"cost\": {\"decode_step_ms\": -1}}"), "config.cost.decode_step_ms");
    }

    @Test
    void connectorErrorsSelectsThePolicy() {
        assertEquals(
                io.kvconnect.core.sched.ConnectorErrorPolicy.DISABLE,
                EngineConfigReader.parse("{\"connector_errors\": \"disable\"}", "test")
                        .scheduler()
                        .connectorErrors());
        assertEquals(
                io.kvconnect.core.sched.ConnectorErrorPolicy.FAIL_REQUESTS,
                EngineConfigReader.parse("{}", "test").scheduler().connectorErrors());
        assertEquals(
                "config.connector_errors: 'ignore' is not allowed; allowed values: fail-requests, disable",
                fails("{\"connector_errors\": \"ignore\"}").getMessage());
    }

    @Test
    void workersMustSplitTheKvHeads() {
        assertEquals(
                "config.workers: 3 workers cannot split 2 KV heads; allowed: a divisor of 2 or a multiple of it",
                fails("{\"model\": \"tiny\", \"workers\": 3}").getMessage());
    }
}
