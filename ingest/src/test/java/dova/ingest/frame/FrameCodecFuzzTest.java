package dova.ingest.frame;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A seeded mutation loop over valid RAW8, PNG and JPEG records: bit flips, truncation, appended
 * bytes, and header fields set to extreme values. Every case must decode to a frame or be rejected
 * with a {@link FrameRejectedException}; nothing else may escape, no case may take more than a
 * second, and no case may allocate more than the frame limits allow (checked per case).
 */
class FrameCodecFuzzTest {
    private static final int CASES = 30_000;

    @Test
    void mutatedRecordsAreDecodedOrRejectedAndNothingElse() {
        FrameCodec codec = new FrameCodec(256, 1 << 16);
        Random rnd = new Random(20261201);
        byte[][] seeds = {
            codec.encode(FrameCodecTest.frame(1, 28, 28, 1, 1), PixelFormat.RAW8),
            codec.encode(FrameCodecTest.frame(2, 28, 28, 3, 2), PixelFormat.PNG),
            codec.encode(FrameCodecTest.frame(3, 16, 16, 1, 3), PixelFormat.JPEG),
            codec.encode(FrameCodecTest.frame(4, 28, 28, 1, 4), PixelFormat.PNG)};
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        // the largest legitimate decode: a 256x256x3 frame and its image raster, with room for the decoder
        long budget = 64L << 20;
        int decoded = 0;
        int rejected = 0;
        for (int i = 0; i < CASES; i++) {
            byte[] r = mutate(rnd, seeds[rnd.nextInt(seeds.length)]);
            long before = mx.getCurrentThreadAllocatedBytes();
            long t0 = System.nanoTime();
            try {
                codec.decode("cam", r);
                decoded++;
            } catch (FrameRejectedException e) {
                rejected++;
            } catch (Throwable t) {
                fail("case " + i + ": " + t + " escaped the decoder", t);
            }
            long ms = (System.nanoTime() - t0) / 1_000_000;
            long allocated = mx.getCurrentThreadAllocatedBytes() - before;
            assertTrue(ms < 1000, "case " + i + " took " + ms + " ms");
            assertTrue(allocated < budget, "case " + i + " allocated " + allocated + " bytes");
        }
        System.out.printf("frame decoder fuzz: %d cases, %d decoded, %d rejected%n", CASES, decoded, rejected);
        assertTrue(rejected > CASES / 2, "the mutations must mostly break records for the test to mean anything");
    }

    static byte[] mutate(Random rnd, byte[] seed) {
        byte[] r = seed.clone();
        switch (rnd.nextInt(6)) {
            case 0 -> { // bit flips anywhere
                for (int k = 1 + rnd.nextInt(8); k > 0; k--) {
                    int at = rnd.nextInt(r.length);
                    r[at] ^= (byte) (1 << rnd.nextInt(8));
                }
            }
            case 1 -> r = Arrays.copyOf(r, rnd.nextInt(r.length)); // truncation
            case 2 -> r = Arrays.copyOf(r, r.length + 1 + rnd.nextInt(64)); // trailing bytes
            case 3 -> { // a header field at an extreme value
                ByteBuffer b = ByteBuffer.wrap(r);
                int[] shorts = {20, 22, 25};
                int[] extremes = {0, 1, 0x7fff, 0x8000, 0xffff};
                if (rnd.nextBoolean()) {
                    b.putShort(shorts[rnd.nextInt(shorts.length)], (short) extremes[rnd.nextInt(extremes.length)]);
                } else {
                    int[] lengths = {0, -1, Integer.MAX_VALUE, Integer.MIN_VALUE, r.length, 1 << 20};
                    b.putInt(27, lengths[rnd.nextInt(lengths.length)]);
                }
            }
            case 4 -> { // payload bytes overwritten (image chunk headers, dimensions, compressed data)
                int from = Math.min(r.length - 1, FrameCodec.HEADER_BYTES);
                for (int k = 1 + rnd.nextInt(16); k > 0; k--) {
                    r[from + rnd.nextInt(r.length - from)] = (byte) rnd.nextInt(256);
                }
            }
            default -> { // an image's declared size: the first big-endian ints of the payload set large
                ByteBuffer b = ByteBuffer.wrap(r);
                int at = FrameCodec.HEADER_BYTES + 16 + 4 * rnd.nextInt(2);
                if (at + 4 <= r.length) {
                    b.putInt(at, 1 + rnd.nextInt(100_000));
                }
            }
        }
        return r;
    }
}
