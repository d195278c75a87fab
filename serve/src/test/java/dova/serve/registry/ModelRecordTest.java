package dova.serve.registry;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The model topic's records: round trip, and every kind of damage refused by name before anything is allocated. */
class ModelRecordTest {
    private static ModelRecord.Published sample() {
        byte[] model = new byte[1000];
        new Random(1).nextBytes(model);
        byte[] ckpt = new byte[300];
        new Random(2).nextBytes(ckpt);
        return new ModelRecord.Published(7, "retrained from v0006 after drift; é", model, "ab12", ckpt);
    }

    @Test
    void bothKindsRoundTrip() throws Exception {
        ModelRecord.Published p = sample();
        ModelRecord.Published back = (ModelRecord.Published) ModelRecord.decode("v0007", ModelRecord.encode(p));
        assertEquals(7, back.number());
        assertEquals(p.note(), back.note());
        assertArrayEquals(p.model(), back.model());
        assertEquals("ab12", back.signature());
        assertArrayEquals(p.checkpoint(), back.checkpoint());
        ModelRecord.Pointer q = (ModelRecord.Pointer) ModelRecord.decode("CURRENT",
                ModelRecord.encode(new ModelRecord.Pointer(12, "replica-1")));
        assertEquals(12, q.number());
        assertEquals("replica-1", q.by());
        ModelRecord.Published bare = new ModelRecord.Published(1, "", new byte[] {1}, "", new byte[0]);
        assertTrue(!((ModelRecord.Published) ModelRecord.decode("v0001", ModelRecord.encode(bare))).hasCheckpoint());
    }

    @Test
    void everyTruncationIsRefused() {
        byte[] whole = ModelRecord.encode(sample());
        for (int n = 0; n < whole.length; n++) {
            byte[] cut = Arrays.copyOf(whole, n);
            ModelRecord.Corrupt e = assertThrows(ModelRecord.Corrupt.class, () -> ModelRecord.decode("v0007", cut),
                    "truncated to " + n + " bytes");
            assertTrue(java.util.Set.of("truncated", "checksum", "format").contains(e.reason()), e.reason());
        }
    }

    @Test
    void everyFlippedByteIsRefused() {
        byte[] whole = ModelRecord.encode(sample());
        for (int i = 0; i < whole.length; i += 7) {
            byte[] bad = whole.clone();
            bad[i] ^= 0x10;
            assertThrows(ModelRecord.Corrupt.class, () -> ModelRecord.decode("v0007", bad), "byte " + i + " flipped");
        }
    }

    @Test
    void aHostileLengthWithAValidChecksumAllocatesNothing() throws Exception {
        // a note that claims 2^31-1 bytes, re-sealed with a correct checksum: refused before any allocation
        ByteBuffer b = ByteBuffer.allocate(8 + 12 + 4 + 32);
        b.put("DOVAMREC".getBytes(StandardCharsets.US_ASCII)).putInt(1).putInt(1).putInt(3).putInt(Integer.MAX_VALUE);
        byte[] body = Arrays.copyOf(b.array(), b.position());
        b.put(MessageDigest.getInstance("SHA-256").digest(body));
        ModelRecord.Corrupt e = assertThrows(ModelRecord.Corrupt.class, () -> ModelRecord.decode("v0003", b.array()));
        assertEquals("truncated", e.reason());
        assertTrue(e.getMessage().contains("note") && e.getMessage().contains("2147483647"), e.getMessage());
        b.putInt(20, -5);
        body = Arrays.copyOf(b.array(), 24);
        byte[] negative = Arrays.copyOf(body, 24 + 32);
        System.arraycopy(MessageDigest.getInstance("SHA-256").digest(body), 0, negative, 24, 32);
        assertEquals("truncated", assertThrows(ModelRecord.Corrupt.class, () -> ModelRecord.decode("v0003", negative)).reason());
    }

