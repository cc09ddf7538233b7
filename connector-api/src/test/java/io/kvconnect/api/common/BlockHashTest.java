package io.kvconnect.api.common;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class BlockHashTest {
    private static final BlockHash HASH =
            new BlockHash(0x0102030405060708L, 0x1112131415161718L, 0x2122232425262728L, 0xF1F2F3F4F5F6F7F8L);

    @Test
    void bytesRoundTrip() {
        assertEquals(HASH, BlockHash.fromBytes(HASH.toBytes()));
        byte[] bytes = new byte[BlockHash.BYTES];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) (i * 37 + 200);
        }
        assertArrayEquals(bytes, BlockHash.fromBytes(bytes).toBytes());
    }

    @Test
    void bigEndianByteOrder() {
        byte[] b = HASH.toBytes();
        assertEquals(32, b.length);
        assertEquals(0x01, b[0]);
        assertEquals(0x08, b[7]);
        assertEquals(0x11, b[8]);
        assertEquals((byte) 0xF8, b[31]);

        byte[] top = new byte[32];
        top[0] = (byte) 0x80;
        assertEquals(new BlockHash(Long.MIN_VALUE, 0, 0, 0), BlockHash.fromBytes(top));
    }

    @Test
    void toBytesReturnsAFreshArray() {
        byte[] first = HASH.toBytes();
        first[0] = 0;
        assertNotSame(first, HASH.toBytes());
        assertEquals(0x01, HASH.toBytes()[0]);
    }

    @Test
    void toHexIs64LowerCaseDigitsInByteOrder() {
        String hex = HASH.toHex();
        assertEquals(64, hex.length());
        assertEquals("010203040506070811121314151617182122232425262728f1f2f3f4f5f6f7f8", hex);
        assertEquals(64, new BlockHash(0, 0, 0, 1).toHex().length());
        assertEquals("0102030405060708", HASH.toString());
    }

    @Test
    void wrongLengthRejected() {
        assertThrows(IllegalArgumentException.class, () -> BlockHash.fromBytes(new byte[31]));
        assertThrows(IllegalArgumentException.class, () -> BlockHash.fromBytes(new byte[33]));
        assertThrows(IllegalArgumentException.class, () -> BlockHash.fromBytes(new byte[0]));
    }
}
