package io.kvconnect.nixl.transport;

import java.io.IOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A UCX producer's staging memory for one reader, as the producer described it when the reader
 * attached (the last step of the handshake): its UCX worker address and the registered regions
 * that hold slots {@code 0 .. slots - 1}, each slot one block of the block size both sides agreed
 * on. The reader parses it once ({@link #parse}), checks it against what it asked for, and from then
 * on computes every remote address and length of its gets from these regions only: a later answer
 * that describes anything else is refused ({@link #matches}) before any get. Immutable (the arrays
 * are never written after parsing); used by the reader's thread.
 *
 * <p>The description's form (big-endian): generation (8 bytes), slot bytes (8), region count (4),
 * then per region its first slot (4), slots (4), base address (8), remote key length (4) and remote
 * key. The attach answer is the worker address's length (4), the address, then the description.
 *
 * @param workerAddress the producer's UCX worker address, to open the endpoint to
 * @param description the description's bytes exactly as sent, which every staged answer repeats
 * @param slotBytes bytes of one slot
 * @param slots the slots described, as many as the reader asked for
 * @param regions the regions, in slot order, covering the slots without gap or overlap
 */
record StagedMemory(byte[] workerAddress, byte[] description, long slotBytes, int slots, List<Region> regions) {
    /** Largest remote key accepted (UCX's packed keys are a few hundred bytes). */
    static final int MAX_KEY_BYTES = 4096;

    /**
     * A registered run of slots.
     *
     * @param firstSlot its first slot
     * @param slots how many slots it holds
     * @param address the producer's base address of its first slot
     * @param key the packed remote key
     */
    record Region(int firstSlot, int slots, long address, byte[] key) {
        /** Whether {@code [from, from + length)} lies inside this region. */
        boolean contains(long from, long length, long slotBytes) {
            long end = address + slots * slotBytes;
            return length > 0 && from >= address && from <= end - length;
        }
    }

    StagedMemory {
        regions = List.copyOf(regions);
    }

    /**
     * Parses and checks an attach answer: exactly {@code expectedSlots} slots of {@code
     * expectedSlotBytes} bytes (what the reader asked for and the block size of the handshake),
     * regions in order from slot 0 without gap or overlap, base addresses whose regions do not
     * wrap around, remote keys of 1 to {@value #MAX_KEY_BYTES} bytes, nothing left over.
     *
     * @throws IOException naming the first thing that does not hold
     */
    static StagedMemory parse(byte[] answer, int expectedSlots, long expectedSlotBytes) throws IOException {
        try {
            ByteBuffer b = ByteBuffer.wrap(answer);
            int addressLength = b.getInt();
            if (addressLength <= 0 || addressLength > b.remaining()) {
                throw new IOException("a UCX worker address of " + addressLength + " bytes");
            }
            byte[] address = new byte[addressLength];
            b.get(address);
            byte[] description = Arrays.copyOfRange(answer, b.position(), answer.length);
            b.getLong(); // the generation: compared as part of the description bytes
            long slotBytes = b.getLong();
            if (slotBytes != expectedSlotBytes) {
                throw new IOException(
                        "slots of " + slotBytes + " bytes; the handshake agreed on blocks of " + expectedSlotBytes);
            }
            int count = b.getInt();
            if (count <= 0 || count > expectedSlots) {
                throw new IOException(count + " regions for " + expectedSlots + " slots");
            }
            List<Region> regions = new ArrayList<>(count);
            int next = 0;
            for (int i = 0; i < count; i++) {
                int first = b.getInt();
                int n = b.getInt();
                long base = b.getLong();
                int keyLength = b.getInt();
                if (first != next || n <= 0 || n > expectedSlots - next) {
                    throw new IOException("region " + i + " holds slots " + first + " to " + ((long) first + n - 1)
                            + "; expected slots from " + next + " up to " + (expectedSlots - 1));
                }
                // A user-space address, and the region's end must not wrap around.
                long length = Math.multiplyExact((long) n, slotBytes);
                if (base <= 0 || length <= 0 || base > Long.MAX_VALUE - length) {
                    throw new IOException(
                            "region " + i + " at address " + Long.toUnsignedString(base) + " of " + length + " bytes");
                }
                if (keyLength <= 0 || keyLength > MAX_KEY_BYTES || keyLength > b.remaining()) {
                    throw new IOException("region " + i + " has a remote key of " + keyLength + " bytes");
                }
                byte[] key = new byte[keyLength];
                b.get(key);
                regions.add(new Region(first, n, base, key));
                next = first + n;
            }
            if (next != expectedSlots) {
                throw new IOException("the regions hold " + next + " slots; " + expectedSlots + " were asked for");
            }
            if (b.hasRemaining()) {
                throw new IOException(b.remaining() + " bytes after the last region");
            }
            return new StagedMemory(address, description, slotBytes, expectedSlots, regions);
        } catch (BufferUnderflowException e) {
            throw new IOException("the description ends early", e);
        } catch (ArithmeticException e) {
            throw new IOException("a region's length overflows", e);
        }
    }

    /** Whether a staged answer describes exactly this memory (and nothing else). */
    boolean matches(byte[] staged) {
        return Arrays.equals(description, staged);
    }

    /** The region holding {@code slot}. */
    Region regionOf(int slot) {
        for (Region r : regions) {
            if (slot >= r.firstSlot() && slot < r.firstSlot() + r.slots()) {
                return r;
            }
        }
        throw new IndexOutOfBoundsException("slot " + slot + " of " + slots);
    }
}
