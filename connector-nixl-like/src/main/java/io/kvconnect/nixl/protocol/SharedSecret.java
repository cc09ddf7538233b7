package io.kvconnect.nixl.protocol;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The key both engines of a pair derive from the configured {@code secret}: HMAC-SHA256 keyed with
 * the SHA-256 of the secret's UTF-8 bytes. Immutable and thread-safe; its string form never shows
 * the secret, so it is safe in logs and records.
 *
 * <p>Every MAC covers a label (what the MAC proves, so a MAC made for one message of the handshake
 * is never valid for another) and parts, each preceded by its length, so no two different
 * sequences of parts hash alike.
 */
public final class SharedSecret {
    /** Bytes of one MAC. */
    public static final int MAC_BYTES = 32;

    private final SecretKeySpec key;
    private final boolean empty;

    private SharedSecret(String secret) {
        this.key = new SecretKeySpec(sha256(secret.getBytes(StandardCharsets.UTF_8)), "HmacSHA256");
        this.empty = secret.isEmpty();
    }

    /** The key of {@code secret}; the empty string gives a key anyone can compute. */
    public static SharedSecret of(String secret) {
        return new SharedSecret(secret);
    }

    /** Whether the secret is empty: then anyone can compute every MAC. */
    boolean isEmpty() {
        return empty;
    }

    /** HMAC-SHA256 over {@code label} and {@code parts}, each length-prefixed. */
    public byte[] mac(String label, byte[]... parts) {
        Mac mac = newMac();
        update(mac, label.getBytes(StandardCharsets.UTF_8));
        for (byte[] p : parts) {
            update(mac, p);
        }
        return mac.doFinal();
    }

    /** Whether {@code claimed} is the MAC of {@code label} and {@code parts}, compared in constant time. */
    boolean verify(byte[] claimed, String label, byte[]... parts) {
        return MessageDigest.isEqual(claimed, mac(label, parts));
    }

    private Mac newMac() {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(key);
            return mac;
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
        }
    }

    private static void update(Mac mac, byte[] part) {
        mac.update(ByteBuffer.allocate(4).putInt(part.length).array());
        mac.update(part);
    }

    private static byte[] sha256(byte[] bytes) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(bytes);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }

    @Override
    public String toString() {
        return empty ? "SharedSecret[empty]" : "SharedSecret[redacted]";
    }
}
