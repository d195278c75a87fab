package dova.calibrate.observe;

import dova.sim.ProcessorConfig;
import dova.sim.exec.Executor;
import dova.sim.model.Conv2d;
import dova.sim.model.IntegerModel;
import dova.sim.model.Layer;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Observed ranges of a model on a stream of images, in bounded memory: for every conv layer,
 * the exact accumulators (min / max, from an A32 run, where nothing overflows) and a
 * histogram of the real pre-clamp outputs {@code |acc * Sx * Sw[c]|}; for the input, a
 * 256-bin pixel histogram. Profiles of several instances merge. Not thread-safe: one per
 * stream stage, merge snapshots.
 */
public final class RangeProfile {
    /** Per conv layer statistics. */
    public static final class LayerRange {
        public final MinMax accumulator = new MinMax();
        public final LogHistogram realOutput = new LogHistogram();

        void merge(LayerRange o) {
            accumulator.merge(o.accumulator);
            realOutput.merge(o.realOutput);
        }
    }

    private final Map<String, LayerRange> layers = new LinkedHashMap<>();
    private final long[] pixelCounts = new long[256];
    private long images;

    public Map<String, LayerRange> layers() {
        return layers;
    }

    public long images() {
        return images;
    }

    /** Pixel-value histogram of the images seen (a copy). */
    public long[] pixelHistogram() {
        return pixelCounts.clone();
    }

    public void merge(RangeProfile o) {
        o.layers.forEach((k, v) -> layers.computeIfAbsent(k, x -> new LayerRange()).merge(v));
        for (int i = 0; i < 256; i++) {
            pixelCounts[i] += o.pixelCounts[i];
        }
        images += o.images;
    }

    public RangeProfile copy() {
        RangeProfile p = new RangeProfile();
        p.merge(this);
        return p;
    }

    private static final byte[] MAGIC = "DOVARNG1".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    /** Most layers and longest layer name a snapshot may hold (checked before anything is allocated). */
    static final int MAX_LAYERS = 4096;
    static final int MAX_NAME_BYTES = 1024;

    /**
     * The profile as bytes, so that replicas can share it: {@code DOVARNG1}, images, the 256
     * pixel counts, then per layer its name, accumulator min, max and count, and its histogram's
     * non-zero bins as (bin, count) pairs. Big-endian.
     */
    public byte[] toBytes() {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        try (java.io.DataOutputStream out = new java.io.DataOutputStream(bytes)) {
            out.write(MAGIC);
            out.writeLong(images);
            for (long c : pixelCounts) {
                out.writeLong(c);
            }
            out.writeInt(layers.size());
            for (Map.Entry<String, LayerRange> e : layers.entrySet()) {
                byte[] name = e.getKey().getBytes(java.nio.charset.StandardCharsets.UTF_8);
                out.writeShort(name.length);
                out.write(name);
                MinMax a = e.getValue().accumulator;
                out.writeDouble(a.min());
                out.writeDouble(a.max());
                out.writeLong(a.count());
                long[] counts = e.getValue().realOutput.counts();
                out.writeInt((int) java.util.Arrays.stream(counts).filter(c -> c != 0).count());
                for (int b = 0; b < counts.length; b++) {
                    if (counts[b] != 0) {
                        out.writeShort(b);
                        out.writeLong(counts[b]);
                    }
                }
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e); // a byte array does not fail
        }
        return bytes.toByteArray();
    }

