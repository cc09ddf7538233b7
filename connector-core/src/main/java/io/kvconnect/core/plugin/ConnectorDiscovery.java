package io.kvconnect.core.plugin;

import io.kvconnect.api.ConnectorProvider;
import io.kvconnect.api.common.ConfigException;
import io.kvconnect.core.exec.BoundedCall;
import io.kvconnect.core.sched.ContainedThrowable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.module.FindException;
import java.lang.module.ModuleFinder;
import java.lang.module.ResolutionException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds connector providers on the module path, on the class path and in a plugins directory, and
 * builds the {@link ConnectorRegistry}.
 *
 * <p>Order is deterministic: the engine's own module and class path first (by module, then class
 * name), then the plugins directory by file name. A plugin that cannot be used is recorded as a
 * {@link PluginProblem}, for the caller to report once, and discovery goes on with the others. A
 * name provided more than once is refused altogether, naming every source, so the engine never
 * picks one silently.
 *
 * <p>Called on the main thread at start-up; not thread-safe.
 */
public final class ConnectorDiscovery {
    /** How long a provider's constructor (and its name, version, description) may take. */
    static final java.time.Duration PROVIDER_BOUND = java.time.Duration.ofSeconds(10);

    private static final Logger LOG = LoggerFactory.getLogger(ConnectorDiscovery.class);

    private final java.time.Duration providerBound;

    private ConnectorDiscovery(java.time.Duration providerBound) {
        this.providerBound = providerBound;
    }

    private static final String UNNAMED = "(unnamed)";

    private final List<DiscoveredConnector> found = new ArrayList<>();
    private final List<PluginProblem> problems = new ArrayList<>();

    /**
     * Discovers every connector, trusting no plugin of the plugins directory (tests): {@code
     * pluginsDirectory} as if set by {@code --plugins-dir}, so it must exist.
     */
    static ConnectorRegistry discover(Path pluginsDirectory) {
        return discover(pluginsDirectory, Set.of());
    }

    /** As {@link #discover(PluginsDirectory, Set)}, {@code pluginsDirectory} as if set by --plugins-dir (tests). */
    static ConnectorRegistry discover(Path pluginsDirectory, Set<String> trustedPlugins) {
        return discover(PluginsDirectory.setBy("--plugins-dir", pluginsDirectory), trustedPlugins, PROVIDER_BOUND);
    }

    /**
     * Discovers every connector. Refused plugins are not logged: they are in the registry's {@link
     * ConnectorRegistry#problems()}, for the caller to report once.
     *
     * @param pluginsDirectory the plugins directory; one that was set must exist, the default may be
     *     absent (then it holds no plugins)
     * @param trustedPlugins the module names of the plugins that may use the restricted JDK modules
     *     ({@code sun.misc.Unsafe} and the like, see {@code RestrictedJdkModules}): the engine
     *     configuration's {@code trusted_plugins}; a plugin module not named here that would use
     *     one is refused
     * @throws ConfigException naming the setting and the absolute path, if a plugins directory that
     *     was set does not exist or is not a directory
     */
    public static ConnectorRegistry discover(PluginsDirectory pluginsDirectory, Set<String> trustedPlugins) {
        return discover(pluginsDirectory, trustedPlugins, PROVIDER_BOUND);
    }

    /** As {@link #discover(PluginsDirectory, Set)}, with another bound on each provider's loading (tests). */
    static ConnectorRegistry discover(Path pluginsDirectory, Set<String> trustedPlugins, java.time.Duration bound) {
        return discover(PluginsDirectory.setBy("--plugins-dir", pluginsDirectory), trustedPlugins, bound);
    }

    private static ConnectorRegistry discover(
            PluginsDirectory directory, Set<String> trustedPlugins, java.time.Duration bound) {
        String searched = "the module path, the class path and the " + directory.describe() + checkExists(directory);
        var discovery = new ConnectorDiscovery(bound);
        discovery.loadBuiltIn();
        discovery.loadPluginsDirectory(directory.path(), new TrustedPlugins(trustedPlugins));
        return discovery.registry(searched);
    }

    /**
     * Refuses a directory that was set but is missing or no directory; says so of the default.
     *
     * @return what to add to the directory's description in an unknown connector's message
     */
    private static String checkExists(PluginsDirectory directory) {
        Path path = directory.path();
        if (Files.isDirectory(path)) {
            return "";
        }
        String state = Files.exists(path) ? "is not a directory" : "does not exist";
        if (directory.isDefault()) {
            return ", which " + state + " (plugins_dir in the configuration or --plugins-dir names another)";
        }
        throw new ConfigException(
                directory.setting().orElseThrow(),
                "plugins directory " + directory.absolute() + " " + state
                        + "; name the directory that holds the plugin jars and folders");
    }

