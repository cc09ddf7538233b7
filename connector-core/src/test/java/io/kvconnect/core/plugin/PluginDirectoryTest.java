package io.kvconnect.core.plugin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.common.ConfigException;
import io.kvconnect.core.testing.TestPluginJars;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Discovery from the plugins directory: one module layer per plugin, and every refusal path. */
class PluginDirectoryTest {
    @TempDir
    Path plugins;

    @Test
    void discoversAPluginJarInItsOwnLayer() {
        Path jar = TestPluginJars.goodModule("com.example.alpha", "com.example.alpha", "alpha")
                .writeTo(plugins.resolve("alpha.jar"));

        ConnectorRegistry registry = ConnectorDiscovery.discover(plugins);

        DiscoveredConnector alpha = registry.connectors().stream()
                .filter(c -> c.name().equals("alpha"))
                .findFirst()
                .orElseThrow();
        assertEquals(ConnectorOrigin.PLUGINS_DIRECTORY, alpha.origin());
        assertEquals("com.example.alpha", alpha.module());
        assertEquals(jar.toString(), alpha.location());
        assertEquals("1.0", alpha.version());
        assertEquals("test connector alpha", alpha.description());
        Module module = alpha.provider().getClass().getModule();
        assertTrue(module.isNamed());
        assertFalse(module.getLayer() == ModuleLayer.boot(), "a plugin gets a layer of its own");
        assertTrue(module.getDescriptor().exports().isEmpty());
        assertTrue(registry.problems().isEmpty(), registry.problems().toString());
    }

    @Test
    void eachPluginGetsADifferentLayer() {
        TestPluginJars.goodModule("com.example.alpha", "com.example.alpha", "alpha")
                .writeTo(plugins.resolve("a.jar"));
        TestPluginJars.goodModule("com.example.beta", "com.example.beta", "beta")
                .writeTo(plugins.resolve("b.jar"));

        ConnectorRegistry registry = ConnectorDiscovery.discover(plugins);

        ModuleLayer a =
                registry.find("alpha").orElseThrow().getClass().getModule().getLayer();
        ModuleLayer b =
                registry.find("beta").orElseThrow().getClass().getModule().getLayer();
        assertNotNull(a);
        assertFalse(a == b);
        assertTrue(b.findModule("com.example.alpha").isEmpty(), "a plugin cannot see another plugin's modules");
    }

    @Test
    void aFolderOfJarsSharesOneLayerWithItsPrivateDependency() throws Exception {
        Path folder = Files.createDirectories(plugins.resolve("gamma"));
        Path lib = new TestPluginJars()
                .source("module-info.java", "module com.example.gammalib { exports com.example.gammalib; }")
                .source(
                        "com/example/gammalib/Greeting.java",
                        "package com.example.gammalib; public final class Greeting { public static String text() { return \"from lib\"; } }")
                .writeTo(folder.resolve("gamma-lib.jar"));
        new TestPluginJars()
                .modulePath(lib)
                .source("module-info.java", """
                        module com.example.gamma {
                            requires kvconnect.api;
                            requires com.example.gammalib;
                            provides io.kvconnect.api.ConnectorProvider with com.example.gamma.Provider;
                        }""")
                .source(
                        "com/example/gamma/Provider.java",
                        TestPluginJars.provider(
                                "com.example.gamma",
                                "Provider",
                                "gamma",
                                "",
                                "return com.example.gammalib.Greeting.text();"))
                .service("com.example.gamma.Provider")
                .writeTo(folder.resolve("gamma.jar"));

        ConnectorRegistry registry = ConnectorDiscovery.discover(plugins);

        DiscoveredConnector gamma = registry.connectors().stream()
                .filter(c -> c.name().equals("gamma"))
                .findFirst()
                .orElseThrow(() -> new AssertionError(registry.problems().toString()));
        assertEquals("from lib", gamma.description());
        assertEquals(folder.toString(), gamma.location());
    }

