package io.kvconnect.nixl.protocol;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Arrays;

/**
 * The mutual authentication and compatibility check that opens every connection between a reader
 * (consumer worker) and a producer worker, on both backends. Called by the reader's thread ({@link
 * #asReader}) and by the producer's connection thread ({@link #asProducer}); stateless.
 *
 * <p><b>Messages.</b> {@code Ns} and {@code Nc} are 32 random bytes drawn by the producer and by
 * the reader; {@code Fp} and {@code Fr} the producer's and the reader's {@link Compat} fields; MACs
 * are the {@link SharedSecret}'s, each under a label of its own:
 * <ol>
 *   <li>{@code CHALLENGE} (producer): the protocol version (1 byte) and {@code Ns}.
 *   <li>{@code HELLO} (reader): {@code Nc} and {@code MAC("reader hello", Ns, Nc)}.
 *   <li>{@code PROOF} (producer, only after checking the hello): {@code MAC("producer proof", Ns,
 *       Nc, Fp)} and {@code Fp}.
 *   <li>{@code FIELDS} (reader, only after checking the proof): {@code MAC("reader fields", Ns, Nc,
 *       Fp, Fr)} and {@code Fr}.
 *   <li>{@code OK} (producer): {@code MAC("accept", Ns, Nc, Fp, Fr)}; or {@code ERROR} naming the
 *       differing field.
 * </ol>
 *
 * <p><b>What this gives.</b> Before a side proved the secret, the other sends it nothing but a
 * random nonce (and the version): no engine id, no model shape. Each side checks the other's MAC
 * (in constant time) before it reads a field the other sent, so a producer that cannot prove the
 * secret is never read from, and a reader that cannot is never served. Every MAC covers both
 * nonces, and the later ones both sides' fields: a recorded message is worthless on another
 * connection (its nonces differ) and fields altered on the way fail the MAC. Frames before
 * authentication have fixed sizes, and every handshake frame at most {@value #MAX_FRAME} bytes,
 * checked on the header before anything is allocated for it.
 *
 * <p><b>Not given.</b> Nothing is encrypted, and frames after the handshake carry no MAC: a party
 * on the network path, or one a reader was made to connect to that relays to the real producer,
 * sees the traffic and can alter it. See the module's security notes.
 */
public final class Handshake {
    /**
     * The version the challenge carries; part of {@link Compat#PROTOCOL} too. 3: read requests
     * name runs of blocks ({@link ReadRequest}) instead of single blocks. 4: a reader announces
     * the transfers it finished in batches ({@link Frames#DONE_BATCH}). 5: a UCX reader may ask for a
     * checksum of each read's staged blocks ({@link Frames#CHECKSUM}). 6: UCX moves blocks in
     * tagged messages the producer sends to the reader's worker, not in gets the reader issues.
     */
    public static final byte VERSION = 6;

    public static final int NONCE_BYTES = 32;
    public static final int CHALLENGE_BYTES = 1 + NONCE_BYTES;
    static final int HELLO_BYTES = NONCE_BYTES + SharedSecret.MAC_BYTES;
    /** Largest handshake frame either side reads. */
    static final int MAX_FRAME = 4096;

    public static final String READER_HELLO = "kvconnect nixl-like/2 reader hello";
    public static final String PRODUCER_PROOF = "kvconnect nixl-like/2 producer proof";
    static final String READER_FIELDS = "kvconnect nixl-like/2 reader fields";
    static final String ACCEPT = "kvconnect nixl-like/2 accept";

    private static final SecureRandom RANDOM = new SecureRandom();

    private Handshake() {}

    /** How a producer's side of a handshake ended, short of an I/O error. */
    public sealed interface Outcome permits Accepted, Refused {}

    /**
     * Both sides proved the secret and are compatible. The caller sends the confirmation ({@link
     * #confirm}) once it took the connection on, so a reader told it is accepted is never closed
     * as a pending one.
     *
     * @param remote the reader's fields
     * @param confirmation the producer's MAC over the whole handshake, the payload of its {@code OK}
     */
    public record Accepted(Compat remote, byte[] confirmation) implements Outcome {}

    /**
     * The producer refuses the reader. The caller counts the refusal, then sends {@code answer}
     * ({@link #tell}), so a reader that saw the answer finds the refusal counted.
     *
     * @param counter the stats counter of this kind of refusal
     * @param reason why, for the log
     * @param answer what to tell the reader, or null to close without a word
     */
    public record Refused(String counter, String reason, String answer) implements Outcome {}

