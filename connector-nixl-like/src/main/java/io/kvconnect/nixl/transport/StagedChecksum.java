package io.kvconnect.nixl.transport;

import io.kvconnect.api.worker.HostBlockBuffer;
import java.util.zip.CRC32C;

/**
 * The checksum of a UCX read's staged blocks: CRC32C over slots {@code 0 .. n - 1} of a buffer, in
 * slot order. The producer computes it over its staging memory once the blocks are copied in and
 * their messages sent, while the reader takes them, and sends it in a {@code CHECKSUM} frame right
 * after the {@code STAGED} answer; the reader computes it again over what it received and refuses
 * the read if the two differ.
 *
 * <p>Only for a reader that asked for it when it attached ({@link ConnectOptions#verifyReads()},
 * the connector's {@code verify_reads}, on by default); otherwise no {@code CHECKSUM} frame is
 * sent and neither side computes anything.
 *
 * <p>Why: a message is read out of the producer's memory when UCX moves it, not when the producer
 * posted it. If that memory is freed or rewritten in between (the producer's connection closed,
 * or the producer shut down, while a read's messages were in flight), the message still delivers
 * whatever the memory holds then: a block that is partly another allocation's bytes, silently. The checksum turns that into a failed read, which the reader
 * reports as a load failure. It protects against accidents, not against a producer that lies: such
 * a producer can compute the checksum of whatever it sends.
 *
 * <p>Stateless; any thread. CRC32C runs on the processor's CRC instructions (several GB/s a core).
 */
final class StagedChecksum {
    /** Bytes of a {@code CHECKSUM} frame's payload. */
    static final int BYTES = 4;

    private StagedChecksum() {}

    /** CRC32C of slots {@code 0 .. slots - 1} of {@code buffer}, each slot's bytes in order. */
    static int of(HostBlockBuffer buffer, int slots) {
        var crc = new CRC32C();
        update(crc, buffer, 0, slots);
        return value(crc);
    }

    /**
     * Adds slots {@code from .. to - 1} of {@code buffer} to {@code crc}, each slot's bytes in
     * order: for a checksum computed piece by piece, slots in order across calls.
     */
    static void update(CRC32C crc, HostBlockBuffer buffer, int from, int to) {
        for (int i = from; i < to; i++) {
            // A direct view: CRC32C reads native memory in place.
            crc.update(buffer.slot(i).asByteBuffer());
        }
    }

    /** The checksum {@code crc} holds, as it travels in a {@code CHECKSUM} frame. */
    static int value(CRC32C crc) {
        return (int) crc.getValue();
    }
}
