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
