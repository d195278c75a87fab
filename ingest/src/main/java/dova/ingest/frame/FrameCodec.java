package dova.ingest.frame;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * The frame wire format, version 1 (docs/frame-format.md). The Kafka key is the camera id;
 * the value is a 31-byte big-endian header followed by the payload:
 *
 * <pre>
 * offset size field
 *  0     2    magic "DF"
 *  2     1    version (1)
 *  3     1    pixel format: 0 raw 8-bit CHW, 1 PNG, 2 JPEG
 *  4     8    frame id
 * 12     8    capture time, ms since the epoch
 * 20     2    width  (unsigned, 1..maxSide)
 * 22     2    height (unsigned, 1..maxSide)
 * 24     1    channels (1 or 3)
 * 25     2    label (signed; -1 = unlabelled)
 * 27     4    payload length
 * 31     ...  payload
 * </pre>
 *
 * Decoding never throws anything but {@link FrameRejectedException}, whose reason becomes the
 * dead-letter header.
 */
public final class FrameCodec {
    public static final int VERSION = 1;
    public static final int HEADER_BYTES = 31;
    private static final byte M0 = 'D';
    private static final byte M1 = 'F';

    private final int maxSide;
    private final int maxPayloadBytes;

    /**
     * @param maxSide largest accepted width or height
     * @param maxPayloadBytes largest accepted payload; larger frames are rejected as OVERSIZED
     */
    public FrameCodec(int maxSide, int maxPayloadBytes) {
        if (maxSide < 1 || maxSide > 65535) {
            throw new IllegalArgumentException("maxSide must be in [1, 65535], got " + maxSide);
        }
        if (maxPayloadBytes < 1) {
            throw new IllegalArgumentException("maxPayloadBytes must be >= 1, got " + maxPayloadBytes);
        }
        this.maxSide = maxSide;
        this.maxPayloadBytes = maxPayloadBytes;
    }

    /** 4096 x 4096 frames, 8 MiB payloads. */
    public static FrameCodec defaults() {
        return new FrameCodec(4096, 8 << 20);
    }

    public byte[] encode(Frame f, PixelFormat format) {
        byte[] payload = switch (format) {
            case RAW8 -> f.pixels();
            case PNG -> image(f, "png");
            case JPEG -> image(f, "jpg");
        };
        ByteBuffer b = ByteBuffer.allocate(HEADER_BYTES + payload.length);
        b.put(M0).put(M1).put((byte) VERSION).put((byte) format.code()).putLong(f.frameId()).putLong(f.captureMillis())
                .putShort((short) f.width()).putShort((short) f.height()).put((byte) f.channels())
                .putShort((short) f.label()).putInt(payload.length).put(payload);
        return b.array();
    }

