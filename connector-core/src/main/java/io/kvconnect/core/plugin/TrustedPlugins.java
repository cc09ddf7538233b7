package io.kvconnect.core.plugin;

import io.kvconnect.core.plugin.PluginInspection.RestrictedReference;
import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleFinder;
import java.lang.module.ModuleReference;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * The plugin modules the engine configuration trusts ({@value #CONFIG_KEY}): only they may use the
 * {@linkplain RestrictedJdkModules restricted JDK modules}. Trust is given per module name, never
 * to a whole folder, and never gives native access: the JVM grants that only to the modules named
 * in the engine JVM's options, and no plugin layer is among them.
 *
 * @param modules the trusted module names
 */
record TrustedPlugins(Set<String> modules) {
    /** The engine configuration key that lists trusted plugin modules. */
    static final String CONFIG_KEY = "trusted_plugins";

    TrustedPlugins {
        modules = Set.copyOf(modules);
    }

    /** Whether plugin module {@code module} is trusted. */
    boolean trusts(String module) {
        return modules.contains(module);
    }

    /**
     * Why a plugin must be refused because an untrusted module of it would use a restricted JDK
     * module, by {@code requires} (directly or through {@code requires transitive}) or, as an
     * automatic module does, by referencing its classes; empty when nothing untrusted would.
     *
     * @param finder the plugin's modules
     * @param inspection what the plugin's classes reference
     * @param engine what plugins may use of the engine's layer
     */
    Optional<String> refusal(ModuleFinder finder, PluginInspection inspection, EnginePackages engine) {
        var uses = new TreeMap<String, List<String>>(); // untrusted plugin module -> what it would use
        var seen = new HashSet<String>(); // "module jdkModule", so each is reported once
        for (ModuleReference ref : finder.findAll()) {
            String module = ref.descriptor().name();
            if (trusts(module)) {
                continue;
            }
            for (ModuleDescriptor.Requires requires : ref.descriptor().requires()) {
                for (String jdk : engine.restrictedThrough(requires.name())) {
                    if (seen.add(module + " " + jdk)) {
                        String how = requires.name().equals(jdk)
                                ? "requires " + jdk
                                : "requires " + requires.name() + ", which gives it " + jdk;
                        uses.computeIfAbsent(module, m -> new ArrayList<>())
                                .add(how + " (" + RestrictedJdkModules.power(jdk) + ")");
                    }
                }
            }
        }
        for (RestrictedReference r : inspection.restrictedReferences()) {
            if (!trusts(r.pluginModule()) && seen.add(r.pluginModule() + " " + r.jdkModule())) {
                uses.computeIfAbsent(r.pluginModule(), m -> new ArrayList<>())
                        .add("uses " + r.jdkModule() + " (" + RestrictedJdkModules.power(r.jdkModule()) + ") in "
                                + r.reference());
            }
        }
        if (uses.isEmpty()) {
            return Optional.empty();
        }
        var message = new StringBuilder("it uses JDK modules that only trusted plugins may use: ");
        List<String> perModule = new ArrayList<>();
        for (Map.Entry<String, List<String>> e : uses.entrySet()) {
            perModule.add("module " + e.getKey() + " " + String.join(" and ", e.getValue()));
        }
        message.append(String.join("; ", perModule))
                .append(". To trust it, list the module in the engine " + "configuration's ")
                .append(CONFIG_KEY)
                .append(": \"")
                .append(CONFIG_KEY)
                .append("\": [")
                .append(String.join(
                        ", ", uses.keySet().stream().map(m -> "\"" + m + "\"").toList()))
                .append("]");
        return Optional.of(message.toString());
    }
}
