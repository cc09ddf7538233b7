package io.kvconnect.redis;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real {@code redis-server} for a test: on a free loopback port, in its own temporary directory,
 * without persistence, stopped (and its directory deleted) by {@link #close()}. Tests that need
 * one call {@link #assumeInstalled()} first, so that a machine without Redis skips them with the
 * reason in the report.
 */
final class RedisServer implements AutoCloseable {
    static final String BINARY = "redis-server";
    static final String CLI = "redis-cli";

    private final Path dir;
    private final int port;
    private final List<String> extra;
    private Process process;

    private RedisServer(Path dir, int port, List<String> extra) {
        this.dir = dir;
        this.port = port;
        this.extra = List.copyOf(extra);
    }

    /** Skips the calling test when {@code redis-server} is not on the path. */
    static void assumeInstalled() {
        assumeTrue(
                onPath(BINARY) && onPath(CLI),
                "redis-server and redis-cli are not installed (Debian: apt-get install redis-server); "
                        + "scripts/ci.sh installs them");
    }

    static boolean onPath(String name) {
        String path = System.getenv("PATH");
        return path != null
                && Stream.of(path.split(java.io.File.pathSeparator))
                        .anyMatch(d -> Files.isExecutable(Path.of(d, name)));
    }

    /** Starts a server with {@code args} added to its command line (such as {@code --requirepass x}). */
    static RedisServer start(String... args) throws IOException, InterruptedException {
        return start(freePort(), List.of(args));
    }

    static RedisServer start(int port, List<String> args) throws IOException, InterruptedException {
        RedisServer s = new RedisServer(Files.createTempDirectory("kvc-redis-"), port, args);
        try {
            s.launch();
        } catch (IOException | InterruptedException | RuntimeException e) {
            s.close(); // a server that did not start leaves no process and no directory
            throw e;
        }
        return s;
    }

    int port() {
        return port;
    }

    String address() {
        return "127.0.0.1:" + port;
    }

    Path dir() {
        return dir;
    }

    /** The server's process (to pause it with SIGSTOP). */
    long pid() {
        return process.pid();
    }

    private void launch() throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(
                BINARY,
                "--port",
                String.valueOf(port),
                "--bind",
                "127.0.0.1",
                "--dir",
                dir.toString(),
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
                "--logfile",
                dir.resolve("redis.log").toString()));
        cmd.addAll(extra);
        process = new ProcessBuilder(cmd)
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("stdout.log").toFile())
                .start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!listening()) {
            if (!process.isAlive() || System.nanoTime() > deadline) {
                throw new IOException("redis-server did not start on port " + port + ": " + log());
            }
            Thread.sleep(20);
        }
    }

    /** Whether something accepts connections on the port (the TLS port when TLS only). */
    boolean listening() {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            return s.isConnected();
        } catch (IOException e) {
            return false;
        }
    }

    /** Kills the server (SIGKILL: nothing saved, like a crash). */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    /** Starts the server again on the same port, empty (no persistence). */
    void restart() throws IOException, InterruptedException {
        if (process.isAlive()) {
            kill();
        }
        launch();
    }

    /** Pauses ({@code STOP}) or resumes ({@code CONT}) the process. */
    void signal(String signal) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("kill", "-" + signal, String.valueOf(pid())).start();
        if (p.waitFor() != 0) {
            throw new IOException("kill -" + signal + " failed");
        }
    }

    /** Runs {@code redis-cli} against this server; returns its output. */
    String cli(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(CLI, "-h", "127.0.0.1", "-p", String.valueOf(port)));
        cmd.addAll(List.of(args));
        return run(cmd);
    }

    static String run(List<String> cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException(String.join(" ", cmd) + " failed: " + out);
        }
        return out.strip();
    }

    String log() throws IOException {
        Path log = dir.resolve("redis.log");
        return Files.exists(log) ? Files.readString(log) : "(no log)";
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    @Override
    public void close() throws IOException {
        if (process != null && process.isAlive()) {
            try {
                signal("CONT"); // a paused server ignores SIGTERM
            } catch (IOException e) {
                // Killed below anyway.
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            process.destroy();
            try {
                if (!process.waitFor(5, TimeUnit.SECONDS)) {
                    kill();
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
