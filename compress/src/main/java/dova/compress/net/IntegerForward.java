package dova.compress.net;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.pooling.Pool;
import ai.djl.training.ParameterStore;
import dova.sim.FixedPoint;
import dova.sim.Overflow;
import dova.sim.PairStage;
import java.util.HashMap;
import java.util.Map;

/**
 * One forward pass of a {@link QuantNet} through the simulation of the processor's integer
 * datapath (docs/datapath.md), walking the network's {@link QuantPlan}:
 *
 * <ul>
 *   <li>weights: per-channel scale {@code Sw = max|W| / limit}, integers {@code round(W / Sw)}
 *       clipped to {@code +-limit} (straight-through gradient);</li>
 *   <li>accumulator: the exact integer sum, then (overflow-aware) wrapped or saturated to A bits;
 *       wrapping the final sum is exact for WRAP; for SATURATE it is the usual approximation
 *       (the processor saturates group by group);</li>
 *   <li>requantization (downscaling-aware): {@code floor(acc * m / 2^s + 1/2)} with the M-bit
 *       {@code m, s} of docs/datapath.md section 3, clamped to the output range; straight-through
 *       gradient through the rounding.</li>
 * </ul>
 *
 * Activations between layers are integers held in float tensors with a per-tensor scale, so
 * that the exported model computes the same numbers. Float32 holds integers exactly below
 * 2^24, which covers every accumulator of the shipped networks except in rare extremes.
 */
final class IntegerForward {
    private final QuantNet net;
    private final QuantTarget target;
    private final QuantState state;
    private final ParameterStore store;
    private final boolean training;

    IntegerForward(QuantNet net, ParameterStore store, boolean training) {
        this.net = net;
        this.target = net.target();
        this.state = net.state();
        this.store = store;
        this.training = training;
    }

    private NDArray value(Parameter p, NDArray like) {
        return store.getValue(p, like.getDevice(), training);
    }

    /**
     * Requantizes an accumulator: forward value {@code clip(floor(held * factor + 1/2), lo, hi)}
     * (the processor's result for the held A-bit values), gradient {@code d(acc) * factor} straight
     * through wrapping and rounding, zero where the output clips and, for SATURATE, where the
     * accumulator clamps. {@code accValue} is {@code acc} detached; {@code held} (freed here unless
     * it is {@code accValue}) comes from {@link #accumulatorValues}.
     */
    private NDArray requantize(NDArray acc, NDArray accValue, NDArray held, NDArray factor, float lo, float hi) {
        NDArray keep = target.overflowAware() && target.overflow() == Overflow.SATURATE
                ? SteOps.equalMask(held, accValue) : null;
        NDArray scaledHeld = held.mul(factor);
        scaledHeld.addi(SteOps.constant(scaledHeld, 0.5f));
        NDArray target = scaledHeld.floor();
        // detached temporaries: freed now rather than at the end of the step, so that the
        // allocator reuses warm memory (autograd never needs them)
        scaledHeld.close();
        if (held != accValue) {
            held.close();
        }
        NDArray y = SteOps.clipStraightThrough(acc, factor, target, lo, hi, keep);
        target.close();
        if (keep != null) {
            keep.close();
        }
        return y;
    }