    private void loadBuiltIn() {
        ServiceLoader<ConnectorProvider> loader =
                ServiceLoader.load(ConnectorProvider.class, ConnectorDiscovery.class.getClassLoader());
        var providers = new ArrayList<ServiceLoader.Provider<ConnectorProvider>>();
        try {
            loader.stream().forEach(providers::add);
        } catch (ServiceConfigurationError e) {
            problem("module path / class path", "a connector provider could not be located: " + e.getMessage());
        }
        providers.sort(Comparator.comparing((ServiceLoader.Provider<ConnectorProvider> p) -> moduleName(p.type()))
                .thenComparing(p -> p.type().getName()));
        for (var p : providers) {
            Class<?> type = p.type();
            boolean named = type.getModule().isNamed();
            instantiate(
                    p,
                    named ? ConnectorOrigin.MODULE_PATH : ConnectorOrigin.CLASS_PATH,
                    moduleName(type),
                    location(type));
        }
    }

    private void loadPluginsDirectory(Path directory, TrustedPlugins trusted) {
        if (!Files.isDirectory(directory)) {
            LOG.debug("No plugins directory at {}", directory);
            warnUnused(trusted, Set.of(), directory);
            return;
        }
        List<PluginUnit> units = units(directory);
        if (units.isEmpty()) {
            // Nothing to load, on the module path or the class path alike.
            warnUnused(trusted, Set.of(), directory);
            return;
        }
        ModuleLayer apiLayer = ConnectorProvider.class.getModule().getLayer();
        if (apiLayer == null) {
            problem(
                    directory.toString(),
                    "the plugins directory needs the engine on the module path, but "
                            + "kvconnect.api was loaded from the class path; start the engine with ./kvconnect");
            return;
        }
        var engine = new EnginePackages(apiLayer);
        var layers = new PluginLayerFactory(engine);
        var pluginModules = new HashSet<String>();
        for (PluginUnit unit : units) {
            loadUnit(unit, engine, layers, trusted, pluginModules);
        }
        warnUnused(trusted, pluginModules, directory);
    }

    /** A trusted name that matches no plugin module is most likely misspelt. */
    private static void warnUnused(TrustedPlugins trusted, Set<String> pluginModules, Path directory) {
        for (String name : new TreeSet<>(trusted.modules())) {
            if (!pluginModules.contains(name)) {
                LOG.warn(
                        "{} names module {}, but no plugin in {} has a module of that name",
                        TrustedPlugins.CONFIG_KEY,
                        name,
                        directory);
            }
        }
    }

    private void loadUnit(
            PluginUnit unit,
            EnginePackages engine,
            PluginLayerFactory layers,
            TrustedPlugins trusted,
            Set<String> pluginModules) {
        String where = unit.location().toString();
        if (unit.jars().isEmpty()) {
            problem(
                    where,
                    "the folder holds no jar; a plugin folder holds the plugin jar and its private dependencies");
            return;
        }
        ModuleLayer layer;
        try {
            ModuleFinder modules = ModuleFinder.of(unit.jars().toArray(Path[]::new));
            modules.findAll().forEach(ref -> pluginModules.add(ref.descriptor().name()));
            PluginInspection inspection = PluginInspector.inspect(unit.jars(), modules, engine);
            if (!inspection.engineReferences().isEmpty()) {
                problem(
                        where,
                        "refused: the plugin references "
                                + (inspection.referencesEngineInternals()
                                        ? "engine internals (io.kvconnect.core.*), which plugins may not use; depend on kvconnect.api only"
                                        : "libraries the engine uses privately; bundle your own copy in the plugin's folder")
                                + ". References: " + String.join(", ", inspection.engineReferences()));
                return;
            }
            Optional<String> untrusted = trusted.refusal(modules, inspection, engine);
            if (untrusted.isPresent()) {
                problem(where, "refused: " + untrusted.get());
                return;
            }
            if (inspection.declaredProviders().isEmpty()) {
                String hint = inspection.providerClasses().isEmpty()
                        ? "it has no class implementing io.kvconnect.api.ConnectorProvider"
                        : "it has " + inspection.providerClasses() + " but declares none of them";
                problem(
                        where,
                        "refused: the plugin declares no connector provider (" + hint + "); add 'provides "
                                + "io.kvconnect.api.ConnectorProvider with ...' to module-info.java and list the class in "
                                + "META-INF/services/io.kvconnect.api.ConnectorProvider");
                return;
            }
            layer = layers.define(modules, inspection, trusted);
        } catch (PluginRefusedException e) {
            problem(where, "refused: " + e.getMessage());
            return;
        } catch (FindException | ResolutionException | LayerInstantiationException e) {
            problem(where, "its modules cannot be loaded: " + e.getMessage());
            return;
        }
        var providers = new ArrayList<ServiceLoader.Provider<ConnectorProvider>>();
        try {
            ServiceLoader.load(layer, ConnectorProvider.class).stream()
                    .filter(p -> p.type().getModule().getLayer() == layer)
                    .forEach(providers::add);
        } catch (ServiceConfigurationError e) {
            problem(where, "a connector provider could not be located: " + e.getMessage());
            return;
        }
        providers.sort(Comparator.comparing(p -> p.type().getName()));
        for (var p : providers) {
            instantiate(p, ConnectorOrigin.PLUGINS_DIRECTORY, moduleName(p.type()), where);
        }
    }