    @Test
    void wrongKeysOtherFormatsAndNonsenseAreRefusedByName() {
        byte[] whole = ModelRecord.encode(sample());
        assertEquals("key", assertThrows(ModelRecord.Corrupt.class, () -> ModelRecord.decode("v0008", whole)).reason());
        assertEquals("key", assertThrows(ModelRecord.Corrupt.class, () -> ModelRecord.decode("CURRENT", whole)).reason());
        assertEquals("key", assertThrows(ModelRecord.Corrupt.class, () -> ModelRecord.decode(null, whole)).reason());
        assertEquals("empty", assertThrows(ModelRecord.Corrupt.class, () -> ModelRecord.decode("v0007", null)).reason());
        byte[] text = "{\"version\": 7}                                                  ".getBytes(StandardCharsets.UTF_8);
        assertEquals("format", assertThrows(ModelRecord.Corrupt.class, () -> ModelRecord.decode("v0007", text)).reason());
        assertThrows(IllegalArgumentException.class, () -> new ModelRecord.Pointer(0, "x"));
        assertThrows(IllegalArgumentException.class,
                () -> ModelRecord.encode(new ModelRecord.Published(1, "", new byte[ModelRecord.MAX_BYTES], "", new byte[0])));
    }

    private static byte[] sealed(int kind, int number, byte[] by, byte[] histogram) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(8 + 12 + 4 + by.length + 4 + histogram.length + 32);
        b.put("DOVAMREC".getBytes(StandardCharsets.US_ASCII)).putInt(1).putInt(kind).putInt(number);
        b.putInt(by.length).put(by).putInt(histogram.length).put(histogram);
        b.put(MessageDigest.getInstance("SHA-256").digest(Arrays.copyOf(b.array(), b.position())));
        return b.array();
    }

    @Test
    void aDriftReferenceRoundTripsAndABadHistogramIsRefused() throws Exception {
        long[] pixels = new long[256];
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = (long) i * i * 1_000_003L;
        }
        ModelRecord.Reference r = new ModelRecord.Reference(3, "replica-2", pixels);
        assertEquals("r0003", r.key());
        byte[] whole = ModelRecord.encode(r);
        ModelRecord.Reference back = (ModelRecord.Reference) ModelRecord.decode("r0003", whole);
        assertEquals(3, back.number());
        assertEquals("replica-2", back.by());
        assertArrayEquals(pixels, back.pixels());
        pixels[5] = -1; // the record copied its counts
        assertEquals(25L * 1_000_003L, r.pixels()[5]);
        assertEquals("key", assertThrows(ModelRecord.Corrupt.class, () -> ModelRecord.decode("v0003", whole)).reason());
        for (int n = 0; n < whole.length; n += 13) {
            byte[] cut = Arrays.copyOf(whole, n);
            assertThrows(ModelRecord.Corrupt.class, () -> ModelRecord.decode("r0003", cut), "truncated to " + n);
        }
        // sealed with a valid checksum, yet 255 bins, or a negative count: refused by name
        ModelRecord.Corrupt shortOne = assertThrows(ModelRecord.Corrupt.class,
                () -> ModelRecord.decode("r0003", sealed(3, 3, new byte[] {'x'}, new byte[255 * 8])));
        assertEquals("format", shortOne.reason());
        assertTrue(shortOne.getMessage().contains("2040 bytes"), shortOne.getMessage());
        byte[] negative = new byte[256 * 8];
        ByteBuffer.wrap(negative).putLong(17 * 8, -4);
        ModelRecord.Corrupt neg = assertThrows(ModelRecord.Corrupt.class,
                () -> ModelRecord.decode("r0003", sealed(3, 3, new byte[] {'x'}, negative)));
        assertTrue(neg.getMessage().contains("negative count -4 at bin 17"), neg.getMessage());
        assertEquals("format", assertThrows(ModelRecord.Corrupt.class,
                () -> ModelRecord.decode("r0003", sealed(9, 3, new byte[] {'x'}, new byte[256 * 8]))).reason());
        assertThrows(IllegalArgumentException.class, () -> new ModelRecord.Reference(1, "x", new long[10]));
    }
}
