package io.kvconnect.core.plugin;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What {@link PluginInspector} found in a plugin's jars before anything was loaded.
 *
 * @param providerClasses classes that implement {@code ConnectorProvider}, sorted
 * @param declaredProviders provider classes declared in {@code module-info} or {@code
 *     META-INF/services}, sorted
 * @param engineReferences references to engine packages (internals or private libraries), as
 *     {@code "from.Class -> to.Class"}, sorted; at most a few
 * @param referencesEngineInternals whether any reference, reported or not, targets the engine's own
 *     packages rather than a library the engine uses privately
 * @param restrictedReferences for each plugin module and restricted JDK module it references, the
 *     first such reference, sorted by plugin module and JDK module
 * @param referencedTypes for each plugin module, the classes its classes reference (its own
 *     included)
 */
record PluginInspection(
        List<String> providerClasses,
        List<String> declaredProviders,
        List<String> engineReferences,
        boolean referencesEngineInternals,
        List<RestrictedReference> restrictedReferences,
        Map<String, Set<String>> referencedTypes) {
    PluginInspection {
        providerClasses = List.copyOf(providerClasses);
        declaredProviders = List.copyOf(declaredProviders);
        engineReferences = List.copyOf(engineReferences);
        restrictedReferences = List.copyOf(restrictedReferences);
        var types = new java.util.HashMap<String, Set<String>>();
        referencedTypes.forEach((module, names) -> types.put(module, Set.copyOf(names)));
        referencedTypes = Map.copyOf(types);
    }

    /** The classes the classes of plugin module {@code module} reference; empty if it has none. */
    Set<String> referencedBy(String module) {
        return referencedTypes.getOrDefault(module, Set.of());
    }

    /**
     * A class of a plugin module that references a class of a restricted JDK module.
     *
     * @param pluginModule the plugin module the referring class belongs to
     * @param jdkModule the restricted JDK module
     * @param reference {@code "from.Class -> to.Class"}
     */
    record RestrictedReference(String pluginModule, String jdkModule, String reference) {}
}