    @Test
    void refusesAJarWithoutProviderNamingTheJar() {
        Path jar = new TestPluginJars()
                .source("module-info.java", "module com.example.empty { requires kvconnect.api; }")
                .source("com/example/empty/Nothing.java", "package com.example.empty; public final class Nothing { }")
                .writeTo(plugins.resolve("empty.jar"));

        ConnectorRegistry registry = ConnectorDiscovery.discover(plugins);

        PluginProblem problem = single(registry.problems());
        assertEquals(jar.toString(), problem.location());
        assertTrue(problem.message().contains("declares no connector provider"), problem.message());
        assertTrue(
                problem.message().contains("no class implementing io.kvconnect.api.ConnectorProvider"),
                problem.message());
    }

    @Test
    void refusesAProviderClassThatIsNotDeclared() {
        new TestPluginJars()
                .source("module-info.java", "module com.example.undeclared { requires kvconnect.api; }")
                .source(
                        "com/example/undeclared/Provider.java",
                        TestPluginJars.provider("com.example.undeclared", "Provider", "undeclared", "", "return \"\";"))
                .writeTo(plugins.resolve("undeclared.jar"));

        PluginProblem problem = single(ConnectorDiscovery.discover(plugins).problems());

        assertTrue(
                problem.message().contains("[com.example.undeclared.Provider] but declares none of them"),
                problem.message());
    }

    @Test
    void aProviderThatThrowsWhileLoadingIsReportedAndOthersStillLoad() {
        Path bad = new TestPluginJars()
                .source(
                        "module-info.java",
                        "module com.example.boom { requires kvconnect.api; "
                                + "provides io.kvconnect.api.ConnectorProvider with com.example.boom.Provider; }")
                .source(
                        "com/example/boom/Provider.java",
                        TestPluginJars.provider(
                                "com.example.boom",
                                "Provider",
                                "boom",
                                "if (true) throw new IllegalStateException(\"no licence key\");",
                                "return \"\";"))
                .writeTo(plugins.resolve("boom.jar"));
        TestPluginJars.goodModule("com.example.alpha", "com.example.alpha", "alpha")
                .writeTo(plugins.resolve("z.jar"));

        ConnectorRegistry registry = ConnectorDiscovery.discover(plugins);

        PluginProblem problem = single(registry.problems());
        assertEquals(bad.toString(), problem.location());
        assertTrue(problem.message().contains("com.example.boom.Provider failed while loading"), problem.message());
        assertTrue(problem.message().contains("no licence key"), problem.message());
        assertTrue(registry.find("alpha").isPresent(), "one broken plugin does not stop the others");
    }

    /** A plugin's throwable whose every describing method throws, as source for a plugin. */
    private static final String UNPRINTABLE = "new IllegalStateException() {"
            + " @Override public String getMessage() { throw new RuntimeException(\"getMessage\"); }"
            + " @Override public String getLocalizedMessage() { throw new RuntimeException(\"getMessage\"); }"
            + " @Override public String toString() { throw new RuntimeException(\"toString\"); } }";

    @Test
    void aProviderThrowingAThrowableThatCannotBePrintedIsRefusedAndOthersStillLoad() {
        new TestPluginJars()
                .source(
                        "module-info.java",
                        "module com.example.mute { requires kvconnect.api; "
                                + "provides io.kvconnect.api.ConnectorProvider with com.example.mute.Provider; }")
                .source(
                        "com/example/mute/Provider.java",
                        TestPluginJars.provider(
                                "com.example.mute",
                                "Provider",
                                "mute",
                                "if (true) throw " + UNPRINTABLE + ";",
                                "return \"\";"))
                .writeTo(plugins.resolve("mute.jar"));
        new TestPluginJars()
                .source(
                        "module-info.java",
                        "module com.example.vague { requires kvconnect.api; "
                                + "provides io.kvconnect.api.ConnectorProvider with com.example.vague.Provider; }")
                .source(
                        "com/example/vague/Provider.java",
                        TestPluginJars.provider(
                                "com.example.vague",
                                "Provider",
                                "vague",
                                "",
                                "if (true) throw " + UNPRINTABLE + "; return \"\";"))
                .writeTo(plugins.resolve("vague.jar"));
        TestPluginJars.goodModule("com.example.alpha", "com.example.alpha", "alpha")
                .writeTo(plugins.resolve("z.jar"));

        ConnectorRegistry registry = ConnectorDiscovery.discover(plugins);

        assertEquals(2, registry.problems().size(), registry.problems().toString());
        for (PluginProblem problem : registry.problems()) {
            assertTrue(problem.message().contains("(its message could not be read"), problem.message());
        }
        assertTrue(registry.find("alpha").isPresent(), "one broken plugin does not stop the others");
    }

