package io.kvconnect.core.plugin;

import java.util.Set;
import java.util.TreeSet;

/**
 * The packages of the engine's own layer that a plugin may not use: every package of every module
 * in the layer that holds the API (and its parents), except the API, SLF4J and the JDK. That is the
 * engine itself and the libraries it uses privately (Jackson, picocli, ClassGraph, ...).
 */
final class EnginePackages {
    /** Modules of the engine's layer that a plugin may use, besides {@code java.*} and {@code jdk.*}. */
    static final Set<String> ALLOWED_MODULES = Set.of("kvconnect.api", "org.slf4j");

    private final Set<String> forbidden;

    EnginePackages(ModuleLayer engineLayer) {
        var packages = new TreeSet<String>();
        collect(engineLayer, packages);
        this.forbidden = Set.copyOf(packages);
    }

    private static void collect(ModuleLayer layer, Set<String> into) {
        for (Module module : layer.modules()) {
            if (!isAllowed(module.getName())) {
                into.addAll(module.getPackages());
            }
        }
        layer.parents().forEach(parent -> collect(parent, into));
    }

    /** Whether a plugin may read module {@code name} of the engine's layer. */
    static boolean isAllowed(String name) {
        return ALLOWED_MODULES.contains(name) || name.startsWith("java.") || name.startsWith("jdk.");
    }

    /** Whether {@code packageName} belongs to the engine and not to what plugins may use. */
    boolean isForbidden(String packageName) {
        return forbidden.contains(packageName);
    }

    /** Whether {@code packageName} is the engine's own (as opposed to a library it uses). */
    static boolean isEngineInternal(String packageName) {
        return packageName.equals("io.kvconnect.core") || packageName.startsWith("io.kvconnect.core.");
    }
}