    /**
     * Reads {@link #toBytes()}'s form, from an untrusted source: every count and size is checked
     * against its bound and the bytes that remain before it is used.
     *
     * @throws IllegalArgumentException naming what is wrong
     */
    public static RangeProfile fromBytes(byte[] bytes) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(bytes);
        RangeProfile p = new RangeProfile();
        try {
            byte[] magic = new byte[MAGIC.length];
            b.get(magic);
            if (!java.util.Arrays.equals(magic, MAGIC)) {
                throw new IllegalArgumentException("range snapshot: does not start with DOVARNG1");
            }
            p.images = nonNegative(b.getLong(), "image count");
            for (int i = 0; i < 256; i++) {
                p.pixelCounts[i] = nonNegative(b.getLong(), "pixel count");
            }
            int n = b.getInt();
            if (n < 0 || n > MAX_LAYERS) {
                throw new IllegalArgumentException("range snapshot: " + n + " layers, outside [0, " + MAX_LAYERS + "]");
            }
            for (int l = 0; l < n; l++) {
                int len = b.getShort() & 0xffff;
                if (len > MAX_NAME_BYTES || len > b.remaining()) {
                    throw new IllegalArgumentException("range snapshot: a layer name of " + len + " bytes where "
                            + Math.min(MAX_NAME_BYTES, b.remaining()) + " at most fit");
                }
                byte[] name = new byte[len];
                b.get(name);
                LayerRange r = new LayerRange();
                double min = b.getDouble();
                double max = b.getDouble();
                long count = nonNegative(b.getLong(), "accumulator count");
                if (count > 0 && !(min <= max)) {
                    throw new IllegalArgumentException("range snapshot: accumulator min " + min + " above max " + max);
                }
                r.accumulator.restore(min, max, count);
                int bins = b.getInt();
                if (bins < 0 || bins > LogHistogram.BINS) {
                    throw new IllegalArgumentException("range snapshot: " + bins + " histogram bins, outside [0, "
                            + LogHistogram.BINS + "]");
                }
                for (int i = 0; i < bins; i++) {
                    int bin = b.getShort() & 0xffff;
                    if (bin >= LogHistogram.BINS) {
                        throw new IllegalArgumentException("range snapshot: histogram bin " + bin + " past the last, "
                                + (LogHistogram.BINS - 1));
                    }
                    r.realOutput.addToBin(bin, nonNegative(b.getLong(), "histogram count"));
                }
                p.layers.put(new String(name, java.nio.charset.StandardCharsets.UTF_8), r);
            }
        } catch (java.nio.BufferUnderflowException e) {
            throw new IllegalArgumentException("range snapshot: truncated (" + bytes.length + " bytes)");
        }
        if (b.hasRemaining()) {
            throw new IllegalArgumentException("range snapshot: " + b.remaining() + " bytes after its last layer");
        }
        return p;
    }

    private static long nonNegative(long v, String what) {
        if (v < 0) {
            throw new IllegalArgumentException("range snapshot: negative " + what + " " + v);
        }
        return v;
    }

    /** Runs images through a model at A32/M32 and records them into a {@link RangeProfile}. */
    public static final class Collector {
        private final Executor executor;
        private final RangeProfile profile = new RangeProfile();
        private final double[][] realPerAcc;

        public Collector(IntegerModel model) {
            executor = Executor.fast(model, ProcessorConfig.baseline());
            IntegerModel m = executor.model();
            realPerAcc = new double[m.layers().size()][];
            for (int i = 0; i < realPerAcc.length; i++) {
                Layer l = m.layers().get(i);
                if (l instanceof Conv2d c) {
                    realPerAcc[i] = new double[c.outChannels()];
                    for (int ch = 0; ch < c.outChannels(); ch++) {
                        realPerAcc[i][ch] = m.tensor(c.input()).scale() * c.weightScales()[ch];
                    }
                    profile.layers.put(c.name(), new LayerRange());
                }
            }
            executor.setProbe((layerIndex, layer, channel, acc, count) -> {
                LayerRange r = profile.layers.get(layer.name());
                double unit = realPerAcc[layerIndex][channel];
                for (int i = 0; i < count; i++) {
                    r.accumulator.add(acc[i]);
                    r.realOutput.add(acc[i] * unit);
                }
            });
        }

        /** Observes one image ({@code C*H*W} pixels at {@code offset}). */
        public void add(byte[] pixels, int offset) {
            int n = executor.model().inputSpec().size();
            for (int i = 0; i < n; i++) {
                profile.pixelCounts[pixels[offset + i] & 0xff]++;
            }
            executor.run(pixels, offset);
            profile.images++;
        }

        public RangeProfile profile() {
            return profile;
        }
    }
}
