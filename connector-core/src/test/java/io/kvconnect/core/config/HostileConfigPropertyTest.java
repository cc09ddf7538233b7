package io.kvconnect.core.config;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.kvconnect.api.common.ConfigException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Malformed and hostile configuration text: whatever the file holds, reading it either gives a
 * configuration or a {@link ConfigException} with a field path (exit 2 on the command line), never
 * another exception that would escape as a crash.
 */
class HostileConfigPropertyTest {
    private static final List<String> KEYS = List.of(
            "model",
            "block_size",
            "gpu_blocks",
            "workers",
            "async_scheduling",
            "load_failure_policy",
            "scheduler",
            "kv_layout",
            "verify_kv",
            "cost",
            "connector_errors",
            "plugins_dir",
            "trusted_plugins",
            "connector",
            "name",
            "config",
            "layers",
            "kv_heads",
            "head_dim",
            "dtype",
            "max_batched_tokens",
            "policy",
            "prefill_tokens_per_s",
            "decode_step_ms",
            "bogus",
            "");

    @Property(tries = 400)
    void randomJsonDocumentsOnlyEverFailAsConfigErrors(@ForAll("documents") String text) {
        readOrConfigError(text);
    }

    @Property(tries = 300)
    void arbitraryTextOnlyEverFailsAsAConfigError(@ForAll("junk") String text) {
        readOrConfigError(text);
    }

    private static void readOrConfigError(String text) {
        try {
            assertNotNull(EngineConfigReader.parse(text, "test"));
        } catch (ConfigException e) {
            assertFalse(e.path().isEmpty(), "a configuration error names a field: " + e.getMessage());
        }
    }

    @Provide
    Arbitrary<String> junk() {
        return Arbitraries.oneOf(
                Arbitraries.strings().ofMaxLength(200),
                Arbitraries.strings()
                        .withChars("{}[]\":,0123456789.eE-+truefalsnl \\u")
                        .ofMaxLength(120));
    }

    @Provide
    Arbitrary<String> documents() {
        return object(3).map(HostileConfigPropertyTest::json);
    }

    private static Arbitrary<Object> value(int depth) {
        List<Arbitrary<?>> choices = new ArrayList<>(List.of(
                Arbitraries.integers().between(-3, 70_000).map(Object.class::cast),
                Arbitraries.longs().map(Object.class::cast),
                Arbitraries.doubles().map(Object.class::cast),
                Arbitraries.of(Boolean.TRUE, Boolean.FALSE).map(Object.class::cast),
                Arbitraries.of(
                                "tiny",
                                "llama-3.2-1b",
                                "fail",
                                "recompute",
                                "disable",
                                "per_layer",
                                "fp16",
                                "offload",
                                "-1",
                                "",
                                "8GiB",
                                "30s",
                                "\u0000",
                                "../../etc")
                        .map(Object.class::cast),
                Arbitraries.just(JsonNull.NULL).map(Object.class::cast)));
        if (depth > 0) {
            choices.add(object(depth - 1).map(Object.class::cast));
            choices.add(value(depth - 1).list().ofMaxSize(3).map(Object.class::cast));
        }
        return Arbitraries.oneOf(
                choices.stream().map(a -> a.map(Object.class::cast)).toList());
    }

    private static Arbitrary<Map<String, Object>> object(int depth) {
        return Arbitraries.maps(Arbitraries.of(KEYS), value(depth)).ofMaxSize(5);
    }

    /** A JSON null, as distinct from a missing value. */
    private enum JsonNull {
        NULL
    }

    private static String json(Object v) {
        return switch (v) {
            case Map<?, ?> m -> {
                StringBuilder b = new StringBuilder("{");
                m.forEach((k, x) -> b.append(b.length() > 1 ? "," : "")
                        .append(quote(k.toString()))
                        .append(':')
                        .append(json(x)));
                yield b.append('}').toString();
            }
            case List<?> l -> {
                StringBuilder b = new StringBuilder("[");
                l.forEach(x -> b.append(b.length() > 1 ? "," : "").append(json(x)));
                yield b.append(']').toString();
            }
            case String s -> quote(s);
            case JsonNull n -> "null";
            case Double d when d.isNaN() || d.isInfinite() -> "1e999";
            default -> v.toString();
        };
    }

    private static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else if (c < 0x20) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.append('"').toString();
    }
}
