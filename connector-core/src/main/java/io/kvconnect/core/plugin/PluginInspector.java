package io.kvconnect.core.plugin;

import io.github.classgraph.ClassGraph;
import io.github.classgraph.ClassInfo;
import io.kvconnect.api.ConnectorProvider;
import io.kvconnect.core.plugin.PluginInspection.RestrictedReference;
import java.io.File;
import java.lang.module.ModuleFinder;
import java.lang.module.ModuleReference;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Reads a plugin's jars with ClassGraph before any of their classes is loaded, to refuse a plugin
 * that depends on the engine (its internals or the libraries it uses privately, which a plugin
 * must bundle itself) or declares no provider, and to find which plugin module references a
 * {@linkplain RestrictedJdkModules restricted JDK module} (for an automatic module, which declares
 * nothing, that is the only way to know). Class files are parsed, not loaded: nothing in the jar
 * runs here.
 *
 * <p>This is the first of three fences. The others act at run time, where code that reaches the
 * engine by reflection or by a class name in a string (which no byte-code scan can see) is stopped:
 * the layer's parent class loader refuses engine packages by name, and the module system refuses
 * access because the engine exports no package.
 */
final class PluginInspector {
    private static final int MAX_REPORTED_REFERENCES = 5;

    private PluginInspector() {}

    /**
     * Inspects the jars of one plugin.
     *
     * @param jars the plugin's jars
     * @param modules a finder over the same jars, shared with the layer factory so that the
     *     descriptors are read once
     * @param engine the packages plugins may not use
     * @throws java.lang.module.FindException if the jars do not form valid modules (the JDK's
     *     message names the jar)
     */
    static PluginInspection inspect(List<Path> jars, ModuleFinder modules, EnginePackages engine) {
        var declared = new TreeSet<String>();
        for (var module : modules.findAll()) {
            module.descriptor().provides().stream()
                    .filter(p -> p.service().equals(ConnectorProvider.class.getName()))
                    .forEach(p -> declared.addAll(p.providers()));
        }
        var implementing = new TreeSet<String>();
        var engineRefs = new TreeSet<String>();
        // plugin module -> restricted JDK module -> its first reference, all sorted
        var restricted = new TreeMap<String, TreeMap<String, String>>();
        Map<Path, String> moduleOfJar = modulesByJar(modules);
        var referencedTypes = new HashMap<String, Set<String>>();
        boolean internals = false;
        try (var scan = new ClassGraph()
                .overrideClasspath(jars)
                .ignoreParentClassLoaders()
                .enableClassInfo()
                .enableExternalClasses()
                .enableInterClassDependencies()
                .scan()) {
            scan.getClassesImplementing(ConnectorProvider.class.getName()).stream()
                    .filter(c -> !c.isAbstract() && !c.isInterface())
                    .map(ClassInfo::getName)
                    .forEach(implementing::add);
            var ownPackages = new HashSet<String>();
            scan.getAllClasses().stream()
                    .filter(c -> !c.isExternalClass())
                    .forEach(c -> ownPackages.add(c.getPackageName()));
            for (ClassInfo from : scan.getAllClasses()) {
                if (from.isExternalClass()) {
                    continue;
                }
                Set<String> referenced =
                        referencedTypes.computeIfAbsent(moduleOf(from, moduleOfJar), m -> new HashSet<>());
                referenced.add(from.getName());
                for (ClassInfo to : from.getClassDependencies()) {
                    referenced.add(to.getName());
                    String pkg = to.getPackageName();
                    if (ownPackages.contains(pkg)) {
                        continue;
                    }
                    var jdkModule = engine.restrictedModuleOf(pkg);
                    if (jdkModule.isPresent()) {
                        restricted
                                .computeIfAbsent(moduleOf(from, moduleOfJar), m -> new TreeMap<>())
                                .merge(
                                        jdkModule.get(),
                                        from.getName() + " -> " + to.getName(),
                                        (a, b) -> a.compareTo(b) <= 0 ? a : b);
                    } else if (engine.isForbidden(pkg)) {
                        engineRefs.add(from.getName() + " -> " + to.getName());
                        internals |= EnginePackages.isEngineInternal(pkg);
                    }
                }
            }
        }
        var restrictedReferences = new ArrayList<RestrictedReference>();
        restricted.forEach((module, byJdkModule) -> byJdkModule.forEach((jdkModule, reference) ->
                restrictedReferences.add(new RestrictedReference(module, jdkModule, reference))));
        return new PluginInspection(
                List.copyOf(implementing),
                List.copyOf(declared),
                engineRefs.stream().limit(MAX_REPORTED_REFERENCES).toList(),
                internals,
                restrictedReferences,
                referencedTypes);
    }

    private static Map<Path, String> modulesByJar(ModuleFinder modules) {
        var byJar = new HashMap<Path, String>();
        for (ModuleReference ref : modules.findAll()) {
            ref.location()
                    .ifPresent(uri -> byJar.put(
                            Path.of(uri).toAbsolutePath().normalize(),
                            ref.descriptor().name()));
        }
        return byJar;
    }

    private static String moduleOf(ClassInfo type, Map<Path, String> moduleOfJar) {
        File jar = type.getClasspathElementFile();
        String module = jar == null
                ? null
                : moduleOfJar.get(jar.toPath().toAbsolutePath().normalize());
        return module == null ? "(unknown)" : module;
    }
}
