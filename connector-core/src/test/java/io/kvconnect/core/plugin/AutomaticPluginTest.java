package io.kvconnect.core.plugin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.core.testing.TestPluginJars;
import java.lang.classfile.ClassFile;
import java.lang.constant.ClassDesc;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A plugin jar without {@code module-info} (an automatic module) reads only what an explicit
 * plugin module may read: the API, SLF4J, the unrestricted JDK and the jars of its own folder.
 * Resolution alone would let it read every module of the engine's layer, and its layer's class
 * loader would then serve it every package they export, even by a name computed at run time.
 */
class AutomaticPluginTest {
    /** Tries to load classes of the engine's layer by names no byte-code scan can see. */
    private static final String LOADS_BY_COMPUTED_NAME = """
            StringBuilder out = new StringBuilder();
            String[][] targets = {
                {"jackson", "com.fasterxml.jackson.databind", "ObjectMapper"},
                {"engine", "io.kvconnect.core.engine", "Engine"},
                {"picocli", "picocli", "CommandLine"},
                {"classgraph", "io.github.classgraph", "ClassGraph"},
                {"unsafe", "sun.misc", "Unsafe"},
                {"management", "java.lang.management", "ManagementFactory"},
            };
            for (String[] t : targets) {
                out.append(out.isEmpty() ? "" : ";").append(t[0]).append('=');
                try {
                    Class.forName(String.join(".", t[1], t[2]));
                    out.append("loaded");
                } catch (ClassNotFoundException e) {
                    out.append("not-found");
                }
            }
            return out.toString();
            """;

    @TempDir
    Path plugins;

    @Test
    void anAutomaticPluginCannotLoadTheEnginesLibrariesOrRestrictedJdkClassesByName() {
        new TestPluginJars()
                .source(
                        "com/example/auto/Provider.java",
                        TestPluginJars.provider("com.example.auto", "Provider", "auto", "", LOADS_BY_COMPUTED_NAME))
                .service("com.example.auto.Provider")
                .writeTo(plugins.resolve("auto-probe.jar"));

        ConnectorRegistry registry = ConnectorDiscovery.discover(plugins);

        DiscoveredConnector auto = registry.connectors().stream()
                .filter(c -> c.name().equals("auto"))
                .findFirst()
                .orElseThrow(() -> new AssertionError(registry.problems().toString()));
        assertEquals(
                "jackson=not-found;engine=not-found;picocli=not-found;classgraph=not-found;unsafe=not-found;"
                        + "management=not-found",
                auto.description());
        Module module = auto.provider().getClass().getModule();
        assertEquals("auto.probe", module.getName(), "the jar's automatic name is kept");
        assertTrue(
                !module.canRead(com.fasterxml.jackson.databind.ObjectMapper.class.getModule()),
                "it does not read the engine's libraries");
        assertTrue(module.canRead(org.slf4j.Logger.class.getModule()));
    }

    @Test
    void anAutomaticPluginUsingTheApiSlf4jTheJdkAndServiceLoaderStillWorks() {
        new TestPluginJars()
                .classPath(TestPluginJars.locationOf(org.slf4j.Logger.class))
                .source(
                        "com/example/plain/Provider.java",
                        TestPluginJars.provider("com.example.plain", "Provider", "plain", "", """
                        var log = org.slf4j.LoggerFactory.getLogger(getClass());
                        log.info("plain plugin describing itself");
                        var client = java.net.http.HttpClient.newBuilder().build();
                        boolean loads = java.util.ServiceLoader.load(java.nio.file.spi.FileSystemProvider.class)
                                .stream().count() >= 0;
                        return log.getName() + ";http=" + (client != null) + ";serviceLoader=" + loads;
                        """))
                .service("com.example.plain.Provider")
                .writeTo(plugins.resolve("plain-connector-2.1.jar"));

        ConnectorRegistry registry = ConnectorDiscovery.discover(plugins);

        assertTrue(registry.problems().isEmpty(), registry.problems().toString());
        DiscoveredConnector plain = registry.connectors().stream()
                .filter(c -> c.name().equals("plain"))
                .findFirst()
                .orElseThrow();
        assertEquals("com.example.plain.Provider;http=true;serviceLoader=true", plain.description());
        assertEquals("plain.connector", plain.module());
        assertEquals(
                "2.1",
                plain.provider()
                        .getClass()
                        .getModule()
                        .getDescriptor()
                        .version()
                        .orElseThrow()
                        .toString());
    }

    @Test
    void aClassNamedWithAJavaKeywordDoesNotStopDiscovery() {
        // Legal in a class file (obfuscators write such names), but no name a module descriptor takes.
        byte[] keywordClass = ClassFile.of()
                .build(
                        ClassDesc.of("com.example.odd", "if"),
                        c -> c.withFlags(ClassFile.ACC_PUBLIC | ClassFile.ACC_FINAL | ClassFile.ACC_SUPER));
        new TestPluginJars()
                .binary("com/example/odd/if.class", keywordClass)
                .source(
                        "com/example/odd/Provider.java",
                        TestPluginJars.provider("com.example.odd", "Provider", "odd", "", "return \"odd\";"))
                .service("com.example.odd.Provider")
                .writeTo(plugins.resolve("odd.jar"));
        TestPluginJars.goodModule("com.example.alpha", "com.example.alpha", "alpha")
                .writeTo(plugins.resolve("z.jar"));

        ConnectorRegistry registry = ConnectorDiscovery.discover(plugins);

        assertTrue(registry.problems().isEmpty(), registry.problems().toString());
        assertEquals("odd", registry.find("odd").orElseThrow().description());
        assertTrue(registry.find("alpha").isPresent());
    }

    @Test
    void automaticJarsOfOneFolderStillReadEachOtherAndAnExplicitModuleMayRequireOne() throws Exception {
        Path folder = Files.createDirectories(plugins.resolve("delta"));
        Path lib = new TestPluginJars()
                .source(
                        "com/example/deltalib/Greeting.java",
                        "package com.example.deltalib; "
                                + "public final class Greeting { public static String text() { return \"from lib\"; } }")
                .writeTo(folder.resolve("delta-lib.jar"));
        new TestPluginJars()
                .classPath(lib)
                .source(
                        "com/example/delta/Provider.java",
                        TestPluginJars.provider(
                                "com.example.delta",
                                "Provider",
                                "delta",
                                "",
                                "return com.example.deltalib.Greeting.text();"))
                .service("com.example.delta.Provider")
                .writeTo(folder.resolve("delta.jar"));
        new TestPluginJars()
                .modulePath(lib)
                .source(
                        "module-info.java",
                        "module com.example.epsilon { requires kvconnect.api; "
                                + "requires delta.lib; provides io.kvconnect.api.ConnectorProvider with "
                                + "com.example.epsilon.Provider; }")
                .source(
                        "com/example/epsilon/Provider.java",
                        TestPluginJars.provider(
                                "com.example.epsilon",
                                "Provider",
                                "epsilon",
                                "",
                                "return com.example.deltalib.Greeting.text();"))
                .service("com.example.epsilon.Provider")
                .writeTo(folder.resolve("epsilon.jar"));

        ConnectorRegistry registry = ConnectorDiscovery.discover(plugins);

        assertTrue(registry.problems().isEmpty(), registry.problems().toString());
        assertEquals("from lib", registry.find("delta").orElseThrow().description());
        assertEquals("from lib", registry.find("epsilon").orElseThrow().description());
    }
}
