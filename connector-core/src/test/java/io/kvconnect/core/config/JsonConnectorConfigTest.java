package io.kvconnect.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.common.ConfigException;
import io.kvconnect.api.common.ConnectorConfig;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

class JsonConnectorConfigTest {
    private static final String ROOT = "config.connector.config";

    /** A config at {@link #ROOT} from alternating keys and values, in order. */
    private static ConnectorConfig cfg(Object... keysAndValues) {
        var map = new LinkedHashMap<String, Object>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            map.put((String) keysAndValues[i], keysAndValues[i + 1]);
        }
        return JsonConnectorConfig.of(ROOT, map);
    }

    private static ConfigException fails(org.junit.jupiter.api.function.Executable call) {
        return assertThrows(ConfigException.class, call);
    }

    @Nested
    class Construction {
        @Test
        void pathKeysAndHasReflectTheSource() {
            var c = cfg("b", 1, "a", "x");
            assertEquals(ROOT, c.path());
            assertEquals(List.of("b", "a"), List.copyOf(c.keys()));
            assertTrue(c.has("a"));
            assertFalse(c.has("z"));
            assertEquals(ROOT + ".a", c.fieldPath("a"));
        }

        @Test
        void emptyHasNoKeysAndItsPath() {
            var c = JsonConnectorConfig.empty("x.y");
            assertTrue(c.keys().isEmpty());
            assertEquals("x.y", c.path());
        }

        @Test
        void blankOrNullPathRejected() {
            assertThrows(IllegalArgumentException.class, () -> JsonConnectorConfig.of(" ", Map.of()));
            assertThrows(IllegalArgumentException.class, () -> JsonConnectorConfig.of(null, Map.of()));
        }

        @Test
        void nullValueRejectedWithItsPath() {
            var map = new HashMap<String, Object>();
            map.put("capacity", null);
            var e = fails(() -> JsonConnectorConfig.of(ROOT, map));
            assertEquals(ROOT + ".capacity", e.path());
        }

        @Test
        void nullInsideNestedListRejectedWithFullPath() {
            var child = new HashMap<String, Object>();
            child.put("capacity", null);
            var map = Map.of("children", List.of(Map.of(), child));
            var e = fails(() -> JsonConnectorConfig.of(ROOT, map));
            assertEquals(ROOT + ".children[1].capacity", e.path());
        }

        @Test
        void unsupportedValueTypeRejected() {
            var e = fails(() -> cfg("when", new Object()));
            assertEquals(ROOT + ".when", e.path());
            assertTrue(e.getMessage().contains("unsupported value type java.lang.Object"), e.getMessage());
        }

        @Test
        void emptyKeyRejected() {
            fails(() -> cfg("", 1));
        }

        @Test
        void nonStringKeyInNestedObjectRejected() {
            fails(() -> cfg("nested", Map.of(1, "x")));
        }

        @Test
        void bigIntegerBeyond64BitsRejected() {
            var e = fails(() -> cfg("n", BigInteger.ONE.shiftLeft(63)));
            assertEquals(ROOT + ".n", e.path());
        }
    }

    @Nested
    class Immutability {
        @Test
        void mutatingTheSourceMapDoesNotChangeTheConfig() {
            var list = new ArrayList<Object>(List.of("a"));
            var inner = new HashMap<String, Object>(Map.of("k", 1));
            var source = new HashMap<String, Object>();
            source.put("list", list);
            source.put("inner", inner);
            var c = JsonConnectorConfig.of(ROOT, source);

            source.put("extra", true);
            list.add("b");
            inner.put("k", 2);

            assertFalse(c.has("extra"));
            assertEquals(List.of("a"), c.getStringList("list"));
            assertEquals(1, c.getObject("inner").orElseThrow().getInt("k", 0, 0, 10));
        }

        @Test
        void asMapAndNestedValuesAreUnmodifiable() {
            var c = cfg("list", List.of(1), "inner", Map.of("k", 1));
            assertThrows(UnsupportedOperationException.class, () -> c.asMap().put("x", 1L));
            @SuppressWarnings("unchecked")
            var list = (List<Object>) c.asMap().get("list");
            assertThrows(UnsupportedOperationException.class, () -> list.add(2L));
            @SuppressWarnings("unchecked")
            var inner = (Map<String, Object>) c.asMap().get("inner");
            assertThrows(UnsupportedOperationException.class, () -> inner.put("j", 2L));
            assertThrows(UnsupportedOperationException.class, () -> c.keys().remove("list"));
        }

        @Test
        void integralNumbersNormalizedToLong() {
            var c = cfg(
                    "i",
                    7,
                    "s",
                    (short) 3,
                    "b",
                    (byte) 2,
                    "big",
                    BigInteger.TEN,
                    "dec",
                    new BigDecimal("5.00"),
                    "frac",
                    new BigDecimal("2.5"),
                    "f",
                    1.5f);
            assertEquals(7L, c.asMap().get("i"));
            assertEquals(3L, c.asMap().get("s"));
            assertEquals(2L, c.asMap().get("b"));
            assertEquals(10L, c.asMap().get("big"));
            assertEquals(5L, c.asMap().get("dec"));
            assertEquals(2.5d, c.asMap().get("frac"));
            assertEquals(1.5d, c.asMap().get("f"));
        }

        @Test
        void equalDocumentsFromDifferentNumberTypesAreEqual() {
            var fromInt = cfg("n", 4, "l", List.of(1, 2));
            var fromBig = cfg("n", new BigDecimal("4"), "l", List.of(1L, BigInteger.TWO));
            assertEquals(fromInt, fromBig);
            assertEquals(fromInt.hashCode(), fromBig.hashCode());
        }

        @Test
        void equalsDependsOnPathAndValues() {
            assertNotEquals(cfg("n", 1), cfg("n", 2));
            assertNotEquals(cfg("n", 1), JsonConnectorConfig.of("other", Map.of("n", 1)));
            assertEquals(cfg(), JsonConnectorConfig.empty(ROOT));
        }
    }

    @Nested
    class Scalars {
        @Test
        void stringPresentAbsentAndRequired() {
            var c = cfg("name", "tier");
            assertEquals("tier", c.getString("name", "d"));
            assertEquals("d", c.getString("missing", "d"));
            assertEquals("tier", c.requireString("name"));
            var e = fails(() -> c.requireString("missing"));
            assertEquals(ROOT + ".missing: is required but missing", e.getMessage());
        }

        @Test
        void stringOfWrongTypeRejected() {
            var e = fails(() -> cfg("name", 5).getString("name", "d"));
            assertEquals(ROOT + ".name: expected a string, got 5", e.getMessage());
        }

        @Test
        void booleanPresentAbsentAndWrongType() {
            var c = cfg("on", true, "off", false, "bad", "yes");
            assertTrue(c.getBoolean("on", false));
            assertFalse(c.getBoolean("off", true));
            assertTrue(c.getBoolean("missing", true));
            var e = fails(() -> c.getBoolean("bad", false));
            assertEquals(ROOT + ".bad: expected true or false, got 'yes'", e.getMessage());
        }

        @Test
        void intPresentAbsentAndBounds() {
            var c = cfg("n", 10);
            assertEquals(10, c.getInt("n", 1, 10, 10));
            assertEquals(3, c.getInt("missing", 3, 0, 1));
            var e = fails(() -> c.getInt("n", 1, 0, 9));
            assertEquals(ROOT + ".n: 10 is out of range; allowed: [0, 9]", e.getMessage());
            fails(() -> c.getInt("n", 1, 11, 20));
        }

        @Test
        void longAcceptsFull64BitRange() {
            var c = cfg("n", Long.MIN_VALUE);
            assertEquals(Long.MIN_VALUE, c.getLong("n", 0, Long.MIN_VALUE, Long.MAX_VALUE));
            assertEquals(42L, c.getLong("missing", 42, 0, 1));
        }

        @Test
        void longRejectsFractionsAndStrings() {
            var e = fails(() -> cfg("n", 1.5).getLong("n", 0, 0, 10));
            assertEquals(ROOT + ".n: expected an integer in [0, 10], got 1.5", e.getMessage());
            fails(() -> cfg("n", "7").getLong("n", 0, 0, 10));
        }

        @Test
        void doubleAcceptsIntegersAndFractions() {
            var c = cfg("x", 0.25, "i", 2);
            assertEquals(0.25, c.getDouble("x", 0, 0, 1));
            assertEquals(2.0, c.getDouble("i", 0, 0, 3));
            assertEquals(0.5, c.getDouble("missing", 0.5, 0, 1));
        }

        @Test
        void doubleOutOfRangeNaNAndWrongTypeRejected() {
            var e = fails(() -> cfg("x", 1.5).getDouble("x", 0, 0, 1));
            assertEquals(ROOT + ".x: 1.5 is out of range; allowed: [0.0, 1.0]", e.getMessage());
            fails(() -> cfg("x", Double.NaN).getDouble("x", 0, 0, 1));
            fails(() -> cfg("x", "0.5").getDouble("x", 0, 0, 1));
        }
    }

    @Nested
    class Bytes {
        private long bytes(Object value) {
            return cfg("size", value).getBytes("size", -1, 0, Long.MAX_VALUE);
        }

        @Test
        void binaryUnits() {
            assertEquals(8L << 30, bytes("8GiB"));
            assertEquals(512L << 20, bytes("512MiB"));
            assertEquals(4L << 10, bytes("4 KiB"));
            assertEquals(2L << 40, bytes("2TiB"));
        }

        @Test
        void decimalUnitsWithFractionAndSpace() {
            assertEquals(1_500_000_000L, bytes("1.5 GB"));
            assertEquals(3_000L, bytes("3kB"));
            assertEquals(7_000_000L, bytes("7MB"));
            assertEquals(1_000_000_000_000L, bytes("1TB"));
        }

        @Test
        void unitsAreCaseInsensitiveAndSurroundingSpaceIgnored() {
            assertEquals(8L << 30, bytes(" 8gib "));
            assertEquals(3_000L, bytes("3KB"));
        }

        @Test
        void plainIntegerAndBareNumberStringAreBytes() {
            assertEquals(4096L, bytes(4096));
            assertEquals(4096L, bytes("4096"));
            assertEquals(4096L, bytes("4096B"));
        }

        @Test
        void absentGivesDefault() {
            assertEquals(99L, cfg().getBytes("size", 99, 0, 100));
        }

        @Test
        void outOfRangeRejectedShowingInputAndRange() {
            var c = cfg("size", "2GiB", "raw", 5);
            var e = fails(() -> c.getBytes("size", 0, 0, 1L << 30));
            assertEquals(ROOT + ".size: '2GiB' is out of range; allowed: [0, 1073741824]", e.getMessage());
            var raw = fails(() -> c.getBytes("raw", 0, 10, 20));
            assertEquals(ROOT + ".raw: 5 bytes is out of range; allowed: [10, 20]", raw.getMessage());
        }

        @Test
        void garbageRejectedWithExample() {
            for (String bad : List.of("lots", "8 GiBs", "-1GiB", "1e9", "GiB", "8 PB")) {
                var e = fails(() -> bytes(bad));
                assertEquals(ROOT + ".size", e.path());
                assertTrue(
                        e.getMessage().contains("'" + bad + "' is not a byte size such as 512MiB or 8GiB"),
                        e.getMessage());
            }
        }

        @Test
        void tooLargeForALongRejected() {
            var e = fails(() -> bytes("9000000 TiB"));
            assertTrue(e.getMessage().startsWith(ROOT + ".size: '9000000 TiB' is too large"), e.getMessage());
        }

        @Test
        void wrongTypeRejected() {
            var e = fails(() -> bytes(true));
            assertTrue(e.getMessage().contains("got true"), e.getMessage());
            fails(() -> bytes(1.5));
        }
    }

    @Nested
    class Durations {
        private static final Duration MAX = Duration.ofDays(1);

        private Duration duration(Object value) {
            return cfg("t", value).getDuration("t", Duration.ZERO, Duration.ZERO, MAX);
        }

        @Test
        void everyUnit() {
            assertEquals(Duration.ofSeconds(30), duration("30s"));
            assertEquals(Duration.ofMillis(500), duration("500ms"));
            assertEquals(Duration.ofMinutes(2), duration("2m"));
            assertEquals(Duration.ofHours(1), duration("1h"));
        }

        @Test
        void fractionSpaceAndCaseAccepted() {
            assertEquals(Duration.ofMillis(1500), duration("1.5 S"));
            assertEquals(Duration.ofMillis(250), duration(" 250MS "));
        }

        @Test
        void absentGivesDefault() {
            assertEquals(Duration.ofSeconds(7), cfg().getDuration("t", Duration.ofSeconds(7), Duration.ZERO, MAX));
        }

        @Test
        void missingOrUnknownUnitRejected() {
            for (String bad : List.of("30", "30 sec", "1d", "s", "-5s")) {
                var e = fails(() -> duration(bad));
                assertEquals(ROOT + ".t", e.path());
                assertTrue(
                        e.getMessage().contains("'" + bad + "' is not a duration such as 500ms, 30s or 2m"),
                        e.getMessage());
            }
        }

        @Test
        void plainNumberIsWrongType() {
            var e = fails(() -> duration(30));
            assertTrue(e.getMessage().contains("expected a duration"), e.getMessage());
        }

        @Test
        void outOfRangeRejectedOnBothSides() {
            var c = cfg("t", "2h", "short", "5ms");
            var e = fails(() -> c.getDuration("t", Duration.ZERO, Duration.ZERO, Duration.ofHours(1)));
            assertTrue(e.getMessage().startsWith(ROOT + ".t: '2h' is out of range"), e.getMessage());
            fails(() -> c.getDuration("short", Duration.ZERO, Duration.ofMillis(10), Duration.ofHours(1)));
            assertEquals(
                    Duration.ofHours(1),
                    cfg("t", "1h").getDuration("t", null, Duration.ofHours(1), Duration.ofHours(1)));
        }
    }

    enum Policy {
        LRU,
        LEAST_FREQUENT,
        FIFO
    }

    @Nested
    class Enums {
        @Test
        void matchesIgnoringCaseAndReadsDashAsUnderscore() {
            assertEquals(Policy.LRU, cfg("p", "lru").getEnum("p", Policy.class, Policy.FIFO));
            assertEquals(Policy.LEAST_FREQUENT, cfg("p", "Least-Frequent").getEnum("p", Policy.class, Policy.FIFO));
            assertEquals(Policy.LEAST_FREQUENT, cfg("p", "least_frequent").getEnum("p", Policy.class, Policy.FIFO));
        }

        @Test
        void absentGivesDefault() {
            assertEquals(Policy.FIFO, cfg().getEnum("p", Policy.class, Policy.FIFO));
        }

        @Test
        void unknownValueListsAllowedValues() {
            var e = fails(() -> cfg("p", "mru").getEnum("p", Policy.class, Policy.LRU));
            assertEquals(ROOT + ".p: 'mru' is not allowed; allowed values: lru, least-frequent, fifo", e.getMessage());
        }

        @Test
        void wrongTypeListsAllowedValues() {
            var e = fails(() -> cfg("p", 1).getEnum("p", Policy.class, Policy.LRU));
            assertEquals(ROOT + ".p: expected one of: lru, least-frequent, fifo, got 1", e.getMessage());
        }
    }

    @Nested
    class Keys {
        @Test
        void onlyAllowedKeysPasses() {
            cfg("a", 1, "b", 2).requireOnlyKeys("a", "b", "c");
            JsonConnectorConfig.empty(ROOT).requireOnlyKeys();
        }

        @Test
        void unknownKeyNamedWithSortedAllowedKeys() {
            var e = fails(() -> cfg("capacity", 1, "capcity", 2).requireOnlyKeys("policy", "capacity"));
            assertEquals(ROOT + ".capcity", e.path());
            assertEquals(ROOT + ".capcity: unknown key; allowed keys: [capacity, policy]", e.getMessage());
        }
    }

    @Nested
    class NestedObjects {
        private final ConnectorConfig root = cfg(
                "child", Map.of("capacity", 4),
                "children", List.of(Map.of("capacity", 1), Map.of("capacity", "big")),
                "names", List.of("a", "b"),
                "scalar", 1);

        @Test
        void objectHasFullPath() {
            var child = root.getObject("child").orElseThrow();
            assertEquals(ROOT + ".child", child.path());
            assertEquals(4, child.getInt("capacity", 0, 0, 10));
            assertEquals(Optional.empty(), root.getObject("missing"));
        }

        @Test
        void objectListItemsHaveIndexedPathsInErrors() {
            var children = root.getObjectList("children");
            assertEquals(2, children.size());
            assertEquals(ROOT + ".children[0]", children.get(0).path());
            assertEquals(1, children.get(0).getInt("capacity", 0, 0, 10));
            var e = fails(() -> children.get(1).getInt("capacity", 0, 0, 10));
            assertEquals("config.connector.config.children[1].capacity", e.path());
            assertTrue(
                    e.getMessage().startsWith("config.connector.config.children[1].capacity: expected an integer"),
                    e.getMessage());
        }

        @Test
        void objectOrEmptyIsTheObjectOrAnEmptyOneAtTheFieldsPath() {
            assertEquals(root.getObject("child").orElseThrow(), root.getObjectOrEmpty("child"));
            var absent = root.getObjectOrEmpty("missing");
            assertEquals(ROOT + ".missing", absent.path());
            assertEquals(Set.of(), absent.keys());
            assertEquals(
                    ROOT + ".missing.capacity: expected an integer in [0, 10], got 'x'",
                    fails(() -> JsonConnectorConfig.of(ROOT, Map.of("missing", Map.of("capacity", "x")))
                                    .getObjectOrEmpty("missing")
                                    .getInt("capacity", 0, 0, 10))
                            .getMessage());
            assertEquals(
                    ROOT + ".scalar: expected an object, got 1",
                    fails(() -> root.getObjectOrEmpty("scalar")).getMessage());
        }

        @Test
        void objectListAbsentIsEmptyAndIsUnmodifiable() {
            assertEquals(List.of(), root.getObjectList("missing"));
            var children = root.getObjectList("children");
            assertThrows(UnsupportedOperationException.class, () -> children.add(JsonConnectorConfig.empty("x")));
        }

        @Test
        void wrongTypesRejected() {
            assertEquals(
                    ROOT + ".scalar: expected an object, got 1",
                    fails(() -> root.getObject("scalar")).getMessage());
            assertEquals(
                    ROOT + ".child: expected a list of objects, got an object",
                    fails(() -> root.getObjectList("child")).getMessage());
            var item = fails(() -> root.getObjectList("names"));
            assertEquals(ROOT + ".names[0]: expected an object, got 'a'", item.getMessage());
        }

        @Test
        void stringList() {
            assertEquals(List.of("a", "b"), root.getStringList("names"));
            assertEquals(List.of(), root.getStringList("missing"));
            assertEquals(
                    ROOT + ".scalar: expected a list of strings, got 1",
                    fails(() -> root.getStringList("scalar")).getMessage());
            var e = fails(() -> cfg("names", List.of("a", 2)).getStringList("names"));
            assertEquals(ROOT + ".names[1]: expected a string, got 2", e.getMessage());
        }

        @Test
        void nestedConfigEqualsOneBuiltAtTheSamePath() {
            var child = root.getObject("child").orElseThrow();
            assertEquals(JsonConnectorConfig.of(ROOT + ".child", Map.of("capacity", 4L)), child);
        }
    }
}