    @Test
    void aProviderWhoseConstructorThrowsAnErrorIsRefusedAndOthersStillLoad() {
        new TestPluginJars()
                .source(
                        "module-info.java",
                        "module com.example.deep { requires kvconnect.api; "
                                + "provides io.kvconnect.api.ConnectorProvider with com.example.deep.Provider; }")
                .source(
                        "com/example/deep/Provider.java",
                        TestPluginJars.provider(
                                "com.example.deep",
                                "Provider",
                                "deep",
                                "if (true) throw new StackOverflowError(\"recursed\");",
                                "return \"\";"))
                .writeTo(plugins.resolve("deep.jar"));
        TestPluginJars.goodModule("com.example.alpha", "com.example.alpha", "alpha")
                .writeTo(plugins.resolve("z.jar"));

        ConnectorRegistry registry = ConnectorDiscovery.discover(plugins);

        PluginProblem problem = single(registry.problems());
        assertTrue(problem.message().contains("com.example.deep.Provider failed while loading"), problem.message());
        assertTrue(problem.message().contains("StackOverflowError"), problem.message());
        assertTrue(registry.find("alpha").isPresent(), "one broken plugin does not stop the others");
    }

    @Test
    void aProviderWhoseConstructorHangsIsRefusedAfterTheBoundAndOthersStillLoad() {
        new TestPluginJars()
                .source(
                        "module-info.java",
                        "module com.example.hang { requires kvconnect.api; "
                                + "provides io.kvconnect.api.ConnectorProvider with com.example.hang.Provider; }")
                .source(
                        "com/example/hang/Provider.java",
                        TestPluginJars.provider(
                                "com.example.hang",
                                "Provider",
                                "hang",
                                "while (true) { Thread.onSpinWait(); }",
                                "return \"\";"))
                .writeTo(plugins.resolve("hang.jar"));
        TestPluginJars.goodModule("com.example.alpha", "com.example.alpha", "alpha")
                .writeTo(plugins.resolve("z.jar"));

        ConnectorRegistry registry =
                ConnectorDiscovery.discover(plugins, java.util.Set.of(), java.time.Duration.ofMillis(300));

        PluginProblem problem = single(registry.problems());
        assertTrue(
                problem.message().contains("com.example.hang.Provider did not finish loading within 300 ms"),
                problem.message());
        assertTrue(registry.find("alpha").isPresent(), "a hanging plugin does not stop the others");
    }

    @Test
    void aProviderWithAnInvalidNameIsRefused() {
        new TestPluginJars()
                .source(
                        "module-info.java",
                        "module com.example.caps { requires kvconnect.api; "
                                + "provides io.kvconnect.api.ConnectorProvider with com.example.caps.Provider; }")
                .source(
                        "com/example/caps/Provider.java",
                        TestPluginJars.provider("com.example.caps", "Provider", "Bad Name", "", "return \"\";"))
                .writeTo(plugins.resolve("caps.jar"));

        PluginProblem problem = single(ConnectorDiscovery.discover(plugins).problems());

        assertTrue(problem.message().contains("invalid name 'Bad Name'"), problem.message());
    }

    @Test
    void duplicateNamesAreRefusedNamingBothJars() {
        Path first = TestPluginJars.goodModule("com.example.one", "com.example.one", "twin")
                .writeTo(plugins.resolve("one.jar"));
        Path second = TestPluginJars.goodModule("com.example.two", "com.example.two", "twin")
                .writeTo(plugins.resolve("two.jar"));

        ConnectorRegistry registry = ConnectorDiscovery.discover(plugins);

        assertTrue(registry.find("twin").isEmpty(), "a duplicated name is not silently resolved");
        PluginProblem problem = single(registry.problems());
        assertTrue(problem.message().contains("'twin' is provided more than once"), problem.message());
        assertTrue(problem.message().contains(first.toString()), problem.message());
        assertTrue(problem.message().contains(second.toString()), problem.message());
        ConfigException e =
                assertThrows(ConfigException.class, () -> registry.require("config.connector.name", "twin"));
        assertTrue(e.getMessage().contains("provided more than once"), e.getMessage());
    }