    private static byte[] image(Frame f, String type) {
        int w = f.width();
        int h = f.height();
        BufferedImage img;
        if (f.channels() == 1) {
            img = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
            img.getRaster().setDataElements(0, 0, w, h, f.pixels());
        } else {
            img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
            byte[] p = f.pixels();
            int plane = w * h;
            for (int i = 0; i < plane; i++) {
                img.setRGB(i % w, i / w, ((p[i] & 0xff) << 16) | ((p[plane + i] & 0xff) << 8) | (p[2 * plane + i] & 0xff));
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            if (!ImageIO.write(img, type, out)) {
                throw new IllegalStateException("no ImageIO writer for " + type);
            }
        } catch (IOException e) {
            throw new IllegalStateException("in-memory image encoding failed", e);
        }
        return out.toByteArray();
    }

    /** Decodes and validates one Kafka record. */
    public Frame decode(String cameraId, byte[] value) throws FrameRejectedException {
        if (cameraId == null || cameraId.isEmpty()) {
            throw new FrameRejectedException(RejectReason.MISSING_KEY, "record has no camera id key");
        }
        if (value == null || value.length < HEADER_BYTES) {
            throw new FrameRejectedException(RejectReason.TRUNCATED, (value == null ? 0 : value.length)
                    + " bytes, the header alone is " + HEADER_BYTES);
        }
        ByteBuffer b = ByteBuffer.wrap(value);
        if (b.get() != M0 || b.get() != M1) {
            throw new FrameRejectedException(RejectReason.BAD_MAGIC, "value does not start with \"DF\"");
        }
        int version = b.get() & 0xff;
        if (version != VERSION) {
            throw new FrameRejectedException(RejectReason.UNKNOWN_VERSION, "frame format version " + version
                    + ", this build reads " + VERSION);
        }
        int fmt = b.get() & 0xff;
        PixelFormat format = dova.sim.model.WireCode.byCode(PixelFormat.class, fmt).orElseThrow(
                () -> new FrameRejectedException(RejectReason.UNKNOWN_PIXEL_FORMAT, "pixel format code " + fmt));
        long frameId = b.getLong();
        long capture = b.getLong();
        int width = b.getShort() & 0xffff;
        int height = b.getShort() & 0xffff;
        int channels = b.get() & 0xff;
        int label = b.getShort();
        int length = b.getInt();
        if (width < 1 || height < 1 || width > maxSide || height > maxSide || (channels != 1 && channels != 3)) {
            throw new FrameRejectedException(RejectReason.WRONG_DIMENSIONS, width + "x" + height + "x" + channels
                    + " (sides 1.." + maxSide + ", 1 or 3 channels)");
        }
        if (length < 0 || length > maxPayloadBytes) {
            throw new FrameRejectedException(RejectReason.OVERSIZED, "payload of " + Integer.toUnsignedString(length)
                    + " bytes exceeds the limit of " + maxPayloadBytes);
        }
        if (value.length < HEADER_BYTES + length) {
            throw new FrameRejectedException(RejectReason.TRUNCATED, "header promises a " + length + "-byte payload, record has "
                    + (value.length - HEADER_BYTES));
        }
        if (value.length > HEADER_BYTES + length) {
            throw new FrameRejectedException(RejectReason.TRAILING_BYTES, (value.length - HEADER_BYTES - length)
                    + " bytes after the payload");
        }
        byte[] pixels;
        int expected = width * height * channels;
        if (format == PixelFormat.RAW8) {
            if (length != expected) {
                throw new FrameRejectedException(RejectReason.WRONG_DIMENSIONS, width + "x" + height + "x" + channels
                        + " needs " + expected + " raw bytes, payload has " + length);
            }
            pixels = new byte[length];
            b.get(pixels);
        } else {
            pixels = decodeImage(value, length, width, height, channels);
        }
        return new Frame(cameraId, frameId, capture, width, height, channels, pixels, label);
    }

    private static byte[] decodeImage(byte[] value, int length, int width, int height, int channels)
            throws FrameRejectedException {
        BufferedImage img;
        // the image's own dimensions (PNG IHDR, JPEG SOF) are read and checked before anything is decoded:
        // ImageIO allocates the whole raster from them, and a 278-byte PNG can declare 46000x46000
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(value, HEADER_BYTES, length))) {
            java.util.Iterator<ImageReader> readers = in == null ? null : ImageIO.getImageReaders(in);
            if (readers == null || !readers.hasNext()) {
                throw new FrameRejectedException(RejectReason.UNDECODABLE_IMAGE, "payload is not a readable PNG or JPEG");
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                int w = reader.getWidth(0);
                int h = reader.getHeight(0);
                if (w != width || h != height) {
                    throw new FrameRejectedException(RejectReason.WRONG_DIMENSIONS, "header says " + width + "x" + height
                            + ", image declares " + w + "x" + h + " (checked before decoding)");
                }
                img = reader.read(0);
            } finally {
                reader.dispose();
            }
        } catch (IOException | RuntimeException e) {
            throw new FrameRejectedException(RejectReason.UNDECODABLE_IMAGE, "image decoder failed: " + e.getMessage());
        }
        if (img == null) {
            throw new FrameRejectedException(RejectReason.UNDECODABLE_IMAGE, "payload is not a readable PNG or JPEG");
        }
        if (img.getWidth() != width || img.getHeight() != height) {
            throw new FrameRejectedException(RejectReason.WRONG_DIMENSIONS, "header says " + width + "x" + height
                    + ", image is " + img.getWidth() + "x" + img.getHeight());
        }
        int plane = width * height;
        byte[] pixels = new byte[plane * channels];
        if (channels == 1 && img.getRaster().getNumBands() == 1 && img.getSampleModel().getSampleSize(0) == 8) {
            // read grey samples directly: getRGB would pass them through a colour-space conversion
            int[] samples = img.getRaster().getSamples(0, 0, width, height, 0, (int[]) null);
            for (int i = 0; i < plane; i++) {
                pixels[i] = (byte) samples[i];
            }
            return pixels;
        }
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                int rgb = img.getRGB(x, y);
                int r = (rgb >> 16) & 0xff;
                int g = (rgb >> 8) & 0xff;
                int bl = rgb & 0xff;
                int i = y * width + x;
                if (channels == 1) {
                    // grey images decode with r == g == b; colour ones are converted with BT.601 luma weights
                    pixels[i] = (byte) Math.round(0.299 * r + 0.587 * g + 0.114 * bl);
                } else {
                    pixels[i] = (byte) r;
                    pixels[plane + i] = (byte) g;
                    pixels[2 * plane + i] = (byte) bl;
                }
            }
        }
        return pixels;
    }
}
