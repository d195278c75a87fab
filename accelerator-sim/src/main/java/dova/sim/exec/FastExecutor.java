package dova.sim.exec;

import dova.sim.ProcessorConfig;
import dova.sim.model.Conv2d;
import dova.sim.model.IntegerModel;
import dova.sim.model.Layer;
import dova.sim.model.TensorSpec;
import java.util.Arrays;

/**
 * The fast executor. Convolutions run output channel by output channel over whole feature
 * maps: for each kernel tap and lane block, one weight multiplies a contiguous run of an
 * input row into a per-pixel partial-sum array (a loop the JIT vectorises), then every
 * pixel's accumulator takes the block's sum as one group update. The visiting order of
 * groups per output value is exactly the canonical one, so SATURATE results and overflow
 * counts equal the reference's.
 *
 * <p>Where a channel provably cannot overflow ({@code |bias| + sum|w| * max|x| <= 2^(A-1) - 1},
 * which holds for every channel at A = 32 with 8-bit operands and fewer than 2^31/32385 ~ 66k
 * products), the products go straight into the accumulators and the per-group check is
 * skipped: with no overflow the sum is exact and order-independent.
 */
final class FastExecutor extends Executor {
    /** Per conv layer and output channel: true when no group update can leave the A-bit range. */
    private final boolean[][] overflowFree;
    /** Per-pixel accumulators and block partial sums, sized for the largest output map. */
    private final int[] acc;
    private final int[] partial;

    FastExecutor(IntegerModel model, ProcessorConfig config) {
        super(model, config);
        int maxArea = 1;
        overflowFree = new boolean[this.model.layers().size()][];
        for (int i = 0; i < overflowFree.length; i++) {
            Layer l = this.model.layers().get(i);
            if (l instanceof Conv2d c) {
                TensorSpec in = this.model.tensor(c.input());
                TensorSpec out = this.model.tensor(c.output());
                maxArea = Math.max(maxArea, out.height() * out.width());
                long maxAbsX = Math.max(Math.abs((long) in.qmin()), Math.abs((long) in.qmax()));
                int perChannel = c.weights().length / c.outChannels();
                overflowFree[i] = new boolean[c.outChannels()];
                for (int oc = 0; oc < c.outChannels(); oc++) {
                    long bound = Math.abs((long) c.bias()[oc]);
                    for (int k = oc * perChannel; k < (oc + 1) * perChannel; k++) {
                        bound += Math.abs(c.weights()[k]) * maxAbsX;
                    }
                    overflowFree[i][oc] = bound <= accMax;
                }
            }
        }
        acc = new int[maxArea];
        partial = new int[maxArea];
    }

    @Override
    protected void conv(int layerIndex, Conv2d c) {
        TensorSpec in = model.tensor(c.input());
        TensorSpec out = model.tensor(c.output());
        int[] x = buffers[c.input()];
        int[] y = buffers[c.output()];
        byte[] w = c.weights();
        Requantizer rq = requantizers[layerIndex];
        int inH = in.height();
        int inW = in.width();
        int outH = out.height();
        int outW = out.width();
        int area = outH * outW;
        int strideH = c.strideH();
        int strideW = c.strideW();
        int lanes = config.lanes();
        int inPerGroup = c.inChannelsPerGroup();
        int outPerGroup = c.outChannelsPerGroup();
        int lo = c.activation().qmin(out);
        int hi = c.activation().qmax(out);
        int[] acc = this.acc;
        int[] partial = this.partial;
        for (int outChannel = 0; outChannel < c.outChannels(); outChannel++) {
            int group = outChannel / outPerGroup;
            boolean free = overflowFree[layerIndex][outChannel];
            int[] target = free ? acc : partial;
            Arrays.fill(acc, 0, area, c.bias()[outChannel]);
            for (int filterY = 0; filterY < c.kernelH(); filterY++) {
                // rows of the output whose input row lies inside the image
                int outYLo = Math.max(0, ceilDiv(c.padH() - filterY, strideH));
                int outYHi = Math.min(outH - 1, Math.floorDiv(inH - 1 + c.padH() - filterY, strideH));
                for (int filterX = 0; filterX < c.kernelW(); filterX++) {
                    int outXLo = Math.max(0, ceilDiv(c.padW() - filterX, strideW));
                    int outXHi = Math.min(outW - 1, Math.floorDiv(inW - 1 + c.padW() - filterX, strideW));
                    for (int block = 0; block < inPerGroup; block += lanes) {
                        if (!free) {
                            Arrays.fill(partial, 0, area, 0);
                        }
                        int blockEnd = Math.min(block + lanes, inPerGroup);
                        for (int inChannel = block; inChannel < blockEnd; inChannel++) {
                            int weight = w[c.weightIndex(outChannel, inChannel, filterY, filterX)];
                            if (weight == 0 || outYLo > outYHi || outXLo > outXHi) {
                                continue;
                            }
                            int channelBase = (group * inPerGroup + inChannel) * inH * inW;
                            for (int outY = outYLo; outY <= outYHi; outY++) {
                                int inRow = channelBase + (outY * strideH - c.padH() + filterY) * inW - c.padW() + filterX;
                                int outRow = outY * outW;
                                if (strideW == 1) {
                                    for (int outX = outXLo; outX <= outXHi; outX++) {
                                        target[outRow + outX] += weight * x[inRow + outX];
                                    }
                                } else {
                                    for (int outX = outXLo; outX <= outXHi; outX++) {
                                        target[outRow + outX] += weight * x[inRow + outX * strideW];
                                    }
                                }
                            }
                        }
                        if (!free) {
                            for (int i = 0; i < area; i++) {
                                acc[i] = (int) accumulate(acc[i], partial[i], layerIndex);
                            }
                        }
                    }
                }
            }
            if (probe != null) {
                probe.accumulators(layerIndex, c, outChannel, acc, area);
            }
            int base = outChannel * area;
            for (int i = 0; i < area; i++) {
                y[base + i] = clamp(rq.apply(acc[i], outChannel), lo, hi);
            }
        }
    }

    private static int ceilDiv(int a, int b) {
        return -Math.floorDiv(-a, b);
    }
}
