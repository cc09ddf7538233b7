package io.kvconnect.disk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.kvconnect.testkit.KitEngine;
import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.nio.file.attribute.UserPrincipalNotFoundException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tier's folders are private to the engine's user: a block file that another user could
 * write would be loaded as KV (the checksums catch accidents, not a forger), and one another user
 * could read gives away other users' prompts. A new tier is made private; a tier folder that
 * another user may write or owns is refused at start with what to change.
 */
class DiskFolderPrivacyTest {
    @TempDir
    Path temp;

    private Path root;

    @BeforeEach
    void posixOnly() {
        assumeTrue(
                temp.getFileSystem().supportedFileAttributeViews().contains("posix"),
                "the file system has no POSIX permissions");
        root = temp.resolve("tier");
    }

    @Test
    void aNewTierIsReadableAndWritableByTheEngineUserOnly() throws Exception {
        start("first");
        List<Path> folders = new ArrayList<>();
        folders.add(root);
        try (Stream<Path> all = Files.walk(root)) {
            all.filter(Files::isDirectory).forEach(folders::add);
        }
        assertTrue(folders.size() >= 4, "root, namespace and two rank folders: " + folders);
        for (Path folder : folders) {
            assertEquals("rwx------", mode(folder), folder.toString());
        }
    }

    @Test
    void aNamespaceFolderTheGroupMayWriteIsRefused() throws Exception {
        start("first");
        Path namespace = namespaceFolder();
        Files.setPosixFilePermissions(namespace, PosixFilePermissions.fromString("rwxrwx---"));

        String refused = refusal("second");

        assertTrue(refused.contains(namespace + " may be written by group"), refused);
        assertTrue(refused.contains("chmod go-w"), refused);
    }

    @Test
    void aRootEveryUserMayWriteIsRefused() throws Exception {
        Files.createDirectories(root);
        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxrwxrwx"));

        String refused = refusal("first");

        assertTrue(refused.contains(root + " may be written by every user"), refused);
        try (Stream<Path> inside = Files.list(root)) {
            assertEquals(0, inside.count(), "nothing was created in the refused root");
        }
    }

    @Test
    void aNamespaceFolderThatIsALinkIsRefused() throws Exception {
        start("first");
        Path namespace = namespaceFolder();
        Path elsewhere = Files.move(namespace, temp.resolve("elsewhere"));
        Files.createSymbolicLink(namespace, elsewhere);

        String refused = refusal("second");

        assertTrue(refused.contains(namespace + " is not a folder"), refused);
    }

    @Test
    void aNamespaceFolderOfAnotherUserIsRefused() throws Exception {
        start("first");
        Path namespace = namespaceFolder();
        UserPrincipal other;
        try {
            other = temp.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("nobody");
            Files.setOwner(namespace, other);
        } catch (UserPrincipalNotFoundException | FileSystemException e) {
            assumeTrue(false, "cannot give a folder to user nobody here (needs root): " + e);
            return;
        }

        String refused = refusal("second");

        assertTrue(refused.contains(namespace + " belongs to nobody"), refused);
    }

    @Test
    void aWorkerRefusesARankFolderInAFolderTheGroupMayWrite() throws Exception {
        Path namespace = Files.createDirectories(root.resolve("ns"));
        Files.setPosixFilePermissions(namespace, PosixFilePermissions.fromString("rwxrwxr-x"));
        StoreSettings settings = new StoreSettings(namespace.resolve("rank0"), 1, 0, 4096, false, false);

        IOException refused = assertThrows(IOException.class, () -> DirectoryBlockStore.open(settings));

        assertTrue(refused.getMessage().contains(namespace + " may be written by group"), refused.getMessage());
        assertTrue(Files.notExists(namespace.resolve("rank0")), "no rank folder was made in it");
    }

    private void start(String engineId) throws Exception {
        KitEngine.create(Optional.of(new DiskConnectorProvider()), config(), KitEngine.Options.defaults(engineId))
                .close();
    }

    /** Starts an engine that must be refused; returns every message of the refusal's cause chain. */
    private String refusal(String engineId) {
        RuntimeException refused = assertThrows(RuntimeException.class, () -> start(engineId));
        StringBuilder messages = new StringBuilder();
        for (Throwable t = refused; t != null; t = t.getCause()) {
            messages.append(t.getMessage()).append(" | ");
        }
        return messages.toString();
    }

    private Map<String, Object> config() {
        return Map.of("directory", root.toString(), "capacity", "64MiB");
    }

    private Path namespaceFolder() throws IOException {
        try (Stream<Path> inside = Files.list(root)) {
            List<Path> folders = inside.filter(Files::isDirectory).toList();
            assertEquals(1, folders.size(), folders.toString());
            return folders.getFirst();
        }
    }

    private static String mode(Path folder) throws IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(folder, LinkOption.NOFOLLOW_LINKS));
    }
}