    NDArray forward(NDArray pixels) {
        if (net.hasBatchNorm()) {
            throw new IllegalStateException("batch norm must be folded into the convolutions"
                    + " before quantization (BatchNormFolding.fold)");
        }
        NDManager mgr = pixels.getManager();
        QuantPlan plan = net.plan();
        NDArray x = pixels; // integers 0..255, scale 1/255
        Map<String, NDArray> saved = new HashMap<>();
        double accMax = FixedPoint.maxSigned(target.accumulatorBits());
        double accMin = FixedPoint.minSigned(target.accumulatorBits());
        for (QuantPlan.Step step : plan.steps()) {
            if (step instanceof QuantPlan.Weighted layer) {
                x = weighted(layer, x, mgr, accMin, accMax);
            } else if (step instanceof QuantPlan.PassThrough pass && pass.op() instanceof Op.MaxPool p) {
                x = Pool.maxPool2d(x, new Shape(p.kernel(), p.kernel()), new Shape(p.stride(), p.stride()),
                        new Shape(0, 0), false);
            } else if (step instanceof QuantPlan.PassThrough) {
                x = x.reshape(x.getShape().get(0), -1); // flatten
            } else if (step instanceof QuantPlan.GlobalPool g) {
                NDArray sum = x.sum(new int[] {2, 3}, true);
                NDArray sumValue = sum.stopGradient();
                NDArray held = accumulatorValues(sumValue, accMin, accMax, target.overflowAware(), null, null);
                float reff = (float) multiplier(g.realMultiplier());
                x = requantize(sum, sumValue, held, SteOps.constant(sum, reff), g.lo(), g.hi());
            } else if (step instanceof QuantPlan.Save s) {
                saved.put(s.tag(), x);
            } else if (step instanceof QuantPlan.Residual res) {
                float f1;
                float f2;
                if (target.downscalingAware()) {
                    FixedPoint.SharedShift q = FixedPoint.chooseSharedShift(res.realMultiplierOfInput(),
                            res.realMultiplierOfSaved(), target.multiplierBits());
                    f1 = (float) q.first().value();
                    f2 = (float) q.second().value();
                } else {
                    f1 = (float) res.realMultiplierOfInput();
                    f2 = (float) res.realMultiplierOfSaved();
                }
                NDArray pre = SteOps.times(x, f1).add(SteOps.times(saved.get(res.tag()), f2));
                NDArray half = pre.stopGradient().add(SteOps.constant(pre, 0.5f));
                NDArray target = half.floor();
                half.close();
                x = SteOps.clipStraightThrough(pre, null, target, res.lo(), res.hi(), null);
                target.close();
            }
        }
        // logits in real units for the loss
        return SteOps.times(x.reshape(x.getShape().get(0), net.classes()), (float) plan.output().scale());
    }

    /** The M-bit multiplier's value for real multiplier {@code r} when downscaling-aware, else {@code r}. */
    private double multiplier(double r) {
        return target.downscalingAware() ? FixedPoint.chooseMultiplier(r, target.multiplierBits()).value() : r;
    }

