package io.kvconnect.core.plugin;

import java.nio.file.Path;
import java.util.List;

/**
 * One plugin in the plugins directory: a jar, or a folder whose jars (the plugin and its private
 * dependencies) share one module layer.
 *
 * @param location the jar or folder
 * @param jars the jars, sorted by file name
 */
record PluginUnit(Path location, List<Path> jars) {
    PluginUnit {
        jars = List.copyOf(jars);
    }
}
