package io.kvconnect.architecture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.lang.module.ModuleDescriptor;
import java.net.URL;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The module descriptors of the project's jars say what the architecture promises. */
class ModuleDescriptorTest {
    /** The modules the engine exports packages to: the connector test kit and the launcher's command line. */
    static final Set<String> ENGINE_FRIENDS = Set.of("kvconnect.testkit", "kvconnect.tools");

    private static final Map<String, ModuleDescriptor> MODULES = new TreeMap<>();

    @BeforeAll
    static void readDescriptors() throws IOException {
        for (URL url : Collections.list(ClassLoader.getSystemClassLoader().getResources("module-info.class"))) {
            try (InputStream in = url.openStream()) {
                ModuleDescriptor d = ModuleDescriptor.read(in);
                if (d.name().startsWith("kvconnect.")) {
                    MODULES.put(d.name(), d);
                }
            }
        }
    }

    @Test
    void everyModuleHasADescriptor() {
        assertEquals(
                Set.of(
                        "kvconnect.api",
                        "kvconnect.core",
                        "kvconnect.offload",
                        "kvconnect.disk",
                        "kvconnect.multi",
                        "kvconnect.nixl",
                        "kvconnect.redis",
                        "kvconnect.testkit",
                        "kvconnect.testkit.doubles",
                        "kvconnect.tools"),
                MODULES.keySet());
    }

    /**
     * The API's module-info: at run time it requires {@code java.base} only. The one other
     * {@code requires} is exactly {@code requires static org.jspecify}: the nullness annotations
     * ({@code @NullMarked}, {@code @Nullable}) are needed to compile the API, never to run it or a
     * connector ({@code static}), and a connector does not get them with the API (not {@code
     * transitive}). It exports every package it has, unqualified, and opens none.
     */
    @Test
    void theApiRequiresJavaBaseOnlyAndExportsOnlyApiPackages() {
        ModuleDescriptor api = MODULES.get("kvconnect.api");
        assertEquals(Set.of("java.base", "org.jspecify"), names(api.requires()));
        for (ModuleDescriptor.Requires r : api.requires()) {
            Set<ModuleDescriptor.Requires.Modifier> expected = r.name().equals("org.jspecify")
                    ? Set.of(ModuleDescriptor.Requires.Modifier.STATIC)
                    : Set.of(ModuleDescriptor.Requires.Modifier.MANDATED);
            assertEquals(expected, r.modifiers(), "requires " + r);
        }
        for (ModuleDescriptor.Exports e : api.exports()) {
            assertTrue(e.source().startsWith("io.kvconnect.api"), e.source());
            assertTrue(e.targets().isEmpty(), "API exports are unqualified: " + e);
        }
        assertEquals(
                api.packages(),
                api.exports().stream().map(ModuleDescriptor.Exports::source).collect(Collectors.toSet()),
                "every API package is exported, nothing else exists");
        assertTrue(api.opens().isEmpty());
    }

    /**
     * The engine's module-info: no unqualified {@code exports} at all; every qualified one names
     * only the friend modules ({@link #ENGINE_FRIENDS}); and it opens only the command-line package,
     * to picocli.
     */
    @Test
    void theEngineExportsNothingToAllAndItsInternalsOnlyToItsFriends() {
        ModuleDescriptor core = MODULES.get("kvconnect.core");
        assertEquals(
                List.of(),
                core.exports().stream().filter(e -> !e.isQualified()).toList(),
                "engine exports to everyone");
        for (ModuleDescriptor.Exports e : core.exports()) {
            assertTrue(ENGINE_FRIENDS.containsAll(e.targets()), "engine exports to a module not its friend: " + e);
        }
        assertEquals(
                ENGINE_FRIENDS,
                core.exports().stream().flatMap(e -> e.targets().stream()).collect(Collectors.toSet()),
                "both friends use the engine: " + core.exports());
        assertEquals(
                Set.of("io.kvconnect.core.cli to [info.picocli]"),
                core.opens().stream()
                        .map(o -> o.source() + " to " + o.targets())
                        .collect(Collectors.toSet()));
        assertTrue(core.uses().contains("io.kvconnect.api.ConnectorProvider"));
    }

    @Test
    void theTestKitExportsItsApiOnlyAndTheDoublesNeedOnlyTheApi() {
        ModuleDescriptor kit = MODULES.get("kvconnect.testkit");
        assertEquals(Set.of("io.kvconnect.testkit"), exported(kit));
        assertTrue(kit.opens().isEmpty(), "testkit opens " + kit.opens());
        assertEquals(
                Set.of("kvconnect.api", "kvconnect.testkit.doubles"),
                kit.requires().stream()
                        .filter(r -> r.modifiers().contains(ModuleDescriptor.Requires.Modifier.TRANSITIVE))
                        .map(ModuleDescriptor.Requires::name)
                        .collect(Collectors.toSet()),
                "what a connector's tests get with the kit");

        ModuleDescriptor doubles = MODULES.get("kvconnect.testkit.doubles");
        assertEquals(Set.of("io.kvconnect.testkit.doubles"), exported(doubles));
        assertEquals(Set.of("java.base", "kvconnect.api"), names(doubles.requires()));
    }

    @Test
    void theToolsExportNothing() {
        ModuleDescriptor tools = MODULES.get("kvconnect.tools");
        assertTrue(tools.exports().isEmpty(), "tools export " + tools.exports());
        assertTrue(
                tools.opens().stream().allMatch(o -> o.targets().equals(Set.of("info.picocli"))),
                "tools open " + tools.opens());
    }

    @ParameterizedTest
    @ValueSource(
            strings = {"kvconnect.offload", "kvconnect.multi", "kvconnect.nixl", "kvconnect.disk", "kvconnect.redis"})
    void pluginModulesExportNothingAndRequireOnlyTheApi(String name) {
        ModuleDescriptor plugin = MODULES.get(name);
        assertTrue(plugin.exports().isEmpty(), name + " exports " + plugin.exports());
        assertTrue(plugin.opens().isEmpty(), name + " opens " + plugin.opens());
        for (String required : names(plugin.requires())) {
            // The one transport library: JUCX (automatic module "jucx") for the nixl-like UCX backend.
            // And the one Redis client: Lettuce (automatic module "lettuce.core") for redis, with
            // the Netty modules it runs on (an automatic module cannot make them resolve).
            boolean transport = name.equals("kvconnect.nixl") && required.equals("jucx")
                    || name.equals("kvconnect.redis")
                            && (required.equals("lettuce.core") || required.startsWith("io.netty."));
            assertTrue(
                    required.equals("kvconnect.api")
                            || required.equals("org.slf4j")
                            || transport
                            || required.startsWith("java.")
                            || required.startsWith("jdk."),
                    name + " requires " + required);
        }
        assertTrue(names(plugin.requires()).contains("kvconnect.api"));
    }

    private static Set<String> exported(ModuleDescriptor d) {
        assertTrue(
                d.exports().stream().noneMatch(ModuleDescriptor.Exports::isQualified), d.name() + ": " + d.exports());
        return d.exports().stream().map(ModuleDescriptor.Exports::source).collect(Collectors.toSet());
    }

    private static Set<String> names(Set<ModuleDescriptor.Requires> requires) {
        return requires.stream().map(ModuleDescriptor.Requires::name).collect(Collectors.toSet());
    }
}
