package io.kvconnect.core.plugin;

import java.util.List;

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
 */
record PluginInspection(List<String> providerClasses, List<String> declaredProviders, List<String> engineReferences,
                        boolean referencesEngineInternals) {
    PluginInspection {
        providerClasses = List.copyOf(providerClasses);
        declaredProviders = List.copyOf(declaredProviders);
        engineReferences = List.copyOf(engineReferences);
    }
}
