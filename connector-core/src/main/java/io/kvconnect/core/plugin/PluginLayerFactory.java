package io.kvconnect.core.plugin;

import java.lang.module.Configuration;
import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleFinder;
import java.lang.module.ModuleReference;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Builds one {@link ModuleLayer} per plugin, whose parent gives the plugin the connector API, SLF4J
 * and the JDK (the restricted JDK modules only to trusted plugin modules), and nothing else it may
 * name.
 *
 * <p>Why this is enough: a plugin's explicit modules may {@code require} only the allowed modules
 * and each other (checked here, before resolution). An automatic module would read every module
 * of the parent layers, so it is replaced by an explicit stand-in that requires only what a plugin
 * may read ({@link ConfinedAutomaticModule}). The layer's class loader serves a module the
 * packages of the modules it reads; for any other package it asks the parent class loader ({@link
 * PluginParentClassLoader}), which refuses the engine's packages, its private libraries' and the
 * restricted JDK modules', so a class name computed at run time does not reach them either.
 */
final class PluginLayerFactory {
    private final ModuleLayer parent;
    private final EnginePackages engine;
    private final ClassLoader parentLoader;

    /**
     * @param engine what plugins may use of the layer that holds {@code kvconnect.api}, which
     *     becomes the parent of every plugin layer
     */
    PluginLayerFactory(EnginePackages engine) {
        this.parent = engine.layer();
        this.engine = engine;
        this.parentLoader = new PluginParentClassLoader(engine);
    }

    /**
     * Resolves the plugin's modules against the parent layer and defines them in a new layer.
     * Whether the plugin may use restricted JDK modules at all was decided before ({@link
     * TrustedPlugins#refusal}); here a trusted automatic module gets them.
     *
     * @param finder the plugin's jars as modules
     * @param inspection what the plugin's classes reference
     * @param trusted the plugin modules the configuration trusts
     * @throws PluginRefusedException if a module requires something a plugin may not use
     * @throws java.lang.module.FindException if resolution fails (the JDK's message names the
     *     module that is missing)
     * @throws java.lang.LayerInstantiationException if the layer cannot be defined (for example a package
     *     split with the parent)
     */
    ModuleLayer define(ModuleFinder finder, PluginInspection inspection, TrustedPlugins trusted) {
        Set<String> own = new TreeSet<>();
        finder.findAll().forEach(ref -> own.add(ref.descriptor().name()));
        var modules = new TreeMap<String, ModuleReference>();
        var confined = new TreeSet<String>();
        for (ModuleReference ref : finder.findAll()) {
            ModuleDescriptor d = ref.descriptor();
            if (d.isAutomatic()) {
                Set<String> readable = readable(trusted.trusts(d.name()));
                modules.put(
                        d.name(),
                        ConfinedAutomaticModule.of(
                                ref, readable, exportedBy(readable), inspection.referencedBy(d.name())));
                confined.add(d.name());
                continue;
            }
            for (ModuleDescriptor.Requires requires : d.requires()) {
                String name = requires.name();
                if (!own.contains(name)
                        && !RestrictedJdkModules.isJdk(name)
                        && !EnginePackages.ALLOWED_MODULES.contains(name)) {
                    throw new PluginRefusedException("module " + d.name() + " requires " + name
                            + ", which a plugin may not use: a plugin sees only "
                            + new TreeSet<>(EnginePackages.ALLOWED_MODULES)
                            + " and the JDK; ship private dependencies as jars in the plugin's own folder");
                }
            }
            modules.put(d.name(), ref);
        }
        Configuration configuration = parent.configuration().resolve(new Fixed(modules), ModuleFinder.of(), own);
        ModuleLayer.Controller controller =
                ModuleLayer.defineModulesWithOneLoader(configuration, List.of(parent), parentLoader);
        ModuleLayer layer = controller.layer();
        // An automatic module read, and was read by, every module of its folder; the stand-ins get
        // those reads back here, where (unlike in descriptors) cycles are allowed.
        for (String name : confined) {
            Module module = layer.findModule(name).orElseThrow();
            for (Module other : layer.modules()) {
                if (other != module) {
                    controller.addReads(module, other);
                    controller.addReads(other, module);
                }
            }
        }
        return layer;
    }

    /** The modules of the parent layers an automatic plugin module may read. */
    private Set<String> readable(boolean trusted) {
        var names = new TreeSet<String>();
        collectReadable(parent, trusted, names);
        return names;
    }

    private void collectReadable(ModuleLayer layer, boolean trusted, Set<String> into) {
        for (Module m : layer.modules()) {
            String name = m.getName();
            if (engine.isFreelyReadable(name) || trusted && RestrictedJdkModules.isJdk(name)) {
                into.add(name);
            }
        }
        layer.parents().forEach(p -> collectReadable(p, trusted, into));
    }

    /** The packages modules {@code names} of the parent layers export to everyone. */
    private Set<String> exportedBy(Set<String> names) {
        var packages = new HashSet<String>();
        for (String name : names) {
            parent.findModule(name).ifPresent(m -> m.getDescriptor().exports().stream()
                    .filter(e -> !e.isQualified())
                    .forEach(e -> packages.add(e.source())));
        }
        // java.base is read without being required.
        Object.class.getModule().getDescriptor().exports().stream()
                .filter(e -> !e.isQualified())
                .forEach(e -> packages.add(e.source()));
        return packages;
    }

    /** A finder over a fixed set of module references. */
    private record Fixed(Map<String, ModuleReference> modules) implements ModuleFinder {
        Fixed {
            modules = Map.copyOf(modules);
        }

        @Override
        public Optional<ModuleReference> find(String name) {
            return Optional.ofNullable(modules.get(name));
        }

        @Override
        public Set<ModuleReference> findAll() {
            return new HashSet<>(modules.values());
        }
    }
}