    /**
     * The reader's side: proves the secret, checks the producer's proof before anything else it
     * sent, compares the fields. Every wait ends by {@code deadlineNanos}.
     *
     * @param where {@code host:port}, for messages
     * @return the producer's fields
     * @throws TransferException with kind {@code HANDSHAKE} if the producer does not prove the
     *     secret, refuses, is incompatible or speaks another protocol
     * @throws IOException if the connection fails or the deadline passes
     */
    public static Compat asReader(Wire wire, Compat local, SharedSecret secret, long deadlineNanos, String where)
            throws IOException, TransferException {
        Wire.Header h = wire.readHeader(Wire.millisLeft(deadlineNanos));
        if (h.type() == Frames.ERROR) {
            throw refusedBy(wire, h, deadlineNanos, "handshake with " + where + " refused: ");
        }
        if (h.type() != Frames.CHALLENGE || h.length() != CHALLENGE_BYTES) {
            throw new TransferException(
                    TransferException.Kind.HANDSHAKE,
                    where + " sent no nixl-like/" + VERSION
                            + " challenge (message type " + h.type() + " of " + h.length()
                            + " bytes): it is not a prefill "
                            + "engine's worker, or it runs another kvconnect version; run the same version on both engines");
        }
        byte[] challenge = wire.readPayload(h, CHALLENGE_BYTES, Wire.millisLeft(deadlineNanos));
        if (challenge[0] != VERSION) {
            throw new TransferException(
                    TransferException.Kind.HANDSHAKE,
                    where + " speaks nixl-like handshake "
                            + "version " + challenge[0] + ", this engine " + VERSION
                            + "; run the same kvconnect version on "
                            + "both engines");
        }
        byte[] ns = Arrays.copyOfRange(challenge, 1, CHALLENGE_BYTES);
        byte[] nc = nonce();
        wire.writeFrame(
                Frames.HELLO, Frames.concat(nc, secret.mac(READER_HELLO, ns, nc)), Wire.millisLeft(deadlineNanos));

        h = wire.readHeader(Wire.millisLeft(deadlineNanos));
        if (h.type() == Frames.ERROR) {
            throw refusedBy(wire, h, deadlineNanos, "handshake with " + where + " refused: ");
        }
        if (h.type() != Frames.PROOF || h.length() <= SharedSecret.MAC_BYTES || h.length() > MAX_FRAME) {
            throw new TransferException(
                    TransferException.Kind.HANDSHAKE,
                    where + " answered the hello with message " + "type " + h.type() + " of " + h.length()
                            + " bytes instead of a proof of the shared secret");
        }
        byte[] proof = wire.readPayload(h, MAX_FRAME, Wire.millisLeft(deadlineNanos));
        byte[] theirs = Arrays.copyOfRange(proof, SharedSecret.MAC_BYTES, proof.length);
        if (!secret.verify(Arrays.copyOf(proof, SharedSecret.MAC_BYTES), PRODUCER_PROOF, ns, nc, theirs)) {
            // Checked before a byte of its fields is looked at: an impostor is never believed.
            throw new TransferException(
                    TransferException.Kind.HANDSHAKE,
                    where + " did not prove the shared "
                            + "secret: it has another 'secret', or it is not a prefill engine's worker; nothing is read from "
                            + "it. Configure the same 'secret' on both engines");
        }
        Compat remote = decode(theirs, where);
        byte[] mine = local.encode().getBytes(StandardCharsets.UTF_8);
        wire.writeFrame(
                Frames.FIELDS,
                Frames.concat(secret.mac(READER_FIELDS, ns, nc, theirs, mine), mine),
                Wire.millisLeft(deadlineNanos));

        h = wire.readHeader(Wire.millisLeft(deadlineNanos));
        byte[] answer = wire.readPayload(h, MAX_FRAME, Wire.millisLeft(deadlineNanos));
        var problem = local.mismatch(remote);
        if (problem.isPresent()) {
            throw new TransferException(
                    TransferException.Kind.HANDSHAKE, "handshake with " + where + " failed: " + problem.get());
        }
        if (h.type() == Frames.ERROR) {
            throw new TransferException(
                    TransferException.Kind.HANDSHAKE,
                    "handshake with " + where + " refused: " + Frames.errorMessage(answer));
        }
        if (h.type() != Frames.OK || !secret.verify(answer, ACCEPT, ns, nc, theirs, mine)) {
            throw new TransferException(
                    TransferException.Kind.HANDSHAKE,
                    where + " did not confirm the handshake " + "with a valid MAC (message type " + h.type()
                            + "); nothing is read from it");
        }
        return remote;
    }