    @Test
    void refusesAPlainJarThatReferencesEngineInternals() {
        Path core = TestPluginJars.locationOf(ConnectorDiscovery.class);
        Path jar = new TestPluginJars()
                .classPath(core)
                .source(
                        "com/example/sneaky/Provider.java",
                        TestPluginJars.provider(
                                "com.example.sneaky",
                                "Provider",
                                "sneaky",
                                "",
                                "return String.valueOf(io.kvconnect.core.plugin.ConnectorDiscovery.class);"))
                .service("com.example.sneaky.Provider")
                .writeTo(plugins.resolve("sneaky.jar"));

        PluginProblem problem = single(ConnectorDiscovery.discover(plugins).problems());

        assertEquals(jar.toString(), problem.location());
        assertTrue(problem.message().contains("references engine internals"), problem.message());
        assertTrue(
                problem.message()
                        .contains("com.example.sneaky.Provider -> io.kvconnect.core.plugin.ConnectorDiscovery"),
                problem.message());
    }

    @Test
    void refusesAModuleThatRequiresAModuleOutsideTheApi() {
        new TestPluginJars()
                .modulePath(TestPluginJars.locationOf(picocli.CommandLine.class))
                .source(
                        "module-info.java",
                        "module com.example.greedy { requires kvconnect.api; requires info.picocli; "
                                + "provides io.kvconnect.api.ConnectorProvider with com.example.greedy.Provider; }")
                .source(
                        "com/example/greedy/Provider.java",
                        TestPluginJars.provider("com.example.greedy", "Provider", "greedy", "", "return \"\";"))
                .service("com.example.greedy.Provider")
                .writeTo(plugins.resolve("greedy.jar"));

        PluginProblem problem = single(ConnectorDiscovery.discover(plugins).problems());

        assertTrue(problem.message().contains("requires info.picocli, which a plugin may not use"), problem.message());
    }

    @Test
    void anEmptyFolderIsReported() throws Exception {
        Path folder = Files.createDirectories(plugins.resolve("nothing-here"));

        PluginProblem problem = single(ConnectorDiscovery.discover(plugins).problems());

        assertEquals(folder.toString(), problem.location());
        assertTrue(problem.message().contains("holds no jar"), problem.message());
    }

    @Test
    void unknownNameListsTheAvailableOnes() {
        TestPluginJars.goodModule("com.example.alpha", "com.example.alpha", "alpha")
                .writeTo(plugins.resolve("a.jar"));
        TestPluginJars.goodModule("com.example.beta", "com.example.beta", "beta")
                .writeTo(plugins.resolve("b.jar"));
        ConnectorRegistry registry = ConnectorDiscovery.discover(plugins);

        ConfigException e =
                assertThrows(ConfigException.class, () -> registry.require("config.connector.name", "gamma"));

        assertEquals("config.connector.name", e.path());
        assertTrue(e.getMessage().contains("unknown connector 'gamma'"), e.getMessage());
        assertTrue(e.getMessage().contains("alpha, beta"), e.getMessage());
    }

    @Test
    void namesAreSortedWhateverTheFileOrder() {
        TestPluginJars.goodModule("com.example.zed", "com.example.zed", "zed").writeTo(plugins.resolve("a.jar"));
        TestPluginJars.goodModule("com.example.alpha", "com.example.alpha", "alpha")
                .writeTo(plugins.resolve("z.jar"));

        List<String> names = ConnectorDiscovery.discover(plugins).names();

        assertTrue(names.indexOf("alpha") < names.indexOf("zed"), names.toString());
    }

    private static PluginProblem single(List<PluginProblem> problems) {
        assertEquals(1, problems.size(), problems.toString());
        return problems.getFirst();
    }
}
