package io.kvconnect.core.plugin;

import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleFinder;
import java.lang.module.ModuleReference;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.Optional;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * JDK modules whose exported API gives code in the engine's process powers far beyond the
 * connector contract. A plugin module from the plugins directory may read one of them (through
 * {@code requires}, directly or through another module's {@code requires transitive}, or, for an
 * automatic module, by referencing its packages) only when the engine configuration's {@code
 * trusted_plugins} names it; otherwise the plugin is refused before any of its classes is loaded,
 * and the layer's parent class loader does not hand out their classes by name.
 *
 * <p>The list, and why:
 * <ul>
 *   <li>{@code jdk.unsupported}: {@code sun.misc.Unsafe} (memory access at any address or field
 *       offset, where the JVM still allows it, and objects allocated without running any
 *       constructor), {@code sun.reflect.ReflectionFactory} (objects built around their
 *       constructors, private serialization hooks called) and {@code sun.misc.Signal} (the
 *       engine's signal handlers replaced);</li>
 *   <li>{@code jdk.attach}: attaching to any JVM of the same user, this engine's peer engine
 *       included, to run diagnostic commands in it;</li>
 *   <li>{@code jdk.jdi}: a debugger's view of a JVM started with a debug agent: reading and
 *       writing any field, calling any method;</li>
 *   <li>{@code java.instrument}: redefining any class, given an agent's {@code Instrumentation};</li>
 *   <li>{@code java.management}: the platform MBean server: heap dumps (every object of the
 *       engine, private state included, written to a file), diagnostic commands, VM flags;</li>
 *   <li>{@code jdk.management}: HotSpot's diagnostic MBean: heap dumps and VM flags;</li>
 *   <li>every {@code jdk.internal.*} module: the JDK's internals, no API at all.</li>
 * </ul>
 *
 * <p>Every other {@code java.*} and {@code jdk.*} module is allowed: what it gives (files,
 * sockets, threads, processes, a compiler, flight recordings) is what any code in the process has
 * anyway, as {@code docs/security-plugins.md} explains. Modules that export nothing to everyone
 * ({@code jdk.management.agent}, {@code jdk.jdwp.agent}, {@code jdk.hotspot.agent}) give a module
 * that requires them nothing and need no entry. Modules that pass a restricted one on through
 * {@code requires transitive} ({@code jdk.jshell} gives {@code jdk.jdi}, {@code java.se} gives
 * {@code java.management}) count as restricted through it.
 */
final class RestrictedJdkModules {
    private static final Map<String, String> POWERS = Map.of(
            "jdk.unsupported",
                    "sun.misc.Unsafe, sun.reflect.ReflectionFactory and sun.misc.Signal: objects built "
                            + "without their constructors, raw memory access, the engine's signal handlers replaced",
            "jdk.attach", "attaching to any local JVM of the same user to run diagnostic commands in it",
            "jdk.jdi", "debugging a JVM: reading and writing any field, calling any method",
            "java.instrument", "redefining any class",
            "java.management",
                    "the platform MBean server: heap dumps of the whole engine, diagnostic commands, " + "VM flags",
            "jdk.management", "HotSpot's diagnostic MBean: heap dumps of the whole engine, VM flags");
    private static final String INTERNAL_PREFIX = "jdk.internal.";
    private static final ModuleFinder SYSTEM = ModuleFinder.ofSystem();

    private RestrictedJdkModules() {}

    /** Whether {@code module} itself is on the list. */
    static boolean isRestricted(String module) {
        return POWERS.containsKey(module) || module.startsWith(INTERNAL_PREFIX);
    }

    /** Whether {@code module} is a JDK module ({@code java.*} or {@code jdk.*}). */
    static boolean isJdk(String module) {
        return module.startsWith("java.") || module.startsWith("jdk.");
    }

    /** What {@code module}, a restricted module, hands out; for messages. */
    static String power(String module) {
        return POWERS.getOrDefault(module, "the JDK's internals, which are no API");
    }

    /**
     * The restricted modules a module that reads {@code module} reads: {@code module} itself if it
     * is restricted, and every restricted module it passes on through {@code requires transitive},
     * as its descriptor in {@code layer} (or its parents) says, or the JDK's for a JDK module that
     * the layer does not hold. Empty when reading it gives nothing restricted.
     */
    static SortedSet<String> reachedThrough(ModuleLayer layer, String module) {
        var reached = new TreeSet<String>();
        var seen = new TreeSet<String>();
        var pending = new ArrayDeque<String>();
        pending.add(module);
        while (!pending.isEmpty()) {
            String name = pending.poll();
            if (!seen.add(name)) {
                continue;
            }
            if (isRestricted(name)) {
                reached.add(name);
            }
            descriptor(layer, name).ifPresent(d -> d.requires().stream()
                    .filter(r -> r.modifiers().contains(ModuleDescriptor.Requires.Modifier.TRANSITIVE))
                    .forEach(r -> pending.add(r.name())));
        }
        return reached;
    }

    private static Optional<ModuleDescriptor> descriptor(ModuleLayer layer, String name) {
        Optional<ModuleDescriptor> inLayer = layer.findModule(name).map(Module::getDescriptor);
        return inLayer.isPresent() || !isJdk(name) ? inLayer : SYSTEM.find(name).map(ModuleReference::descriptor);
    }
}
