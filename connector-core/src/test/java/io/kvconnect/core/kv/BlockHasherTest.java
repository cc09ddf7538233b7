package io.kvconnect.core.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.kvconnect.api.common.BlockHash;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Chained SHA-256 block hashes with a fixed root. */
class BlockHasherTest {
    private static final int BS = 4;
    private static final Optional<String> NO_SALT = Optional.empty();

    /**
     * The root hash is SHA-256 of the UTF-8 bytes of {@code "kvconnect:block-hash-root:v1"}. It is
     * part of the wire format (hashes are shared across processes and machines), so changing it
     * must be a deliberate, visible change of this test.
     */
    @Test
    void noneIsAFixedConstant() {
        assertEquals("0e6834d23bb4b030b1c7e82f9fde1fa394e26ae57316050f0562722c47124f0c", BlockHasher.NONE.toHex());
        assertEquals(
                BlockHash.fromBytes(sha256("kvconnect:block-hash-root:v1".getBytes(StandardCharsets.UTF_8))),
                BlockHasher.NONE);
    }

    /** The documented layout: SHA-256(parent or NONE, tokens as 4-byte big-endian ints, salt marker). */
    @Test
    void hashFollowsTheDocumentedLayout() {
        int[] tokens = {1, -2, 0x01020304, Integer.MAX_VALUE, 7, 8, 9, 10};
        BlockHasher hasher = new BlockHasher(BS);

        BlockHash h0 = hasher.hash(null, tokens, 0, NO_SALT);
        BlockHash h1 = hasher.hash(h0, tokens, BS, NO_SALT);
        BlockHash salted = hasher.hash(null, tokens, 0, Optional.of("sälz"));

        assertEquals(reference(BlockHasher.NONE, tokens, 0, null), h0);
        assertEquals(reference(h0, tokens, BS, null), h1);
        assertEquals(reference(BlockHasher.NONE, tokens, 0, "sälz"), salted);
    }

    @Test
    void hashesAreDeterministicAcrossInstancesAndCalls() {
        int[] tokens = TestRequests.range(100, 3 * BS);
        List<BlockHash> first = chain(new BlockHasher(BS), tokens, NO_SALT);
        BlockHasher reused = new BlockHasher(BS);
        List<BlockHash> second = chain(reused, tokens, NO_SALT);
        List<BlockHash> third = chain(reused, tokens, NO_SALT);

        assertEquals(first, second);
        assertEquals(first, third);
        assertEquals(3, new HashSet<>(first).size(), "every block of a chain has its own hash");
    }

    @Test
    void blocksWithEqualTokensAtDifferentPositionsDiffer() {
        int[] tokens = new int[3 * BS]; // all zeros: each block has the same tokens
        List<BlockHash> hs = chain(new BlockHasher(BS), tokens, NO_SALT);

        assertEquals(3, new HashSet<>(hs).size());
    }

    @Test
    void aChangeInTheFirstBlockChangesEveryLaterHash() {
        int[] tokens = TestRequests.range(0, 4 * BS);
        int[] changed = tokens.clone();
        changed[BS - 1] = -1;
        BlockHasher hasher = new BlockHasher(BS);

        List<BlockHash> a = chain(hasher, tokens, NO_SALT);
        List<BlockHash> b = chain(hasher, changed, NO_SALT);

        for (int i = 0; i < a.size(); i++) {
            assertNotEquals(a.get(i), b.get(i), "block " + i);
        }
    }

    @Test
    void aChangeInTheSecondBlockKeepsTheFirstHash() {
        int[] tokens = TestRequests.range(0, 3 * BS);
        int[] changed = tokens.clone();
        changed[BS] = 999;
        BlockHasher hasher = new BlockHasher(BS);

        List<BlockHash> a = chain(hasher, tokens, NO_SALT);
        List<BlockHash> b = chain(hasher, changed, NO_SALT);

        assertEquals(a.get(0), b.get(0));
        assertNotEquals(a.get(1), b.get(1));
        assertNotEquals(a.get(2), b.get(2));
    }