    /**
     * The producer's side: checks the reader's proof before it sends anything but its challenge,
     * proves itself, checks and compares the reader's fields. Every wait ends by {@code
     * deadlineNanos}. A frame of the wrong type or size is refused on its header, before anything
     * is allocated for it. The outcome is returned before the reader hears it: the caller confirms
     * an acceptance ({@link #confirm}) or tells a refusal ({@link #tell}).
     *
     * @throws IOException if the connection fails or the deadline passes
     */
    public static Outcome asProducer(Wire wire, Compat local, SharedSecret secret, long deadlineNanos)
            throws IOException {
        byte[] ns = nonce();
        wire.writeFrame(Frames.CHALLENGE, Frames.concat(new byte[] {VERSION}, ns), Wire.millisLeft(deadlineNanos));

        Wire.Header h = wire.readHeader(Wire.millisLeft(deadlineNanos));
        if (h.type() != Frames.HELLO || h.length() != HELLO_BYTES) {
            String what = "message type " + h.type() + " of " + h.length() + " bytes instead of a nixl-like/" + VERSION
                    + " hello";
            return new Refused(
                    "handshakes_refused_frame",
                    "sent " + what,
                    "sent " + what + "; run the same " + "kvconnect version on both engines");
        }
        byte[] hello = wire.readPayload(h, HELLO_BYTES, Wire.millisLeft(deadlineNanos));
        byte[] nc = Arrays.copyOf(hello, NONCE_BYTES);
        if (!secret.verify(Arrays.copyOfRange(hello, NONCE_BYTES, HELLO_BYTES), READER_HELLO, ns, nc)) {
            return new Refused(
                    "handshakes_refused_secret",
                    "the shared secret does not match",
                    "the shared secret " + "does not match; configure the same 'secret' on both engines");
        }
        byte[] mine = local.encode().getBytes(StandardCharsets.UTF_8);
        wire.writeFrame(
                Frames.PROOF,
                Frames.concat(secret.mac(PRODUCER_PROOF, ns, nc, mine), mine),
                Wire.millisLeft(deadlineNanos));

        h = wire.readHeader(Wire.millisLeft(deadlineNanos));
        if (h.type() != Frames.FIELDS || h.length() <= SharedSecret.MAC_BYTES || h.length() > MAX_FRAME) {
            return new Refused(
                    "handshakes_refused_frame",
                    "sent message type " + h.type() + " of " + h.length() + " bytes instead of its fields",
                    null);
        }
        byte[] fields = wire.readPayload(h, MAX_FRAME, Wire.millisLeft(deadlineNanos));
        byte[] theirs = Arrays.copyOfRange(fields, SharedSecret.MAC_BYTES, fields.length);
        if (!secret.verify(Arrays.copyOf(fields, SharedSecret.MAC_BYTES), READER_FIELDS, ns, nc, mine, theirs)) {
            return new Refused(
                    "handshakes_refused_secret",
                    "its fields carry no valid MAC (altered on the way?)",
                    "your fields arrived with a MAC that does not match them: is something between the engines "
                            + "rewriting traffic?");
        }
        Compat remote;
        try {
            remote = Compat.decode(new String(theirs, StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
            return new Refused("handshakes_refused_frame", "sent malformed fields: " + e.getMessage(), null);
        }
        var problem = local.mismatch(remote);
        if (problem.isPresent()) {
            return new Refused(
                    "handshakes_refused_incompatible",
                    "reader " + remote.engineId() + ": " + problem.get(),
                    problem.get());
        }
        return new Accepted(remote, secret.mac(ACCEPT, ns, nc, mine, theirs));
    }

    /** Completes an accepted handshake: the {@code OK} with the producer's MAC over all of it. */
    public static void confirm(Wire wire, Accepted accepted, long deadlineNanos) throws IOException {
        wire.writeFrame(Frames.OK, accepted.confirmation(), Wire.millisLeft(deadlineNanos));
    }

    private static byte[] nonce() {
        byte[] n = new byte[NONCE_BYTES];
        RANDOM.nextBytes(n);
        return n;
    }

    private static Compat decode(byte[] fields, String where) throws TransferException {
        try {
            return Compat.decode(new String(fields, StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
            throw new TransferException(
                    TransferException.Kind.HANDSHAKE, where + " sent malformed fields: " + e.getMessage());
        }
    }

    /** The producer's {@code ERROR} frame as a handshake failure, its message bounded. */
    private static TransferException refusedBy(Wire wire, Wire.Header h, long deadlineNanos, String prefix)
            throws IOException {
        byte[] payload = wire.readPayload(h, MAX_FRAME, Wire.millisLeft(deadlineNanos));
        return new TransferException(TransferException.Kind.HANDSHAKE, prefix + Frames.errorMessage(payload));
    }

    /** Tells the reader why it is refused; a reader that does not listen does not matter. */
    public static void tell(Wire wire, String message, long deadlineNanos) {
        try {
            wire.writeFrame(
                    Frames.ERROR,
                    Frames.errorPayload(TransferException.Kind.HANDSHAKE, message),
                    Wire.millisLeft(deadlineNanos));
        } catch (IOException e) {
            // The connection is closed next anyway.
        }
    }
}