    /**
     * Instantiates a provider and asks it its name, version and description, on a thread of its
     * own for a bounded time ({@link #PROVIDER_BOUND}): a provider whose constructor throws anything or
     * hangs is refused (reported once, naming it), and the other plugins still load.
     */
    private void instantiate(
            ServiceLoader.Provider<ConnectorProvider> p, ConnectorOrigin origin, String module, String location) {
        String type = p.type().getName();
        try {
            found.add(BoundedCall.call(
                    type,
                    "its provider's constructor",
                    providerBound,
                    () -> DiscoveredConnector.of(p.get(), origin, module, location)));
        } catch (BoundedCall.PluginCallException e) {
            Throwable cause = e.getCause();
            if (cause instanceof ServiceConfigurationError sce) {
                Throwable root = sce.getCause() != null ? sce.getCause() : sce;
                problem(location, "provider " + type + " failed while loading: " + ContainedThrowable.of(root));
            } else if (cause instanceof IllegalStateException ise) {
                // DiscoveredConnector.of's refusals always have a message; a bare one names the exception.
                problem(location, Objects.requireNonNullElse(ise.getMessage(), ise.toString()));
            } else if (cause instanceof java.util.concurrent.TimeoutException) {
                problem(
                        location,
                        "provider " + type + " did not finish loading within " + providerBound.toMillis()
                                + " ms (its constructor or name() hangs); refused");
            } else {
                problem(
                        location,
                        "provider " + type + " failed while loading: "
                                + (cause == null ? null : ContainedThrowable.of(cause)));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            problem(location, "interrupted while loading provider " + type);
        }
    }

    private ConnectorRegistry registry(String searched) {
        var byName = new LinkedHashMap<String, List<DiscoveredConnector>>();
        for (DiscoveredConnector c : found) {
            byName.computeIfAbsent(c.name(), n -> new ArrayList<>()).add(c);
        }
        Map<String, DiscoveredConnector> unique = new LinkedHashMap<>();
        byName.forEach((name, list) -> {
            if (list.size() == 1) {
                unique.put(name, list.getFirst());
            } else {
                String locations = list.stream()
                        .map(DiscoveredConnector::location)
                        .distinct()
                        .toList()
                        .toString();
                problem(new PluginProblem(
                        locations,
                        "connector name '" + name + "' is provided more than once, by "
                                + String.join(
                                        " and by ",
                                        list.stream()
                                                .map(DiscoveredConnector::source)
                                                .toList())
                                + "; the name is refused until only one of them remains",
                        Optional.of(name)));
            }
        });
        return new ConnectorRegistry(unique, problems, searched);
    }

    private void problem(String location, String message) {
        problem(new PluginProblem(location, message));
    }

    /** Records a refused plugin; not logged above debug, since the caller reports each once. */
    private void problem(PluginProblem p) {
        LOG.debug("Plugin refused: {}", p);
        problems.add(p);
    }

    private static List<PluginUnit> units(Path directory) {
        try (Stream<Path> entries = Files.list(directory)) {
            var units = new ArrayList<PluginUnit>();
            for (Path entry : entries.sorted().toList()) {
                String fileName = entry.getFileName().toString();
                if (fileName.startsWith(".")) {
                    continue;
                }
                if (Files.isDirectory(entry)) {
                    units.add(new PluginUnit(entry, jarsIn(entry)));
                } else if (fileName.endsWith(".jar")) {
                    units.add(new PluginUnit(entry, List.of(entry)));
                } else {
                    LOG.debug("Ignoring {} in the plugins directory: neither a jar nor a folder", entry);
                }
            }
            return units;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list plugins directory " + directory, e);
        }
    }

    private static List<Path> jarsIn(Path folder) throws IOException {
        try (Stream<Path> files = Files.list(folder)) {
            return files.filter(f -> f.getFileName().toString().endsWith(".jar") && Files.isRegularFile(f))
                    .sorted()
                    .toList();
        }
    }

    private static String moduleName(Class<?> type) {
        return type.getModule().isNamed() ? type.getModule().getName() : UNNAMED;
    }

    private static String location(Class<?> type) {
        Module module = type.getModule();
        if (module.isNamed() && module.getLayer() != null) {
            return module.getLayer()
                    .configuration()
                    .findModule(module.getName())
                    .flatMap(m -> m.reference().location())
                    .map(uri -> "file".equals(uri.getScheme()) ? Path.of(uri).toString() : uri.toString())
                    .orElse(module.getName());
        }
        var source = type.getProtectionDomain().getCodeSource();
        return source == null ? type.getName() : source.getLocation().toString();
    }
}
