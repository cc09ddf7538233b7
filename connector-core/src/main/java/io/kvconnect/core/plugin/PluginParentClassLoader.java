package io.kvconnect.core.plugin;

/**
 * The parent class loader of every plugin layer. It delegates to the platform class loader, which
 * in the JDK also finds classes of the application's named modules by package; this loader stops
 * that for the packages an untrusted plugin may not use (the engine's, its private libraries',
 * the restricted JDK modules'), so {@code Class.forName("io.kvconnect.core...")}, {@code
 * Class.forName("com.fasterxml.jackson...")} or {@code Class.forName("sun.misc.Unsafe")} fails
 * inside a plugin. Classes of modules a plugin module reads never reach this loader: the layer's
 * own loader serves them, which is how a trusted module that requires {@code jdk.unsupported}
 * still gets {@code sun.misc.Unsafe}.
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
            throw new ClassNotFoundException(name + " is not available to plugins: it belongs to the engine, a "
                    + "library the engine uses privately or a JDK module only trusted plugins may read");
        }
        return super.loadClass(name, resolve);
    }
}
