package io.kvconnect.core.plugin;

import java.lang.module.Configuration;
import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleFinder;
import java.lang.module.ModuleReference;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * Builds one {@link ModuleLayer} per plugin, whose parent gives the plugin the connector API, SLF4J
 * and the JDK, and nothing else it may name.
 *
 * <p>Why this is enough: a plugin's explicit modules may {@code require} only the allowed modules
 * and each other (checked here, before resolution); automatic modules read every module of the
 * parent layer, but the engine module exports no package, so they can neither link against nor
 * reflect into it. The layer's parent class loader ({@link PluginParentClassLoader}) refuses the
 * engine's packages, so they are not reachable by name either.
 */
final class PluginLayerFactory {
    private final ModuleLayer parent;
    private final ClassLoader parentLoader;

    /**
     * @param parent the layer that holds {@code kvconnect.api}
     * @param engine the packages of that layer that plugins may not use
     */
    PluginLayerFactory(ModuleLayer parent, EnginePackages engine) {
        this.parent = parent;
        this.parentLoader = new PluginParentClassLoader(engine);
    }

    /**
     * Resolves the plugin's modules against the parent layer and defines them in a new layer.
     *
     * @param finder the plugin's jars as modules
     *
     * @throws PluginRefusedException if a module requires something a plugin may not use
     * @throws java.lang.module.FindException if resolution fails (the JDK's message names the
     *     module that is missing)
     * @throws java.lang.LayerInstantiationException if the layer cannot be defined (for example a package
     *     split with the parent)
     */
    ModuleLayer define(ModuleFinder finder) {
        Set<String> own = finder.findAll().stream()
                .map(ModuleReference::descriptor)
                .map(ModuleDescriptor::name)
                .collect(Collectors.toCollection(TreeSet::new));
        for (ModuleReference ref : finder.findAll()) {
            for (ModuleDescriptor.Requires requires : ref.descriptor().requires()) {
                String name = requires.name();
                if (!own.contains(name) && !EnginePackages.isAllowed(name)) {
                    throw new PluginRefusedException("module " + ref.descriptor().name() + " requires " + name
                            + ", which a plugin may not use: a plugin sees only " + new TreeSet<>(EnginePackages.ALLOWED_MODULES)
                            + " and the JDK; ship private dependencies as jars in the plugin's own folder");
                }
            }
        }
        Configuration configuration = parent.configuration().resolve(finder, ModuleFinder.of(), own);
        return ModuleLayer.defineModulesWithOneLoader(configuration, List.of(parent),
                parentLoader).layer();
    }
}
