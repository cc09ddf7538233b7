package io.kvconnect.disk;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.util.Set;

/**
 * Keeps the tier's folders out of other users' reach on a POSIX file system.
 *
 * <p><b>Why.</b> A load puts whatever block file it finds under the block's name into the KV cache.
 * The header and checksums catch accidents (a torn write, another namespace, flipped bits), but a
 * checksum is no signature: anyone who can write a file there can give a later request another
 * prompt's KV, and the model computes on it without noticing. Anyone who can read the files reads
 * the KV of other users' prompts, from which the prompts can largely be recovered. So the tier's
 * own folders (the namespace folder and each rank's folder) are created readable and writable by
 * the engine's user only, and an existing one is refused if another user owns it or anybody else
 * may write it; the tier's root {@code directory} is refused if anybody else may write it, because
 * whoever can write a folder can rename the folders in it and put their own in their place.
 *
 * <p>A root writable by others with the sticky bit (such as {@code /tmp} itself) is refused too,
 * although that bit keeps others from renaming our folders: Java does not read it, and a folder
 * of the tier's own in it is the better place anyway. File systems without POSIX permissions pass
 * unchecked (their own access lists decide). Processes of the engine's own user are trusted, as
 * everywhere in the engine.
 *
 * <p>Stateless; any thread.
 */
final class PrivateFolder {
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rwx------");

    private PrivateFolder() {}

    /** A folder of the tier that other users may write, or that is not the engine user's own. */
    static final class NotPrivateException extends IOException {
        private static final long serialVersionUID = 1L;

        NotPrivateException(String message) {
            super(message);
        }
    }

    /**
     * Creates {@code folder} (and missing parents) readable and writable by this process's user
     * only, or checks an existing one: it must be a folder (not a link), owned by this user, that
     * nobody else may write.
     *
     * @throws NotPrivateException if it is not private; the message says what to change
     * @throws IOException if it cannot be created or read
     */
    static void ensure(Path folder) throws IOException {
        if (!posix(folder)) {
            Files.createDirectories(folder);
            return;
        }
        FileAttribute<Set<PosixFilePermission>> ownerOnly = PosixFilePermissions.asFileAttribute(OWNER_ONLY);
        Files.createDirectories(folder, ownerOnly);
        PosixFileAttributes attributes = Files.getFileAttributeView(
                        folder, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
                .readAttributes();
        if (!attributes.isDirectory()) {
            throw new NotPrivateException(
                    folder + " is not a folder (a link or a file is there); the tier's folders must be"
                            + " folders the engine made");
        }
        UserPrincipal me = currentUser(folder, ownerOnly);
        if (!attributes.owner().equals(me)) {
            throw new NotPrivateException(
                    folder + " belongs to " + attributes.owner().getName() + ", not to " + me.getName()
                            + ", the engine's user: another user could put KV blocks there; remove it or give it to "
                            + me.getName());
        }
        String others = othersMayWrite(attributes);
        if (others != null) {
            throw new NotPrivateException(folder + " may be written by " + others + " (" + mode(attributes)
                    + "): another user could put KV blocks there; chmod go-w it");
        }
    }

    /**
     * Checks the tier's root folder: nobody but its owner may write it (see the class comment).
     * Missing is fine: {@link #ensure} creates it private.
     *
     * @throws NotPrivateException if others may write it, with what to change
     * @throws IOException if its permissions cannot be read
     */
    static void checkRoot(Path root) throws IOException {
        if (!posix(root) || !Files.isDirectory(root)) {
            return;
        }
        PosixFileAttributes attributes = Files.readAttributes(root, PosixFileAttributes.class);
        String others = othersMayWrite(attributes);
        if (others != null) {
            throw new NotPrivateException(root + " may be written by " + others + " (" + mode(attributes)
                    + "): another user could replace the tier's folders in it; use a folder only the"
                    + " engine's user may write (for example a new folder in it) or chmod go-w it");
        }
    }

    private static boolean posix(Path path) {
        return path.getFileSystem().supportedFileAttributeViews().contains("posix");
    }

    /** {@return who besides the owner may write, or null if nobody} */
    private static String othersMayWrite(PosixFileAttributes attributes) {
        Set<PosixFilePermission> p = attributes.permissions();
        if (p.contains(PosixFilePermission.OTHERS_WRITE)) {
            return "every user";
        }
        return p.contains(PosixFilePermission.GROUP_WRITE)
                ? "group " + attributes.group().getName()
                : null;
    }

    private static String mode(PosixFileAttributes attributes) {
        return PosixFilePermissions.toString(attributes.permissions());
    }

    /**
     * This process's user, as the file system names it: the owner of a file this process creates
     * in {@code folder}. The JDK has no portable call for it, and the {@code user.name} property
     * need not name a user the file system knows (a container's numeric user).
     */
    private static UserPrincipal currentUser(Path folder, FileAttribute<Set<PosixFilePermission>> ownerOnly)
            throws IOException {
        Path probe;
        try {
            probe = Files.createTempFile(folder, ".owner-", ".probe", ownerOnly);
        } catch (IOException e) {
            throw new IOException("cannot write in " + folder + " (" + e + ")", e);
        }
        try {
            return Files.getOwner(probe, LinkOption.NOFOLLOW_LINKS);
        } finally {
            Files.deleteIfExists(probe);
        }
    }
}
