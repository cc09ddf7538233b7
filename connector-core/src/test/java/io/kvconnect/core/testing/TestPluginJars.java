package io.kvconnect.core.testing;

import io.kvconnect.api.ConnectorProvider;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaFileObject;
import javax.tools.ToolProvider;

/**
 * Builds real plugin jars for tests: compiles Java sources with the JDK's compiler against the
 * connector API (as a third-party author would) and packs them with their resources. Shared by the
 * tests of every package of the engine module.
 */
public final class TestPluginJars {
    /** An empty builder; add sources and resources, then {@link #writeTo}. */
    public TestPluginJars() {}

    private final Map<String, String> sources = new LinkedHashMap<>();
    private final Map<String, String> resources = new LinkedHashMap<>();
    private final Map<String, byte[]> binaries = new LinkedHashMap<>();
    private final List<Path> extraModulePath = new ArrayList<>();
    private final List<Path> classPath = new ArrayList<>();

    /** Adds a source file at {@code path} (for example {@code "com/x/P.java"} or {@code "module-info.java"}). */
    public TestPluginJars source(String path, String text) {
        sources.put(path, text);
        return this;
    }

    /** Adds a resource, such as a {@code META-INF/services} file. */
    public TestPluginJars resource(String path, String text) {
        resources.put(path, text);
        return this;
    }

    /** Adds a file with the given bytes, such as a class file no compiler would write. */
    public TestPluginJars binary(String path, byte[] bytes) {
        binaries.put(path, bytes.clone());
        return this;
    }

    /** Declares {@code providerClass} in {@code META-INF/services}. */
    public TestPluginJars service(String providerClass) {
        return resource("META-INF/services/" + ConnectorProvider.class.getName(), providerClass + "\n");
    }

    /** Puts a jar or folder on the compiler's module path besides the API. */
    public TestPluginJars modulePath(Path path) {
        extraModulePath.add(path);
        return this;
    }

    /** Puts a jar or folder on the compiler's class path. */
    public TestPluginJars classPath(Path path) {
        classPath.add(path);
        return this;
    }

