package dova.sim.exec;

import dova.sim.ProcessorConfig;
import dova.sim.model.Conv2d;
import dova.sim.model.IntegerModel;
import dova.sim.model.TensorSpec;

/** The literal reading of docs/datapath.md section 2: one output value at a time, groups in canonical order. */
final class ReferenceExecutor extends Executor {
    ReferenceExecutor(IntegerModel model, ProcessorConfig config) {
        super(model, config);
    }

    @Override
    protected void conv(int layerIndex, Conv2d c) {
        TensorSpec in = model.tensor(c.input());
        TensorSpec out = model.tensor(c.output());
        int[] x = buffers[c.input()];
        int[] y = buffers[c.output()];
        byte[] w = c.weights();
        int[] bias = c.bias();
        Requantizer rq = requantizers[layerIndex];
        int lanes = config.lanes();
        int inPerGroup = c.inChannelsPerGroup();
        int outPerGroup = c.outChannelsPerGroup();
        int lo = c.activation().qmin(out);
        int hi = c.activation().qmax(out);
        int area = out.height() * out.width();
        int[] seen = probe != null ? new int[area] : null;
        dova.sim.PairStage stage = config.pairStage();
        for (int outChannel = 0; outChannel < c.outChannels(); outChannel++) {
            int group = outChannel / outPerGroup;
            for (int outY = 0; outY < out.height(); outY++) {
                for (int outX = 0; outX < out.width(); outX++) {
                    long acc = bias[outChannel];
                    if (stage != null) {
                        acc = throughStage(layerIndex, c, in, x, w, stage, acc, outChannel, group, outY, outX);
                        y[(outChannel * out.height() + outY) * out.width() + outX] = clamp(rq.apply(acc, outChannel), lo, hi);
                        if (seen != null) {
                            seen[outY * out.width() + outX] = (int) acc;
                        }
                        continue;
                    }
                    for (int filterY = 0; filterY < c.kernelH(); filterY++) {
                        for (int filterX = 0; filterX < c.kernelW(); filterX++) {
                            int inY = outY * c.strideH() - c.padH() + filterY;
                            int inX = outX * c.strideW() - c.padW() + filterX;
                            boolean inside = inY >= 0 && inY < in.height() && inX >= 0 && inX < in.width();
                            for (int block = 0; block < inPerGroup; block += lanes) {
                                long p = 0; // the adder tree is exact
                                for (int inChannel = block; inChannel < Math.min(block + lanes, inPerGroup); inChannel++) {
                                    if (inside) {
                                        int channel = group * inPerGroup + inChannel;
                                        p += (long) w[c.weightIndex(outChannel, inChannel, filterY, filterX)]
                                                * x[(channel * in.height() + inY) * in.width() + inX];
                                    }
                                }
                                acc = accumulate(acc, p, layerIndex);
                            }
                        }
                    }
                    y[(outChannel * out.height() + outY) * out.width() + outX] = clamp(rq.apply(acc, outChannel), lo, hi);
                    if (seen != null) {
                        seen[outY * out.width() + outX] = (int) acc; // an A-bit value (A <= 32)
                    }
                }
            }
            if (seen != null) {
                probe.accumulators(layerIndex, c, outChannel, seen, area);
            }
        }
    }

    /**
     * One output through the pair stage: the filter's products in canonical order (row, column,
     * channel, flattened; a padded input is a 0 product that still takes its place), summed
     * {@code stage.products()} at a time into the stage's width (an intermediate that does not fit
     * is an overflow event of the layer, then saturated or wrapped), each intermediate one update
     * of the A-bit accumulator.
     */
    private long throughStage(int layerIndex, Conv2d c, TensorSpec in, int[] x, byte[] w, dova.sim.PairStage stage, long acc,
                              int outChannel, int group, int outY, int outX) {
        int inPerGroup = c.inChannelsPerGroup();
        long part = 0;
        int n = 0;
        for (int filterY = 0; filterY < c.kernelH(); filterY++) {
            for (int filterX = 0; filterX < c.kernelW(); filterX++) {
                int inY = outY * c.strideH() - c.padH() + filterY;
                int inX = outX * c.strideW() - c.padW() + filterX;
                boolean inside = inY >= 0 && inY < in.height() && inX >= 0 && inX < in.width();
                for (int inChannel = 0; inChannel < inPerGroup; inChannel++) {
                    if (inside) {
                        int channel = group * inPerGroup + inChannel;
                        part += (long) w[c.weightIndex(outChannel, inChannel, filterY, filterX)]
                                * x[(channel * in.height() + inY) * in.width() + inX];
                    }
                    if (++n == stage.products()) {
                        acc = accumulate(acc, staged(part, stage, layerIndex), layerIndex);
                        part = 0;
                        n = 0;
                    }
                }
            }
        }
        return n == 0 ? acc : accumulate(acc, staged(part, stage, layerIndex), layerIndex);
    }

    private long staged(long v, dova.sim.PairStage stage, int layerIndex) {
        if (!stage.fits(v)) {
            overflowEvents[layerIndex]++;
        }
        return stage.stage(v);
    }
}
