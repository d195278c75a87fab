package dova.ingest.frame;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

public class FrameCodecTest {
    public static Frame frame(long id, int w, int h, int c, long seed) {
        byte[] px = new byte[w * h * c];
        new Random(seed).nextBytes(px);
        return new Frame("cam-1", id, 1_700_000_000_000L + id, w, h, c, px, (int) (id % 10));
    }

    private final FrameCodec codec = new FrameCodec(1024, 1 << 16);

    @Test
    void pixelFormatCodesAreTheDocumentedOnes() {
        // docs/frame-format.md: 0 raw 8-bit, 1 PNG, 2 JPEG; byte 3 of every record
        org.junit.jupiter.api.Assertions.assertEquals(java.util.List.of(0, 1, 2), java.util.List.of(PixelFormat.RAW8.code(),
                PixelFormat.PNG.code(), PixelFormat.JPEG.code()));
        org.junit.jupiter.api.Assertions.assertEquals(3, PixelFormat.values().length, "a new format needs its code pinned");
        Frame f = new Frame("c", 1, 2, 2, 2, 1, new byte[4], -1);
        org.junit.jupiter.api.Assertions.assertEquals(1, FrameCodec.defaults().encode(f, PixelFormat.PNG)[3]);
    }

    @Test
    void rawAndPngRoundTripExactly() throws Exception {
        for (PixelFormat f : new PixelFormat[] {PixelFormat.RAW8, PixelFormat.PNG}) {
            for (int c : new int[] {1, 3}) {
                Frame in = frame(42, 28, 28, c, c);
                Frame out = codec.decode("cam-1", codec.encode(in, f));
                assertArrayEquals(in.pixels(), out.pixels(), f + " " + c + " channels");
                assertEquals(in.frameId(), out.frameId());
                assertEquals(in.captureMillis(), out.captureMillis());
                assertEquals(in.label(), out.label());
            }
        }
    }

    @Test
    void jpegDecodesToTheRightShapeApproximately() throws Exception {
        Frame in = new Frame("c", 1, 0, 16, 16, 1, new byte[256], -1);
        Arrays.fill(in.pixels(), (byte) 128);
        Frame out = codec.decode("c", codec.encode(in, PixelFormat.JPEG));
        assertEquals(256, out.pixels().length);
        assertEquals(128, out.pixels()[100] & 0xff, 2);
        assertEquals(-1, out.label());
    }

    private RejectReason reason(String key, byte[] value) {
        return assertThrows(FrameRejectedException.class, () -> codec.decode(key, value)).reason();
    }

    @Test
    void everyKindOfCorruptFrameIsRejectedWithItsReason() {
        byte[] good = codec.encode(frame(1, 8, 8, 1, 1), PixelFormat.RAW8);
        assertEquals(RejectReason.TRUNCATED, reason("c", Arrays.copyOf(good, 10)));
        assertEquals(RejectReason.TRUNCATED, reason("c", Arrays.copyOf(good, good.length - 1)));
        assertEquals(RejectReason.TRAILING_BYTES, reason("c", Arrays.copyOf(good, good.length + 3)));
        assertEquals(RejectReason.MISSING_KEY, reason(null, good));
        byte[] magic = good.clone();
        magic[0] = 'X';
        assertEquals(RejectReason.BAD_MAGIC, reason("c", magic));
        byte[] version = good.clone();
        version[2] = 9;
        assertEquals(RejectReason.UNKNOWN_VERSION, reason("c", version));
        byte[] fmt = good.clone();
        fmt[3] = 7;
        assertEquals(RejectReason.UNKNOWN_PIXEL_FORMAT, reason("c", fmt));
        byte[] dims = good.clone();
        ByteBuffer.wrap(dims).putShort(20, (short) 9);          // width 9: 9*8 != 64 raw bytes
        assertEquals(RejectReason.WRONG_DIMENSIONS, reason("c", dims));
        byte[] channels = good.clone();
        channels[24] = 2;
        assertEquals(RejectReason.WRONG_DIMENSIONS, reason("c", channels));
        byte[] huge = good.clone();
        ByteBuffer.wrap(huge).putInt(27, 1 << 20);
        assertEquals(RejectReason.OVERSIZED, reason("c", huge));
        byte[] png = codec.encode(frame(1, 8, 8, 1, 1), PixelFormat.PNG);
        png[FrameCodec.HEADER_BYTES + 1] = 'X';                  // break the PNG signature
        assertEquals(RejectReason.UNDECODABLE_IMAGE, reason("c", png));
        byte[] pngDims = codec.encode(frame(1, 8, 8, 1, 1), PixelFormat.PNG);
        ByteBuffer.wrap(pngDims).putShort(22, (short) 4);
        assertEquals(RejectReason.WRONG_DIMENSIONS, reason("c", pngDims));
    }

    /**
     * A PNG whose IHDR declares 46000x46000 (the frame header says 28x28): ImageIO would allocate a
     * ~2 GB raster from the IHDR alone. It must be refused from the declared size, before decoding.
     */
    @Test
    void pngDeclaringHugeDimensionsIsRefusedBeforeDecoding() throws Exception {
        byte[] record = codec.encode(frame(7, 28, 28, 1, 7), PixelFormat.PNG);
        int ihdr = FrameCodec.HEADER_BYTES + 8; // after the PNG signature: length, "IHDR", 13 data bytes, CRC
        ByteBuffer b = ByteBuffer.wrap(record);
        assertEquals(0x49484452, b.getInt(ihdr + 4), "IHDR chunk where the PNG layout puts it");
        b.putInt(ihdr + 8, 46000).putInt(ihdr + 12, 46000);
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(record, ihdr + 4, 4 + 13);
        b.putInt(ihdr + 8 + 13, (int) crc.getValue());
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long before = mx.getCurrentThreadAllocatedBytes();
        FrameRejectedException e = assertThrows(FrameRejectedException.class, () -> codec.decode("cam-1", record));
        long allocated = mx.getCurrentThreadAllocatedBytes() - before;
        assertEquals(RejectReason.WRONG_DIMENSIONS, e.reason(), e.getMessage());
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("46000x46000"), e.getMessage());
        org.junit.jupiter.api.Assertions.assertTrue(allocated < 16L << 20, "allocated " + allocated + " bytes");
    }
}
