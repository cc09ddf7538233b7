package io.kvconnect.redis;

import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.zip.CRC32C;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * What protects a stored value's payload: a CRC-32C, which catches accidents (a torn or flipped
 * value), or, with a {@code value_secret}, an HMAC-SHA256 keyed by it, which also catches a forger.
 *
 * <p><b>Why a MAC.</b> Redis is shared: every client that has its address and credentials can
 * write any key. A value written under a block's key with a correct header and checksum would be
 * loaded into another engine's KV cache, where the model computes on it without noticing: a client
 * that can write to Redis could steer other users' outputs. With a value secret shared by the
 * engines of a deployment only they can make a value the others accept; anyone else can only
 * delete or overwrite values, which costs a miss and a recomputation, never wrong KV.
 *
 * <p><b>Thread.</b> One per worker, used on its thread only (a {@link Mac} is not thread-safe).
 */
final class ValueSeal {
    /** The bytes of a MAC: HMAC-SHA256. */
    static final int MAC_BYTES = 32;

    private final Mac mac;

    private ValueSeal(Mac mac) {
        this.mac = mac;
    }

    /** {@return a seal of CRC-32C checksums only} */
    static ValueSeal checksum() {
        return new ValueSeal(null);
    }

    /** {@return a seal of HMAC-SHA256 under {@code secret}} */
    static ValueSeal hmac(Secret secret) {
        try {
            Mac m = Mac.getInstance("HmacSHA256");
            m.init(new SecretKeySpec(secret.utf8(), "HmacSHA256"));
            return new ValueSeal(m);
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            throw new IllegalStateException("every JDK has HmacSHA256 and takes any key length", e);
        }
    }

    /** Whether values carry a MAC (and a different header) rather than a checksum. */
    boolean signs() {
        return mac != null;
    }

    /** {@return the CRC-32C of {@code bytes[from, from + n)}} */
    static int crc32c(byte[] bytes, int from, int n) {
        CRC32C crc = new CRC32C();
        crc.update(bytes, from, n);
        return (int) crc.getValue();
    }

    /**
     * {@return the MAC of {@code value[0, covered)} followed by {@code value[payloadFrom, value.length)}}
     * Only if {@link #signs()}.
     */
    byte[] mac(byte[] value, int covered, int payloadFrom) {
        mac.update(value, 0, covered);
        mac.update(value, payloadFrom, value.length - payloadFrom);
        return mac.doFinal();
    }

    /** {@return whether {@code expected} equals {@code actual}, in time independent of where they differ} */
    static boolean same(byte[] expected, byte[] actual) {
        return MessageDigest.isEqual(expected, actual);
    }
}
