package io.kvconnect.core.plugin;

/**
 * The parent class loader of every plugin layer. It delegates to the platform class loader, which
 * in the JDK also finds classes of the application's named modules by package; this loader stops
 * that for the engine's packages, so {@code Class.forName("io.kvconnect.core...")} fails inside a
 * plugin instead of handing out a class it could not use anyway. The API and SLF4J never reach
 * this loader: the layer's own loader serves the modules a plugin reads.
 */
final class PluginParentClassLoader extends ClassLoader {
    static {
        registerAsParallelCapable();
    }

    private final EnginePackages engine;

    PluginParentClassLoader(EnginePackages engine) {
        super("kvconnect-plugin-parent", ClassLoader.getPlatformClassLoader());
        this.engine = engine;
    }

    @Override
    protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
        int dot = name.lastIndexOf('.');
        if (dot > 0 && engine.isForbidden(name.substring(0, dot))) {
            throw new ClassNotFoundException(name + " belongs to the engine, which plugins cannot use");
        }
        return super.loadClass(name, resolve);
    }
}