    @Test
    void theSaltEntersOnlyTheFirstBlockButSeparatesTheWholeChain() {
        int[] tokens = TestRequests.range(10, 3 * BS);
        BlockHasher hasher = new BlockHasher(BS);
        List<BlockHash> plain = chain(hasher, tokens, NO_SALT);
        List<BlockHash> salted = chain(hasher, tokens, Optional.of("tenant-a"));

        // Directly, the salt is ignored for a block with a parent ...
        assertEquals(
                hasher.hash(plain.get(0), tokens, BS, NO_SALT),
                hasher.hash(plain.get(0), tokens, BS, Optional.of("tenant-a")));
        // ... yet, through the chain, every hash differs.
        for (int i = 0; i < plain.size(); i++) {
            assertNotEquals(plain.get(i), salted.get(i), "block " + i);
        }
    }

    @Test
    void differentSaltsAndNoSaltAllDiffer() {
        int[] tokens = TestRequests.range(10, BS);
        BlockHasher hasher = new BlockHasher(BS);
        List<Optional<String>> salts = List.of(
                NO_SALT,
                Optional.of(""),
                Optional.of("a"),
                Optional.of("b"),
                Optional.of("ab"),
                Optional.of("tenant-a"));
        var seen = new HashSet<BlockHash>();
        for (Optional<String> salt : salts) {
            BlockHash h = hasher.hash(null, tokens, 0, salt);
            assertEquals(h, new BlockHasher(BS).hash(null, tokens, 0, salt), "stable for " + salt);
            seen.add(h);
        }

        assertEquals(salts.size(), seen.size(), "every salt (the empty one included) gives its own hash");
    }

    @Test
    void aBlockIsReadAtItsOffsetOnly() {
        int[] tokens = TestRequests.range(0, 3 * BS);
        int[] shifted = TestRequests.concat(new int[] {42, 43}, tokens);
        BlockHasher hasher = new BlockHasher(BS);

        assertEquals(hasher.hash(null, tokens, BS, NO_SALT), hasher.hash(null, shifted, BS + 2, NO_SALT));
        assertEquals(hasher.hash(null, TestRequests.range(BS, BS), 0, NO_SALT), hasher.hash(null, tokens, BS, NO_SALT));
    }

    @Test
    void blockBoundsAreChecked() {
        BlockHasher hasher = new BlockHasher(BS);
        int[] tokens = TestRequests.range(0, 2 * BS);

        assertThrows(IndexOutOfBoundsException.class, () -> hasher.hash(null, tokens, -1, NO_SALT));
        assertThrows(IndexOutOfBoundsException.class, () -> hasher.hash(null, tokens, BS + 1, NO_SALT));
        assertThrows(IndexOutOfBoundsException.class, () -> hasher.hash(null, tokens, 2 * BS, NO_SALT));
        assertThrows(IndexOutOfBoundsException.class, () -> hasher.hash(null, new int[BS - 1], 0, NO_SALT));
        // from + blockSize overflows int: must still be rejected before anything is hashed.
        assertThrows(IndexOutOfBoundsException.class, () -> hasher.hash(null, tokens, Integer.MAX_VALUE, NO_SALT));
        assertThrows(
                IndexOutOfBoundsException.class, () -> hasher.hash(null, tokens, Integer.MAX_VALUE - BS + 2, NO_SALT));
        // The last full block is fine.
        assertEquals(reference(BlockHasher.NONE, tokens, BS, null), hasher.hash(null, tokens, BS, NO_SALT));
    }

    @Test
    void aRejectedCallLeavesTheHasherUsable() {
        BlockHasher hasher = new BlockHasher(BS);
        int[] tokens = TestRequests.range(0, 2 * BS);
        BlockHash expected = new BlockHasher(BS).hash(null, tokens, 0, NO_SALT);

        for (int from : new int[] {-1, BS + 1, Integer.MAX_VALUE, Integer.MAX_VALUE - 1, Integer.MIN_VALUE}) {
            assertThrows(IndexOutOfBoundsException.class, () -> hasher.hash(null, tokens, from, NO_SALT));
            assertEquals(expected, hasher.hash(null, tokens, 0, NO_SALT), "after from = " + from);
        }
    }