    /** One conv or dense layer of the quantized forward. */
    private NDArray weighted(QuantPlan.Weighted layer, NDArray input, NDManager mgr, double accMin, double accMax) {
        NDArray x = layer.op() instanceof Op.Dense ? input.reshape(input.getShape().get(0), -1) : input;
        NDArray wv = value(net.weight(layer.name()), x);
        NDArray bv = value(net.bias(layer.name()), x);
        int oc = (int) wv.getShape().get(0);
        int limit = layer.weightLimit();
        float[] sw = layer.weightScales(channelMaxima(wv), wv::toFloatArray, bv::toFloatArray, target);
        Shape wShape = wv.getShape();
        Shape bcast = wShape.dimension() == 4 ? new Shape(oc, 1, 1, 1) : new Shape(oc, 1);
        NDArray swArr = mgr.create(sw).reshape(bcast);
        NDArray wq = SteOps.roundSte(wv.div(swArr)).clip(-limit, limit);
        double[] sxw = layer.biasScales(sw);
        float[] sxwF = new float[oc];
        for (int c = 0; c < oc; c++) {
            sxwF[c] = (float) sxw[c];
        }
        NDArray bq = SteOps.roundSte(bv.div(mgr.create(sxwF))).clip(accMin, accMax);
        PairStage stage = target.overflowAware() ? target.pairStage() : null;
        // the layer that reads the image (pixels at 255: where vpmaddubsw saturates) unless asked for every
        // layer: the stage materialises every intermediate, Cg * k * k / 2 per output, which costs deeper layers
        // more than the rest of the step
        boolean stagedLayer = layer.in().equals(QuantPlan.Tensor.IMAGE) || state.pairStageEverywhere;
        Staged staged = stage != null && stagedLayer && mayLeaveStage(wq, layer, stage)
                ? pairStaged(layer.op(), x, wq, bq, stage) : null;
        NDArray acc;
        if (staged != null) {
            acc = staged.acc();
        } else if (layer.op() instanceof Op.Conv conv) {
            acc = Conv2d.conv2d(x, wq, bq, new Shape(conv.stride(), conv.stride()), new Shape(conv.pad(), conv.pad()),
                    new Shape(1, 1), conv.groups()).singletonOrThrow();
        } else {
            acc = Linear.linear(x, wq, bq).singletonOrThrow();
        }
        // Values (no autograd) and gradient path are separate: the processor's accumulator and
        // requantized output are computed on detached tensors, the gradient flows straight
        // through wrapping and rounding (and is cut where SATURATE clamps).
        NDArray accValue = acc.stopGradient();
        long[] counts = null;
        if (!training || target.overflowAware()) {
            counts = state.overflowCounts.computeIfAbsent(layer.name(), k -> new long[2]);
            counts[1] += acc.size();
        }
        long[] channelCounts = counts != null && state.collectChannelOverflow
                ? state.channelOverflowCounts.computeIfAbsent(layer.name(), k -> new long[oc]) : null;
        // the layer that reads the image: count the outputs some prefix of whose canonical sum can
        // leave A bits (the P/N bound), which the processor reports as events although the final
        // sum fits; its few taps make the bound nearly exact there
        boolean prefix = counts != null && target.overflowAware() && layer.op() instanceof Op.Conv
                && (layer.in().equals(QuantPlan.Tensor.IMAGE) || state.prefixBoundEverywhere) && layer.in().unsigned();
        if (staged != null) {
            try (NDArray affected = staged.saturatedOutputs()) {
                if (counts != null) {
                    // an output one of whose intermediates left the stage is an overflowed output to the schedule
                    counts[0] += SteOps.countNonzero(affected);
                    state.pairSaturations.computeIfAbsent(layer.name(), k -> new long[1])[0] += staged.saturations();
                }
                if (channelCounts != null) {
                    SteOps.addNonzeroPerChannel(affected, channelCounts);
                }
            }
        }
        if (prefix) {
            countPrefixRisk((Op.Conv) layer.op(), x, wq, bq, accMin, accMax, counts, channelCounts);
        }
        NDArray held = accumulatorValues(accValue, accMin, accMax, target.overflowAware(), prefix ? null : counts,
                prefix ? null : channelCounts);
        float[] reff = new float[oc];
        for (int c = 0; c < oc; c++) {
            reff[c] = (float) multiplier(sxw[c] / layer.outScale());
        }
        Shape rShape = acc.getShape().dimension() == 4 ? new Shape(1, oc, 1, 1) : new Shape(1, oc);
        return requantize(acc, accValue, held, mgr.create(reff).reshape(rShape), layer.lo(), layer.hi());
    }

    /** A pair-staged accumulator, the detached outputs one of whose intermediates left the stage (non-zero there), and how many intermediates did. */
    private record Staged(NDArray acc, NDArray saturatedOutputs, long saturations) {
    }

