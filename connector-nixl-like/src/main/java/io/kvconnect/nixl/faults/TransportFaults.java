package io.kvconnect.nixl.faults;

import io.kvconnect.api.common.ConnectorConfig;
import java.util.Locale;

/**
 * Transport faults to inject, from the connector's optional {@code faults} object: a test and soak
 * aid, off by default, never meant for serving. Rates are per frame crossing a producer worker's
 * connection, in either direction (handshake, read requests, data, notifications, UCX control).
 *
 * <p>Kinds: {@code drop} swallows a frame (the other side never gets its answer and must end by
 * its timeout), {@code truncate} forwards a frame's header and only part of its payload, then
 * closes the connection (end of stream inside a frame), {@code delay} holds a frame back for
 * {@code delay_ms} before forwarding it, {@code kill} closes the connection at a frame boundary
 * (the peer died). See {@link FaultyTransport}.
 *
 * @param drop probability that a frame is dropped, in [0, 1]
 * @param truncate probability that a frame with a payload is cut short, in [0, 1]
 * @param delay probability that a frame is delayed, in [0, 1]
 * @param delayMillis how long a delayed frame is held, 0 to 5 000 ms
 * @param kill probability that the connection is closed before a frame, in [0, 1]
 * @param seed seed of the fault decisions (each connection direction draws from its own split)
 * @param onlyType when in 1 to 127, faults hit only frames of this message type (such as 7, the done
 *     notification) and every other frame passes untouched; 0 (the default): every frame
 */
public record TransportFaults(
        double drop, double truncate, double delay, int delayMillis, double kill, long seed, int onlyType) {
    /** No faults. */
    public static final TransportFaults NONE = new TransportFaults(0, 0, 0, 0, 0, 0, 0);

    /** Every key of the {@code faults} object. */
    static final String[] KEYS = {"drop", "truncate", "delay", "delay_ms", "kill", "seed", "only_type"};

    /** The same rates and seed on every frame type. */
    TransportFaults(double drop, double truncate, double delay, int delayMillis, double kill, long seed) {
        this(drop, truncate, delay, delayMillis, kill, seed, 0);
    }

    /** Whether a frame of {@code type} may be hit. */
    boolean hits(byte type) {
        return onlyType == 0 || onlyType == type;
    }

    /** Whether any fault can happen. */
    public boolean any() {
        return drop > 0 || truncate > 0 || delay > 0 || kill > 0;
    }

    /** Reads {@code faults}; every error names its key and the allowed range. */
    public static TransportFaults parse(ConnectorConfig faults) {
        faults.requireOnlyKeys(KEYS);
        return new TransportFaults(
                faults.getDouble("drop", 0, 0, 1),
                faults.getDouble("truncate", 0, 0, 1),
                faults.getDouble("delay", 0, 0, 1),
                faults.getInt("delay_ms", 5, 0, 5_000),
                faults.getDouble("kill", 0, 0, 1),
                faults.getLong("seed", 1, Long.MIN_VALUE, Long.MAX_VALUE),
                faults.getInt("only_type", 0, 0, 127));
    }

    @Override
    public String toString() {
        return String.format(
                Locale.ROOT,
                "drop=%s,truncate=%s,delay=%s,delay_ms=%d,kill=%s,seed=%d%s",
                drop,
                truncate,
                delay,
                delayMillis,
                kill,
                seed,
                onlyType == 0 ? "" : ",only_type=" + onlyType);
    }
}