    /** Compiles and writes the jar to {@code jar}; returns it. */
    public Path writeTo(Path jar) {
        try {
            Path work = Files.createTempDirectory("kvconnect-test-plugin-");
            Path src = work.resolve("src");
            Path classes = work.resolve("classes");
            Files.createDirectories(classes);
            var files = new ArrayList<Path>();
            for (var e : sources.entrySet()) {
                Path file = src.resolve(e.getKey());
                Files.createDirectories(file.getParent() == null ? src : file.getParent());
                Files.writeString(file, e.getValue());
                files.add(file);
            }
            compile(files, classes);
            for (var e : resources.entrySet()) {
                Path file = classes.resolve(e.getKey());
                Files.createDirectories(file.getParent());
                Files.writeString(file, e.getValue());
            }
            for (var e : binaries.entrySet()) {
                Path file = classes.resolve(e.getKey());
                Files.createDirectories(file.getParent());
                Files.write(file, e.getValue());
            }
            pack(classes, jar);
            deleteRecursively(work);
            return jar;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void compile(List<Path> files, Path classes) {
        var compiler = ToolProvider.getSystemJavaCompiler();
        var diagnostics = new DiagnosticCollector<JavaFileObject>();
        try (var fileManager = compiler.getStandardFileManager(diagnostics, null, StandardCharsets.UTF_8)) {
            var options = new ArrayList<>(List.of("-proc:none", "-d", classes.toString()));
            var modulePath = new ArrayList<Path>();
            modulePath.add(locationOf(ConnectorProvider.class));
            modulePath.addAll(extraModulePath);
            options.addAll(List.of("--module-path", join(modulePath)));
            if (!classPath.isEmpty()) {
                options.addAll(List.of("--class-path", join(classPath)));
            }
            if (sources.keySet().stream().noneMatch(s -> s.endsWith("module-info.java"))) {
                // A plain (automatic-module) jar still compiles against the API.
                options.addAll(List.of("--add-modules", "kvconnect.api"));
            }
            var units = fileManager.getJavaFileObjectsFromPaths(files);
            boolean ok = compiler.getTask(null, fileManager, diagnostics, options, null, units)
                    .call();
            if (!ok) {
                throw new IllegalStateException("test plugin does not compile: " + diagnostics.getDiagnostics());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void deleteRecursively(Path root) throws IOException {
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    private static String join(List<Path> paths) {
        return String.join(
                java.io.File.pathSeparator, paths.stream().map(Path::toString).toList());
    }

    private static void pack(Path classes, Path jar) throws IOException {
        try (OutputStream out = Files.newOutputStream(jar);
                var jarOut = new JarOutputStream(out);
                Stream<Path> walk = Files.walk(classes)) {
            for (Path file : walk.filter(Files::isRegularFile).sorted().toList()) {
                jarOut.putNextEntry(
                        new JarEntry(classes.relativize(file).toString().replace('\\', '/')));
                jarOut.write(Files.readAllBytes(file));
                jarOut.closeEntry();
            }
        }
    }

    /** The jar or class folder {@code type} was loaded from. */
    public static Path locationOf(Class<?> type) {
        Module module = type.getModule();
        if (module.isNamed() && module.getLayer() != null) {
            URI uri = module.getLayer()
                    .configuration()
                    .findModule(module.getName())
                    .orElseThrow()
                    .reference()
                    .location()
                    .orElseThrow();
            return Path.of(uri);
        }
        try {
            return Path.of(
                    type.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Source of a provider class {@code pkg.simpleName} registered as {@code name}. Its scheduler
     * side accepts one configuration key, {@code capacity}, an integer in [1, 10], so tests can see
     * a connector's own configuration errors reach the operator with their path.
     */
    public static String provider(
            String pkg, String simpleName, String name, String constructorBody, String description) {
        return """
                package %1$s;

                import io.kvconnect.api.ConnectorProvider;
                import io.kvconnect.api.SchedulerContext;
                import io.kvconnect.api.WorkerContext;
                import io.kvconnect.api.common.ConnectorConfig;
                import io.kvconnect.api.common.ConnectorMetadata;
                import io.kvconnect.api.common.BlockIds;
                import io.kvconnect.api.scheduler.MatchResult;
                import io.kvconnect.api.scheduler.RequestView;
                import io.kvconnect.api.scheduler.SchedulerConnector;
                import io.kvconnect.api.scheduler.SchedulerOutputView;
                import io.kvconnect.api.worker.BlockCopyService;
                import io.kvconnect.api.worker.WorkerStepReport;
                import io.kvconnect.api.worker.KvLayout;
                import io.kvconnect.api.worker.WorkerConnector;
                import java.util.Set;

                public final class %2$s implements ConnectorProvider {
                    public %2$s() { %4$s }
                    @Override public String name() { return "%3$s"; }
                    @Override public String version() { return "1.0"; }
                    @Override public String description() { %5$s }
                    @Override public SchedulerConnector createSchedulerConnector(ConnectorConfig c, SchedulerContext x) {
                        c.requireOnlyKeys("capacity");
                        c.getLong("capacity", 1, 1, 10);
                        return new SchedulerConnector() {
                            @Override public MatchResult getNumNewMatchedTokens(RequestView r, int local) { return MatchResult.none(); }
                            @Override public void updateStateAfterAlloc(RequestView r, BlockIds b, int hit, int ext) { }
                            @Override public ConnectorMetadata buildConnectorMetadata(SchedulerOutputView o) { return ConnectorMetadata.NONE; }
                        };
                    }
                    @Override public WorkerConnector createWorkerConnector(ConnectorConfig c, WorkerContext x) {
                        return new WorkerConnector() {
                            @Override public void registerKvCaches(KvLayout l, BlockCopyService s) { }
                            @Override public void bindConnectorMetadata(ConnectorMetadata m) { }
                            @Override public void startLoadKv() { }
                            @Override public WorkerStepReport reportStep(Set<String> ids) { return WorkerStepReport.EMPTY; }
                        };
                    }
                }
                """.formatted(pkg, simpleName, name, constructorBody, description);
    }

    /** A well-formed explicit-module plugin providing connector {@code name}. */
    public static TestPluginJars goodModule(String module, String pkg, String name) {
        return new TestPluginJars()
                .source(
                        "module-info.java",
                        "module %s { requires kvconnect.api; provides io.kvconnect.api.ConnectorProvider with %s.Provider; }"
                                .formatted(module, pkg))
                .source(
                        pkg.replace('.', '/') + "/Provider.java",
                        provider(pkg, "Provider", name, "", "return \"test connector " + name + "\";"))
                .service(pkg + ".Provider");
    }
}