    /**
     * Whether some input in the layer's range can take one of its intermediates (consecutive
     * products of the canonical order, {@code stage.products()} at a time) out of the stage's
     * range: with {@code xmax} the input's largest magnitude, an unsigned input reaches
     * {@code xmax * sum(max(w, 0))} and {@code -xmax * sum(max(-w, 0))} over an intermediate's
     * weights, a signed one at most {@code xmax * sum|w|} either way. Layers that cannot (most of
     * them, once the first layer's pixels are past) skip the stage's simulation: it is exact there.
     */
    private static boolean mayLeaveStage(NDArray wq, QuantPlan.Weighted layer, PairStage stage) {
        float[] w = wq.stopGradient().toFloatArray();
        long[] dims = wq.getShape().getShape();
        int oc = (int) dims[0];
        int perChannel = w.length / oc;
        int cg = dims.length == 4 ? (int) dims[1] : perChannel;
        int kh = dims.length == 4 ? (int) dims[2] : 1;
        int kw = dims.length == 4 ? (int) dims[3] : 1;
        long xmax = layer.in().maxMagnitude();
        boolean unsigned = layer.in().unsigned();
        int parts = (perChannel + stage.products() - 1) / stage.products();
        long[] pos = new long[parts];
        long[] neg = new long[parts];
        for (int o = 0; o < oc; o++) {
            java.util.Arrays.fill(pos, 0);
            java.util.Arrays.fill(neg, 0);
            for (int c = 0; c < cg; c++) {
                for (int ky = 0; ky < kh; ky++) {
                    for (int kx = 0; kx < kw; kx++) {
                        float v = w[o * perChannel + (c * kh + ky) * kw + kx];
                        int part = ((ky * kw + kx) * cg + c) / stage.products();
                        if (v > 0) {
                            pos[part] += (long) v;
                        } else {
                            neg[part] -= (long) v;
                        }
                    }
                }
            }
            for (int j = 0; j < parts; j++) {
                long hi = unsigned ? pos[j] : pos[j] + neg[j];
                long lo = unsigned ? neg[j] : pos[j] + neg[j];
                if (xmax * hi > stage.max() || xmax * lo > -stage.min()) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * The accumulator through the intermediate stage of a real CPU's kernel: the products of each
     * output, in the canonical order (filter row, filter column, input channel of the group; a dense
     * layer's inputs in order), summed {@code stage.products()} at a time, each sum saturated
     * (gradient cut where it saturates) or wrapped (straight through), then added with the bias.
     * A conv's intermediates come from one convolution with the weights masked to each
     * intermediate's taps ({@code O x parts} output channels), a dense layer's from the products
     * themselves; both exact in float (|intermediate| < 2^17 for 8-bit operands).
     */
    private static Staged pairStaged(Op op, NDArray x, NDArray wq, NDArray bq, PairStage stage) {
        long[] d = wq.getShape().getShape();
        int oc = (int) d[0];
        int k = stage.products();
        NDArray parts = intermediates(op, x, wq, k);
        NDArray value = parts.stopGradient();
        NDArray held;
        NDArray staged;
        if (stage.overflow() == dova.sim.Overflow.SATURATE) {
            // clamp's own backward builds boolean masks, several times slower here (SteOps)
            staged = SteOps.clipStraightThrough(parts, null, value, stage.min(), stage.max(), null);
            held = value.clip(stage.min(), stage.max());
        } else {
            double span = Math.pow(2, stage.bits());
            NDArray wraps = value.sub((float) stage.min()).mul((float) (1 / span)).floor().mul((float) span);
            held = value.sub(wraps);
            staged = SteOps.straightThrough(parts, held);
        }
        NDArray left = value.sub(held).abs();
        long saturations = SteOps.countNonzero(left);
        NDArray affected = left.sum(new int[] {2});
        NDArray acc = staged.sum(new int[] {2});
        acc = acc.add(acc.getShape().dimension() == 4 ? bq.reshape(1, oc, 1, 1) : bq.reshape(1, oc));
        return new Staged(acc, affected, saturations);
    }

    /**
     * The intermediates {@code (N, O, parts[, H', W'])} of a conv ({@link #tapIntermediates}) or dense
     * layer, {@code k} consecutive products of the canonical order each (package-private for
     * PairIntermediatesTest).
     */
    static NDArray intermediates(Op op, NDArray x, NDArray wq, int k) {
        NDManager mgr = x.getManager();
        long[] d = wq.getShape().getShape();
        int oc = (int) d[0];
        int n = (int) x.getShape().get(0);
        NDArray parts;
        if (op instanceof Op.Conv conv) {
            parts = tapIntermediates(conv, x, wq, k);
        } else {
            int in = (int) d[1];
            int p = (in + k - 1) / k;
            NDArray xs = x;
            NDArray ws = wq;
            if (p * k != in) {
                xs = xs.concat(mgr.zeros(new Shape(n, p * k - in)), 1);
                ws = ws.concat(mgr.zeros(new Shape(oc, p * k - in)), 1);
            }
            parts = xs.reshape(n, 1, p, k).mul(ws.reshape(1, oc, p, k)).sum(new int[] {3});
        }
        return parts;
    }

    /**
     * A conv's intermediates by stacking: the input windows of all taps, strided and zero-padded,
     * stacked per group in the canonical order (filter row, filter column, channel of the group),
     * so that each intermediate is {@code k} consecutive channels of the stack (zero-padded to a
     * multiple of {@code k}); then one grouped 1x1 convolution with {@code k} input channels per
     * group computes every intermediate of every output channel: as many multiplications as the
     * convolution itself, where a convolution with the weights masked to each intermediate's taps
     * (PairIntermediatesTest's reference) does {@code Cg * kh * kw / k} times more.
     * {@code (N, O, parts, H', W')}.
     */
    private static NDArray tapIntermediates(Op.Conv conv, NDArray x, NDArray wq, int k) {
        NDManager mgr = x.getManager();
        long[] d = wq.getShape().getShape();
        int oc = (int) d[0];
        int cg = (int) d[1];
        int kh = (int) d[2];
        int kw = (int) d[3];
        int groups = conv.groups();
        int og = oc / groups;
        int n = (int) x.getShape().get(0);
        int c = (int) x.getShape().get(1);
        int h = (int) x.getShape().get(2);
        int w = (int) x.getShape().get(3);
        int pad = conv.pad();
        int stride = conv.stride();
        int oh = (h + 2 * pad - kh) / stride + 1;
        int ow = (w + 2 * pad - kw) / stride + 1;
        int flat = kh * kw * cg;
        int p = (flat + k - 1) / k;
        NDArray xp = x;
        if (pad > 0) {
            xp = mgr.zeros(new Shape(n, c, pad, w)).concat(xp, 2).concat(mgr.zeros(new Shape(n, c, pad, w)), 2);
            xp = mgr.zeros(new Shape(n, c, h + 2 * pad, pad)).concat(xp, 3)
                    .concat(mgr.zeros(new Shape(n, c, h + 2 * pad, pad)), 3);
        }
        NDList windows = new NDList();
        for (int ky = 0; ky < kh; ky++) {
            for (int kx = 0; kx < kw; kx++) {
                windows.add(xp.get(new ai.djl.ndarray.index.NDIndex(":, :, {}:{}:{}, {}:{}:{}", ky,
                        ky + (oh - 1) * stride + 1, stride, kx, kx + (ow - 1) * stride + 1, stride)));
            }
        }
        // (N, taps, C, H', W') -> (N, G, taps * Cg, H' * W'): group g's canonical order
        NDArray stack = NDArrays.stack(windows, 1).reshape(n, kh * kw, groups, cg, oh * ow)
                .transpose(0, 2, 1, 3, 4).reshape(n, groups, flat, oh * ow);
        // weights (O, Cg, kh, kw) -> (G, Og, taps * Cg) in the same order
        NDArray ws = wq.transpose(0, 2, 3, 1).reshape(groups, og, flat);
        if (p * k != flat) {
            stack = stack.concat(mgr.zeros(new Shape(n, groups, p * k - flat, oh * ow)), 2);
            ws = ws.concat(mgr.zeros(new Shape(groups, og, p * k - flat)), 2);
        }
        // one 1x1 group per (g, part): its k stacked channels, Og outputs
        NDArray kernel = ws.reshape(groups, og, p, k).transpose(0, 2, 1, 3).reshape(groups * p * og, k, 1, 1);
        NDArray y = Conv2d.conv2d(stack.reshape(n, groups * p * k, oh, ow), kernel, mgr.zeros(new Shape(groups * p * og)),
                new Shape(1, 1), new Shape(0, 0), new Shape(1, 1), groups * p).singletonOrThrow();
        // (N, G, P, Og, H', W') -> (N, O, P, H', W')
        return y.reshape(n, groups, p, og, oh, ow).transpose(0, 1, 3, 2, 4, 5).reshape(n, oc, p, oh, ow);
    }

    /**
     * Adds to {@code counts[0]} (and per channel) the outputs whose {@code [bias - N, bias + P]}
     * leaves the A-bit range, {@code P = x.max(w,0)} and {@code N = x.max(-w,0)} (x >= 0): a
     * superset of the outputs whose final sum overflows, and of those where any prefix of the
     * canonical order does. Detached: no gradient.
     */
    private static void countPrefixRisk(Op.Conv conv, NDArray x, NDArray wq, NDArray bq, double accMin, double accMax,
                                        long[] counts, long[] channelCounts) {
        NDArray xv = x.stopGradient();
        NDArray w = wq.stopGradient();
        NDArray b = bq.stopGradient();
        Shape stride = new Shape(conv.stride(), conv.stride());
        Shape pad = new Shape(conv.pad(), conv.pad());
        try (NDArray wPos = w.maximum(0f); NDArray wNegSigned = w.minimum(0f); NDArray wNeg = wNegSigned.neg();
             NDArray zero = b.zerosLike();
             NDArray p = Conv2d.conv2d(xv, wPos, zero, stride, pad, new Shape(1, 1), conv.groups()).singletonOrThrow();
             NDArray n = Conv2d.conv2d(xv, wNeg, zero, stride, pad, new Shape(1, 1), conv.groups()).singletonOrThrow();
             NDArray bb = b.reshape(1, -1, 1, 1);
             NDArray hi = p.add(bb); NDArray lo = bb.sub(n);
             NDArray overHi = hi.sub((float) accMax); NDArray overLo = lo.sub((float) accMin).neg();
             NDArray rHi = ai.djl.nn.Activation.relu(overHi); NDArray rLo = ai.djl.nn.Activation.relu(overLo);
             NDArray risk = rHi.add(rLo)) {
            counts[0] += SteOps.countNonzero(risk);
            if (channelCounts != null) {
                SteOps.addNonzeroPerChannel(risk, channelCounts);
            }
        }
    }

    /**
     * The A-bit accumulator the processor holds for exact sums {@code value} (no gradient): with
     * {@code simulate}, WRAP is the two's complement wrap ({@code 1 / 2^A} and {@code 2^A} are
     * exact in float) and SATURATE the clamp; without, the exact sums. Wrapping the final sum is
     * exact for WRAP; for SATURATE it is the usual approximation (the processor saturates group
     * by group). Adds the number of sums outside A bits to {@code counts[0]} when non-null. Written
     * for speed: in-place steps on temporaries, float counts (comparisons to bool are slower).
     */
    private NDArray accumulatorValues(NDArray value, double accMin, double accMax, boolean simulate, long[] counts,
                                      long[] channelCounts) {
        if (!simulate && counts == null) {
            return value;
        }
        if (!simulate || target.overflow() == Overflow.SATURATE) {
            NDArray clamped = value.clip(accMin, accMax);
            if (counts != null) {
                try (NDArray diff = clamped.sub(value)) {
                    counts[0] += SteOps.countNonzero(diff);
                    if (channelCounts != null) {
                        SteOps.addNonzeroPerChannel(diff, channelCounts);
                    }
                }
            }
            if (simulate) {
                return clamped;
            }
            clamped.close();
            return value;
        }
        double span = accMax - accMin + 1;
        NDArray wraps = value.sub(SteOps.constant(value, (float) accMin));
        wraps.muli(SteOps.constant(value, (float) (1 / span)));
        wraps = wraps.floor(); // how many times 2^A each sum wraps: non-zero exactly when it overflows
        if (counts != null) {
            counts[0] += SteOps.countNonzero(wraps);
            if (channelCounts != null) {
                SteOps.addNonzeroPerChannel(wraps, channelCounts);
            }
        }
        wraps.muli(SteOps.constant(value, (float) span));
        NDArray held = value.sub(wraps);
        wraps.close();
        return held;
    }

    /** Per-channel {@code max|W[c]|} computed by the engine; only {@code oc} floats reach the host. */
    private static float[] channelMaxima(NDArray w) {
        return w.stopGradient().reshape(w.getShape().get(0), -1).abs().max(new int[] {1}).toFloatArray();
    }
}
