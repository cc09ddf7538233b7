package io.kvconnect.core.plugin;

/** Where a connector provider was found. */
public enum ConnectorOrigin {
    /** A named module on the engine's module path (the boot layer). */
    MODULE_PATH,
    /** A jar on the class path, through {@code META-INF/services}. */
    CLASS_PATH,
    /** A jar or folder of jars in the plugins directory, in a module layer of its own. */
    PLUGINS_DIRECTORY;

    String label() {
        return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }
}
