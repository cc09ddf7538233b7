package io.kvconnect.core.cli;

import io.kvconnect.api.ConnectorProvider;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaFileObject;
import javax.tools.ToolProvider;

/**
 * Compiles a minimal connector plugin (module {@code com.example.<name>}, version "1.0") against
 * the API, for the command-line tests. Its connector reads {@code capacity} from its config as an
 * integer in [1, 10], so a test can check that the connector's own config reaches it with its path.
 */
final class PluginJar {
    private PluginJar() {
    }

    static Path write(Path jar, String name) {
        String pkg = "com.example." + name;
        try {
            Path work = Files.createTempDirectory("kvconnect-cli-plugin-");
            Path src = work.resolve("src");
            Path classes = Files.createDirectories(work.resolve("classes"));
            Path moduleInfo = src.resolve("module-info.java");
            Path provider = src.resolve(pkg.replace('.', '/')).resolve("Provider.java");
            Files.createDirectories(provider.getParent());
            Files.writeString(moduleInfo, ("module %1$s { requires kvconnect.api; "
                    + "provides io.kvconnect.api.ConnectorProvider with %1$s.Provider; }").formatted(pkg));
            Files.writeString(provider, providerSource(pkg, name));
            compile(List.of(moduleInfo, provider), classes);
            Path services = classes.resolve("META-INF/services/" + ConnectorProvider.class.getName());
            Files.createDirectories(services.getParent());
            Files.writeString(services, pkg + ".Provider\n");
            pack(classes, jar);
            try (Stream<Path> walk = Files.walk(work)) {
                for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
            return jar;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void compile(List<Path> files, Path classes) throws IOException {
        var compiler = ToolProvider.getSystemJavaCompiler();
        var diagnostics = new DiagnosticCollector<JavaFileObject>();
        try (var fileManager = compiler.getStandardFileManager(diagnostics, null, StandardCharsets.UTF_8)) {
            var options = List.of("-proc:none", "-d", classes.toString(),
                    "--module-path", apiLocation().toString());
            boolean ok = compiler.getTask(null, fileManager, diagnostics, options, null,
                    fileManager.getJavaFileObjectsFromPaths(files)).call();
            if (!ok) {
                throw new IllegalStateException("test plugin does not compile: " + diagnostics.getDiagnostics());
            }
        }
    }

    private static Path apiLocation() {
        Module api = ConnectorProvider.class.getModule();
        return Path.of(api.getLayer().configuration().findModule(api.getName()).orElseThrow()
                .reference().location().orElseThrow());
    }

    private static void pack(Path classes, Path jar) throws IOException {
        try (OutputStream out = Files.newOutputStream(jar);
             var jarOut = new JarOutputStream(out);
             Stream<Path> walk = Files.walk(classes)) {
            for (Path file : walk.filter(Files::isRegularFile).sorted().toList()) {
                jarOut.putNextEntry(new JarEntry(classes.relativize(file).toString().replace('\\', '/')));
                jarOut.write(Files.readAllBytes(file));
                jarOut.closeEntry();
            }
        }
    }

    private static String providerSource(String pkg, String name) {
        return """
                package %1$s;

                import io.kvconnect.api.ConnectorProvider;
                import io.kvconnect.api.SchedulerContext;
                import io.kvconnect.api.WorkerContext;
                import io.kvconnect.api.common.BlockIds;
                import io.kvconnect.api.common.ConnectorConfig;
                import io.kvconnect.api.common.ConnectorMetadata;
                import io.kvconnect.api.scheduler.MatchResult;
                import io.kvconnect.api.scheduler.RequestView;
                import io.kvconnect.api.scheduler.SchedulerConnector;
                import io.kvconnect.api.scheduler.SchedulerOutputView;
                import io.kvconnect.api.worker.BlockCopyService;
                import io.kvconnect.api.worker.FinishedTransfers;
                import io.kvconnect.api.worker.KvLayout;
                import io.kvconnect.api.worker.WorkerConnector;
                import java.util.Set;

                public final class Provider implements ConnectorProvider {
                    @Override public String name() { return "%2$s"; }
                    @Override public String version() { return "1.0"; }
                    @Override public SchedulerConnector createSchedulerConnector(ConnectorConfig c, SchedulerContext x) {
                        c.requireOnlyKeys("capacity");
                        c.getLong("capacity", 1, 1, 10);
                        return new SchedulerConnector() {
                            @Override public MatchResult getNumNewMatchedTokens(RequestView r, int local) { return MatchResult.none(); }
                            @Override public void updateStateAfterAlloc(RequestView r, BlockIds b, int ext) { }
                            @Override public ConnectorMetadata buildConnectorMetadata(SchedulerOutputView o) { return ConnectorMetadata.NONE; }
                        };
                    }
                    @Override public WorkerConnector createWorkerConnector(ConnectorConfig c, WorkerContext x) {
                        return new WorkerConnector() {
                            @Override public void registerKvCaches(KvLayout l, BlockCopyService s) { }
                            @Override public void bindConnectorMetadata(ConnectorMetadata m) { }
                            @Override public void startLoadKv() { }
                            @Override public FinishedTransfers getFinished(Set<String> ids) { return FinishedTransfers.NONE; }
                        };
                    }
                }
                """.formatted(pkg, name);
    }
}
