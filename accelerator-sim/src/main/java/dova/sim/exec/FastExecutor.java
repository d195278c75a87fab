package dova.sim.exec;

import dova.sim.ProcessorConfig;
import dova.sim.model.Conv2d;
import dova.sim.model.IntegerModel;
import dova.sim.model.Layer;
import dova.sim.model.TensorSpec;
import java.util.Arrays;

/**
 * The fast executor. Convolutions are im2col + dot products: each output pixel's receptive
 * field is gathered once per layer (and group) in the canonical (ky, kx, channel) order, with
 * the weights stored in the same order, so that every lane block is a contiguous dot product
 * (a loop the JIT unrolls and vectorises) and the group updates of one output value follow
 * exactly the canonical order: SATURATE results and overflow counts equal the reference's.
 * For A <= 24 the update is a branch-free int wrap or clamp (the exact sum of an accumulator
 * below 2^23 and a block below 2^23 fits an int).
 *
 * <p>For an unsigned input (every ReLU output and the pixels), {@code P = x.max(w,0)} and
 * {@code N = x.max(-w,0)} bound every prefix of the canonical order: an output whose
 * {@code [bias - N, bias + P]} fits A bits takes {@code bias + P - N} without the group-by-group
 * update; the others are computed group by group as below. This is the pure-Java counterpart
 * of the native kernels (src/main/c/dova_sim.c), used where they are not loaded.
 *
 * <p>Where a channel provably cannot overflow ({@code |bias| + sum|w| * max|x| <= 2^(A-1) - 1},
 * which holds for every channel at A = 32 with 8-bit operands and fewer than 2^31/32385 ~ 66k
 * products), the products go straight into the accumulators and the per-group check is
 * skipped: with no overflow the sum is exact and order-independent.
 */
final class FastExecutor extends Executor {
    /** Per conv layer and output channel: true when no group update can leave the A-bit range. */
    private final boolean[][] overflowFree;
    /** Per-pixel accumulators, sized for the largest output map. */
    private final int[] acc;
    /** im2col buffer: every output pixel's receptive field, (ky, kx, channel) order; sized for the largest layer. */
    private final int[] col;
    /** Per conv layer: weights as ints in [outChannel][ky][kx][inChannel] order, matching {@link #col}. */
    private final int[][] weightsTapMajor;
    /** Per conv layer: max(w, 0) in the same order (the P/N prefix bound), or null when the input is signed. */
    private final int[][] positiveWeights;

    FastExecutor(IntegerModel model, ProcessorConfig config) {
        super(model, config);
        int maxArea = 1;
        long maxCol = 1;
        overflowFree = new boolean[this.model.layers().size()][];
        weightsTapMajor = new int[this.model.layers().size()][];
        positiveWeights = new int[this.model.layers().size()][];
        for (int i = 0; i < overflowFree.length; i++) {
            Layer l = this.model.layers().get(i);
            if (l instanceof Conv2d c) {
                TensorSpec in = this.model.tensor(c.input());
                TensorSpec out = this.model.tensor(c.output());
                maxArea = Math.max(maxArea, out.height() * out.width());
                int inPerGroup = c.inChannelsPerGroup();
                int k = c.kernelH() * c.kernelW() * inPerGroup;
                maxCol = Math.max(maxCol, (long) out.height() * out.width() * k);
                int[] wt = new int[c.weights().length];
                for (int oc = 0; oc < c.outChannels(); oc++) {
                    for (int icg = 0; icg < inPerGroup; icg++) {
                        for (int ky = 0; ky < c.kernelH(); ky++) {
                            for (int kx = 0; kx < c.kernelW(); kx++) {
                                wt[oc * k + (ky * c.kernelW() + kx) * inPerGroup + icg] = c.weights()[c.weightIndex(oc, icg, ky, kx)];
                            }
                        }
                    }
                }
                weightsTapMajor[i] = wt;
                if (!in.signed() && k <= NativePlan.MAX_PN_LENGTH) { // P and N fit int32
                    int[] wp = new int[wt.length];
                    for (int j = 0; j < wt.length; j++) {
                        wp[j] = Math.max(wt[j], 0);
                    }
                    positiveWeights[i] = wp;
                }
                long maxAbsX = Math.max(Math.abs((long) in.qmin()), Math.abs((long) in.qmax()));
                int perChannel = c.weights().length / c.outChannels();
                overflowFree[i] = new boolean[c.outChannels()];
                for (int oc = 0; oc < c.outChannels(); oc++) {
                    long bound = Math.abs((long) c.bias()[oc]);
                    for (int j = oc * perChannel; j < (oc + 1) * perChannel; j++) {
                        bound += Math.abs(c.weights()[j]) * maxAbsX;
                    }
                    overflowFree[i][oc] = bound <= accMax;
                }
            }
        }
        if (maxCol > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("model " + model.name() + ": a layer's receptive fields need " + maxCol
                    + " ints, more than one Java array holds");
        }
        acc = new int[maxArea];
        col = new int[(int) maxCol];
    }