    /** Appending to a chain gives the hashes of {@link BlockHasher#hash}, salt included. */
    @Test
    void appendingToAChainHashesTheSameAsHashingWithTheParent() {
        int[] tokens = TestRequests.range(100, 3 * BS + 2);
        for (Optional<String> salt : List.of(NO_SALT, Optional.of("sälz"))) {
            BlockHasher hasher = new BlockHasher(BS);
            BlockHashChain appended = new BlockHashChain(1); // grows past its first size
            for (int i = 0; i < 3; i++) {
                hasher.appendTo(appended, tokens, salt);
            }

            assertEquals(chain(new BlockHasher(BS), tokens, salt), appended.toList(), "salt " + salt);
            assertEquals(reference(BlockHasher.NONE, tokens, 0, salt.orElse(null)), appended.get(0));
        }
    }

    @Test
    void appendingPastTheTokensIsRefusedAndLeavesTheChainAsItWas() {
        BlockHasher hasher = new BlockHasher(BS);
        int[] tokens = TestRequests.range(0, 2 * BS);
        BlockHashChain chain = new BlockHashChain(4);
        hasher.appendTo(chain, tokens, NO_SALT);
        hasher.appendTo(chain, tokens, NO_SALT);

        assertThrows(IndexOutOfBoundsException.class, () -> hasher.appendTo(chain, tokens, NO_SALT));
        assertEquals(chain(new BlockHasher(BS), tokens, NO_SALT), chain.toList());
        assertEquals(
                hasher.hash(chain.get(1), TestRequests.range(0, 3 * BS), 2 * BS, NO_SALT),
                appendThird(hasher, chain),
                "the hasher is still usable");
    }

    private static BlockHash appendThird(BlockHasher hasher, BlockHashChain chain) {
        hasher.appendTo(chain, TestRequests.range(0, 3 * BS), NO_SALT);
        return chain.get(2);
    }

    @Test
    void theBlockSizeMustBePositive() {
        assertThrows(IllegalArgumentException.class, () -> new BlockHasher(0));
        assertThrows(IllegalArgumentException.class, () -> new BlockHasher(-16));
        assertEquals(16, new BlockHasher(16).blockSize());
    }

    @Test
    void blockSizeIsPartOfTheHash() {
        int[] tokens = TestRequests.range(0, 8);

        assertNotEquals(
                new BlockHasher(4).hash(null, tokens, 0, NO_SALT), new BlockHasher(8).hash(null, tokens, 0, NO_SALT));
    }

    private static List<BlockHash> chain(BlockHasher hasher, int[] tokens, Optional<String> salt) {
        List<BlockHash> out = new ArrayList<>();
        for (int i = 0; (i + 1) * hasher.blockSize() <= tokens.length; i++) {
            out.add(hasher.hash(i == 0 ? null : out.get(i - 1), tokens, i * hasher.blockSize(), salt));
        }
        return out;
    }

    /** An independent implementation of the format the class comment documents. */
    private static BlockHash reference(BlockHash parent, int[] tokens, int from, String salt) {
        var bytes = new ByteArrayOutputStream();
        bytes.writeBytes(parent.toBytes());
        for (int i = from; i < from + BS; i++) {
            int t = tokens[i];
            bytes.writeBytes(new byte[] {(byte) (t >>> 24), (byte) (t >>> 16), (byte) (t >>> 8), (byte) t});
        }
        if (salt == null) {
            bytes.write(0);
        } else {
            byte[] s = salt.getBytes(StandardCharsets.UTF_8);
            bytes.write(1);
            bytes.writeBytes(new byte[] {
                (byte) (s.length >>> 24), (byte) (s.length >>> 16), (byte) (s.length >>> 8), (byte) s.length
            });
            bytes.writeBytes(s);
        }
        return BlockHash.fromBytes(sha256(bytes.toByteArray()));
    }

    private static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }
}
