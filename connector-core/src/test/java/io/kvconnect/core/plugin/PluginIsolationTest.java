package io.kvconnect.core.plugin;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.kvconnect.core.testing.TestPluginJars;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A plugin loaded from the plugins directory tries, from inside its own layer, to reach the
 * engine's internals by name and by reflection, {@code sun.misc.Unsafe} by name, and native memory
 * through {@code MemorySegment.reinterpret}, and reports what happened through its description.
 * Every attempt must fail (the last because the test JVM runs with the engine JVM's options).
 */
class PluginIsolationTest {
    private static final String PROBE = """
            StringBuilder out = new StringBuilder();
            String target = "io.kvconnect.core.plugin.ConnectorDiscovery";
            try {
                Class.forName(target);
                out.append("forName=loaded");
            } catch (ClassNotFoundException e) {
                out.append("forName=not-found");
            }
            try {
                Class.forName("sun.misc.Unsafe");
                out.append(";unsafe=loaded");
            } catch (ClassNotFoundException e) {
                out.append(";unsafe=not-found");
            }
            try {
                java.lang.foreign.MemorySegment.ofAddress(4096).reinterpret(8);
                out.append(";reinterpret=allowed");
            } catch (IllegalCallerException e) {
                out.append(";reinterpret=refused");
            }
            Module core = ModuleLayer.boot().findModule("kvconnect.core").orElse(null);
            if (core == null) {
                out.append(";core=absent");
                return out.toString();
            }
            out.append(";exported=").append(!core.getPackages().stream()
                    .filter(p -> core.isExported(p, getClass().getModule())).toList().isEmpty());
            try {
                Class<?> type = core.getClassLoader().loadClass(target);
                try {
                    Class<?> directory = core.getClassLoader().loadClass("io.kvconnect.core.plugin.PluginsDirectory");
                    type.getMethod("discover", directory, java.util.Set.class).invoke(null, null, java.util.Set.of());
                    out.append(";invoke=allowed");
                } catch (IllegalAccessException e) {
                    out.append(";invoke=refused");
                } catch (ReflectiveOperationException e) {
                    out.append(";invoke=").append(e.getClass().getSimpleName());
                }
                try {
                    type.getDeclaredMethod("registry", String.class).setAccessible(true);
                    out.append(";setAccessible=allowed");
                } catch (java.lang.reflect.InaccessibleObjectException e) {
                    out.append(";setAccessible=refused");
                } catch (ReflectiveOperationException e) {
                    out.append(";setAccessible=").append(e.getClass().getSimpleName());
                }
            } catch (ClassNotFoundException e) {
                out.append(";load=not-found");
            }
            return out.toString();
            """;

    @TempDir
    Path plugins;

    @Test
    void aPluginCannotReachEngineInternalsEvenByReflection() {
        new TestPluginJars()
                .source(
                        "module-info.java",
                        "module com.example.probe { requires kvconnect.api; "
                                + "provides io.kvconnect.api.ConnectorProvider with com.example.probe.Provider; }")
                .source(
                        "com/example/probe/Provider.java",
                        TestPluginJars.provider("com.example.probe", "Provider", "probe", "", PROBE))
                .service("com.example.probe.Provider")
                .writeTo(plugins.resolve("probe.jar"));

        ConnectorRegistry registry = ConnectorDiscovery.discover(plugins);
        DiscoveredConnector probe = registry.connectors().stream()
                .filter(c -> c.name().equals("probe"))
                .findFirst()
                .orElseThrow(() -> new AssertionError(registry.problems().toString()));

        assertEquals(
                "forName=not-found;unsafe=not-found;reinterpret=refused;exported=false;invoke=refused;"
                        + "setAccessible=refused",
                probe.description());
    }
}