    @Override
    protected void conv(int layerIndex, Conv2d c) {
        TensorSpec in = model.tensor(c.input());
        TensorSpec out = model.tensor(c.output());
        int[] x = buffers[c.input()];
        int[] y = buffers[c.output()];
        int[] w = weightsTapMajor[layerIndex];
        Requantizer rq = requantizers[layerIndex];
        int inH = in.height();
        int inW = in.width();
        int outH = out.height();
        int outW = out.width();
        int area = outH * outW;
        int kh = c.kernelH();
        int kw = c.kernelW();
        int inPerGroup = c.inChannelsPerGroup();
        int outPerGroup = c.outChannelsPerGroup();
        int taps = kh * kw;
        int k = taps * inPerGroup;
        int lanes = config.lanes();
        int lo = c.activation().qmin(out);
        int hi = c.activation().qmax(out);
        int[] col = this.col;
        int[] bias = c.bias();
        boolean narrow = accBits <= 24;
        int shift = 32 - accBits;
        int accLo = (int) accMin;
        int accHi = (int) accMax;
        for (int group = 0; group < c.groups(); group++) {
            // im2col: for every output pixel, its receptive field in canonical order (ky, kx, channel),
            // so that each lane block of a tap is contiguous; padding reads as 0
            for (int outY = 0; outY < outH; outY++) {
                for (int outX = 0; outX < outW; outX++) {
                    int base = (outY * outW + outX) * k;
                    for (int filterY = 0; filterY < kh; filterY++) {
                        int inY = outY * c.strideH() - c.padH() + filterY;
                        for (int filterX = 0; filterX < kw; filterX++) {
                            int inX = outX * c.strideW() - c.padW() + filterX;
                            int dst = base + (filterY * kw + filterX) * inPerGroup;
                            if (inY < 0 || inY >= inH || inX < 0 || inX >= inW) {
                                Arrays.fill(col, dst, dst + inPerGroup, 0);
                            } else {
                                int src = (group * inPerGroup * inH + inY) * inW + inX;
                                for (int inChannel = 0; inChannel < inPerGroup; inChannel++) {
                                    col[dst + inChannel] = x[src + inChannel * inH * inW];
                                }
                            }
                        }
                    }
                }
            }
            for (int outChannel = group * outPerGroup; outChannel < (group + 1) * outPerGroup; outChannel++) {
                int wBase = outChannel * k;
                int yBase = outChannel * area;
                if (overflowFree[layerIndex][outChannel]) {
                    for (int p = 0; p < area; p++) {
                        int base = p * k;
                        int sum = bias[outChannel];
                        for (int i = 0; i < k; i++) {
                            sum += col[base + i] * w[wBase + i];
                        }
                        acc[p] = sum;
                    }
                } else {
                    int events = 0;
                    int[] wp = positiveWeights[layerIndex];
                    for (int p = 0; p < area; p++) {
                        int base = p * k;
                        if (wp != null) {
                            // x >= 0: every prefix of the canonical order lies in [bias - N, bias + P] with
                            // P = x.max(w,0) and N = P - x.w; when both ends fit A bits no update overflows
                            int sum = 0;
                            int pos = 0;
                            for (int i = 0; i < k; i++) {
                                int xv = col[base + i];
                                sum += xv * w[wBase + i];
                                pos += xv * wp[wBase + i];
                            }
                            long b = bias[outChannel];
                            if (b + pos <= accMax && b - (pos - (long) sum) >= accMin) {
                                acc[p] = (int) (b + sum);
                                continue;
                            }
                        }
                        long a = bias[outChannel];
                        for (int tap = 0; tap < taps; tap++) {
                            int tapBase = tap * inPerGroup;
                            for (int block = 0; block < inPerGroup; block += lanes) {
                                int end = Math.min(block + lanes, inPerGroup);
                                int sum = 0; // the exact adder tree: at most 256 products of 8-bit operands
                                for (int i = tapBase + block; i < tapBase + end; i++) {
                                    sum += col[base + i] * w[wBase + i];
                                }
                                if (narrow) {
                                    int exact = (int) a + sum;
                                    int next = saturate ? Math.min(Math.max(exact, accLo), accHi) : (exact << shift) >> shift;
                                    events += exact != next ? 1 : 0;
                                    a = next;
                                } else {
                                    a = accumulate(a, sum, layerIndex);
                                }
                            }
                        }
                        acc[p] = (int) a;
                    }
                    overflowEvents[layerIndex] += events;
                }
                if (probe != null) {
                    probe.accumulators(layerIndex, c, outChannel, acc, area);
                }
                for (int p = 0; p < area; p++) {
                    y[yBase + p] = clamp(rq.apply(acc[p], outChannel), lo, hi);
                }
            }
        }
    }
}
