package io.kvconnect.core.plugin;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * What a plugin may use of the engine's own layer (the layer that holds the API, and its parents).
 *
 * <p>Freely: {@code kvconnect.api}, {@code org.slf4j} and the JDK's modules except the {@linkplain
 * RestrictedJdkModules restricted} ones. Only when trusted: the restricted JDK modules. Never:
 * every other module of the layer, that is the engine itself and the libraries it uses privately
 * (Jackson, picocli, ClassGraph, JUCX, ...); a plugin bundles its own copy of a library in its
 * folder.
 */
final class EnginePackages {
    /** Modules of the engine's layer that a plugin may use, besides the JDK's. */
    static final Set<String> ALLOWED_MODULES = Set.of("kvconnect.api", "org.slf4j");

    private final ModuleLayer engineLayer;
    private final Set<String> forbidden;
    private final Map<String, String> restrictedJdkPackages;

    EnginePackages(ModuleLayer engineLayer) {
        this.engineLayer = engineLayer;
        var packages = new TreeSet<String>();
        var restricted = new HashMap<String, String>();
        collect(engineLayer, packages, restricted);
        this.forbidden = Set.copyOf(packages);
        this.restrictedJdkPackages = Map.copyOf(restricted);
    }

    private static void collect(ModuleLayer layer, Set<String> forbidden, Map<String, String> restricted) {
        for (Module module : layer.modules()) {
            String name = module.getName();
            if (RestrictedJdkModules.isJdk(name) && RestrictedJdkModules.isRestricted(name)) {
                module.getPackages().forEach(p -> restricted.put(p, name));
                forbidden.addAll(module.getPackages());
            } else if (!ALLOWED_MODULES.contains(name) && !RestrictedJdkModules.isJdk(name)) {
                forbidden.addAll(module.getPackages());
            }
        }
        layer.parents().forEach(parent -> collect(parent, forbidden, restricted));
    }

    /** The layer these packages are of. */
    ModuleLayer layer() {
        return engineLayer;
    }

    /**
     * Whether a plugin module may read module {@code name} of the engine's layer without being
     * trusted: the API, SLF4J, and a JDK module that gives no restricted module.
     */
    boolean isFreelyReadable(String name) {
        return ALLOWED_MODULES.contains(name)
                || RestrictedJdkModules.isJdk(name) && restrictedThrough(name).isEmpty();
    }

    /** The restricted JDK modules reading module {@code name} gives; empty for any other module. */
    SortedSet<String> restrictedThrough(String name) {
        return RestrictedJdkModules.isJdk(name)
                ? RestrictedJdkModules.reachedThrough(engineLayer, name)
                : new TreeSet<>();
    }

    /**
     * Whether {@code packageName} is one that an untrusted plugin may not load: the engine's, a
     * library's the engine uses privately, or a restricted JDK module's.
     */
    boolean isForbidden(String packageName) {
        return forbidden.contains(packageName);
    }

    /** The restricted JDK module that holds {@code packageName}, if one does. */
    Optional<String> restrictedModuleOf(String packageName) {
        return Optional.ofNullable(restrictedJdkPackages.get(packageName));
    }

    /** Whether {@code packageName} is the engine's own (as opposed to a library it uses). */
    static boolean isEngineInternal(String packageName) {
        return packageName.equals("io.kvconnect.core") || packageName.startsWith("io.kvconnect.core.");
    }
}
