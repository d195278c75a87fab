package dova.compress.net;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.pooling.Pool;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import dova.sim.FixedPoint;
import dova.sim.Overflow;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A DJL block that runs an {@link Op} chain either in FP32 or as a simulation of the
 * processor's integer datapath (docs/datapath.md), the forward pass of quantization-aware training:
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
public final class QuantNet extends AbstractBlock {
    private static final byte VERSION = 1;
    /** Batch-norm running-average momentum (DJL's convention: the share of the old value kept). */
    static final float BN_MOMENTUM = 0.9f;
    public static final float BN_EPSILON = 1e-5f;

    private final Architecture architecture;
    private final List<Op> ops;
    private final int classes;
    private final Shape inputShape;
    private final Map<String, Parameter> weights = new LinkedHashMap<>();
    private final Map<String, Parameter> biases = new LinkedHashMap<>();
    /** Batch-norm parameters of the convs that have one. */
    private final Map<String, BatchNormParameters> batchNorms = new LinkedHashMap<>();
    private final NetShapes shapes;
    private final QuantState settings = new QuantState();
    private Mode mode = Mode.FP32;
    private QuantTarget target;

    /** What the forward pass computes. */
    public enum Mode {
        /** The FP32 network. */
        FP32,
        /** The FP32 network, recording each tensor's maxima for {@link QuantState#finishCalibration}. */
        CALIBRATING,
        /** The simulation of the processor's integer datapath at {@link #target()}. */
        QUANTIZED
    }

    /** A convolution's batch norm: scale, shift, and the running statistics that inference uses. */
    public record BatchNormParameters(Parameter gamma, Parameter beta, Parameter runningMean, Parameter runningVar) {
    }

    public QuantNet(Architecture architecture, List<Op> ops, int classes, int channels, int height, int width) {
        super(VERSION);
        this.architecture = architecture;
        this.ops = List.copyOf(ops);
        this.classes = classes;
        this.inputShape = new Shape(channels, height, width);
        this.shapes = new NetShapes(this.ops, classes, channels, height, width);
        for (Op op : this.ops) {
            if (op instanceof Op.Conv conv) {
                int c = shapes.input(conv.name())[0];
                weights.put(conv.name(), addParameter(Parameter.builder().setName(conv.name() + "_weight")
                        .setType(Parameter.Type.WEIGHT)
                        .optShape(new Shape(conv.outChannels(), c / conv.groups(), conv.kernel(), conv.kernel())).build()));
                biases.put(conv.name(), addParameter(Parameter.builder().setName(conv.name() + "_bias")
                        .setType(Parameter.Type.BIAS).optShape(new Shape(conv.outChannels())).build()));
                if (conv.batchNorm()) {
                    Shape per = new Shape(conv.outChannels());
                    batchNorms.put(conv.name(), new BatchNormParameters(
                        addParameter(Parameter.builder().setName(conv.name() + "_gamma").setType(Parameter.Type.GAMMA)
                                .optShape(per).build()),
                        addParameter(Parameter.builder().setName(conv.name() + "_beta").setType(Parameter.Type.BETA)
                                .optShape(per).build()),
                        addParameter(Parameter.builder().setName(conv.name() + "_runningMean")
                                .setType(Parameter.Type.RUNNING_MEAN).optShape(per).optRequiresGrad(false).build()),
                        addParameter(Parameter.builder().setName(conv.name() + "_runningVar")
                                .setType(Parameter.Type.RUNNING_VAR).optShape(per).optRequiresGrad(false).build())));
                }
                settings.weightLimits.put(conv.name(), 127);
            } else if (op instanceof Op.Dense dense) {
                int c = shapes.input(dense.name())[0];
                weights.put(dense.name(), addParameter(Parameter.builder().setName(dense.name() + "_weight")
                        .setType(Parameter.Type.WEIGHT).optShape(new Shape(dense.outputs(), c)).build()));
                biases.put(dense.name(), addParameter(Parameter.builder().setName(dense.name() + "_bias")
                        .setType(Parameter.Type.BIAS).optShape(new Shape(dense.outputs())).build()));
                settings.weightLimits.put(dense.name(), 127);
            }
        }
    }

    public Architecture architecture() {
        return architecture;
    }

    public List<Op> ops() {
        return ops;
    }

    public int classes() {
        return classes;
    }

    public Shape inputShape() {
        return inputShape;
    }

    public QuantState state() {
        return settings;
    }

    public Mode mode() {
        return mode;
    }

    /** The processor the quantized forward simulates, or null before {@link #quantize}. */
    public QuantTarget target() {
        return target;
    }

    /** From now on the forward simulates {@code target}'s integer datapath. */
    public void quantize(QuantTarget target) {
        if (target == null) {
            throw new IllegalArgumentException("quantize: target must be set");
        }
        this.target = target;
        this.mode = Mode.QUANTIZED;
    }

    /**
     * Sets the mode; {@link Mode#QUANTIZED} needs a target set before by {@link #quantize}
     * (switching back and forth keeps it).
     */
    public void setMode(Mode mode) {
        if (mode == Mode.QUANTIZED && target == null) {
            throw new IllegalStateException("no quantization target: call quantize(QuantTarget) first");
        }
        this.mode = mode;
    }

    /** The conv / dense op whose output {@code op} reads directly (through pools), or null. */
    public String producer(String op) {
        return shapes.producer(op);
    }

    /** The network's shapes (input of every weighted op, signs, pool areas). */
    public NetShapes shapes() {
        return shapes;
    }

    /** The integer datapath of this network under its current quantization state. */
    public QuantPlan plan() {
        return QuantPlan.of(ops, shapes, settings);
    }

    public Parameter weight(String op) {
        return weights.get(op);
    }

    public Parameter bias(String op) {
        return biases.get(op);
    }

    /** The batch norm of a conv that has one, or null. */
    public BatchNormParameters batchNorm(String op) {
        return batchNorms.get(op);
    }

    /** Whether any conv still has batch norm (FP32 only: fold it before quantization or export). */
    public boolean hasBatchNorm() {
        return !batchNorms.isEmpty();
    }

    /** The op list with every batch norm removed (the shape of a network after folding). */
    public static List<Op> withoutBatchNorm(List<Op> ops) {
        List<Op> out = new ArrayList<>();
        for (Op op : ops) {
            if (op instanceof Op.Conv c && c.batchNorm()) {
                out.add(new Op.Conv(c.name(), c.outChannels(), c.kernel(), c.stride(), c.pad(), c.groups(), c.relu(), false));
            } else {
                out.add(op);
            }
        }
        return out;
    }

    /** Input shape {C, H, W} of a conv or dense op. */
    public int[] inShape(String op) {
        return shapes.input(op);
    }

    /** Whether the tensor produced by a conv, dense, residual or global-pool op is unsigned. */
    public boolean unsignedOutput(String op) {
        return shapes.unsignedOutput(op);
    }

    /** Largest integer of each op output at its current width (255 / 127 at 8 bits), for calibration. */
    public Map<String, Integer> outputQmax() {
        Map<String, Integer> m = new LinkedHashMap<>();
        for (String k : shapes.requantizedOutputs()) {
            m.put(k, settings.qmax(k, shapes.unsignedOutput(k)));
        }
        return m;
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {new Shape(inputShapes[0].get(0), classes)};
    }

    @Override
    protected NDList forwardInternal(ParameterStore store, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x = inputs.singletonOrThrow();
        return new NDList(mode == Mode.QUANTIZED ? forwardInteger(store, x, training) : forwardFloat(store, x, training));
    }

    private NDArray value(ParameterStore store, Parameter p, NDArray like, boolean training) {
        return store.getValue(p, like.getDevice(), training);
    }

    private void observe(String name, NDArray y) {
        if (mode == Mode.CALIBRATING) {
            double max = y.abs().max().toType(DataType.FLOAT64, false).getDouble();
            settings.observedMax.computeIfAbsent(name, k -> new double[2]);
            double[] acc = settings.observedMax.get(name);
            acc[0] += max;
            acc[1] += 1;
        }
    }

    /** Pixels arrive as 0..255 floats; the FP32 network sees them scaled to [0, 1]. */
    private NDArray forwardFloat(ParameterStore store, NDArray pixels, boolean training) {
        NDArray x = pixels.div(255f);
        Map<String, NDArray> saved = new HashMap<>();
        for (Op op : ops) {
            if (op instanceof Op.Conv conv) {
                x = Conv2d.conv2d(x, value(store, weights.get(conv.name()), x, training),
                        value(store, biases.get(conv.name()), x, training), new Shape(conv.stride(), conv.stride()),
                        new Shape(conv.pad(), conv.pad()), new Shape(1, 1), conv.groups()).singletonOrThrow();
                if (conv.batchNorm()) {
                    BatchNormParameters bn = batchNorms.get(conv.name());
                    x = ai.djl.nn.norm.BatchNorm.batchNorm(x, value(store, bn.runningMean(), x, training),
                            value(store, bn.runningVar(), x, training), value(store, bn.gamma(), x, training),
                            value(store, bn.beta(), x, training), 1, BN_MOMENTUM, BN_EPSILON, training).singletonOrThrow();
                }
                if (conv.relu()) {
                    x = ai.djl.nn.Activation.relu(x);
                }
                observe(conv.name(), x);
            } else if (op instanceof Op.Dense dense) {
                x = x.reshape(x.getShape().get(0), -1); // (N, C, 1, 1) after a global pool
                x = Linear.linear(x, value(store, weights.get(dense.name()), x, training),
                        value(store, biases.get(dense.name()), x, training)).singletonOrThrow();
                if (dense.relu()) {
                    x = ai.djl.nn.Activation.relu(x);
                }
                observe(dense.name(), x);
            } else if (op instanceof Op.MaxPool p) {
                x = Pool.maxPool2d(x, new Shape(p.kernel(), p.kernel()), new Shape(p.stride(), p.stride()),
                        new Shape(0, 0), false);
            } else if (op instanceof Op.GlobalAvgPool g) {
                x = Pool.globalAvgPool2d(x);
                x = x.reshape(x.getShape().get(0), -1, 1, 1);
                observe(g.name(), x);
            } else if (op instanceof Op.Flatten) {
                x = x.reshape(x.getShape().get(0), -1);
            } else if (op instanceof Op.Save s) {
                saved.put(s.tag(), x);
            } else if (op instanceof Op.Residual r) {
                x = x.add(saved.get(r.tag()));
                if (r.relu()) {
                    x = ai.djl.nn.Activation.relu(x);
                }
                observe(r.name(), x);
            }
        }
        return x.reshape(x.getShape().get(0), classes);
    }

    /**
     * {@code v} times a constant, through a scalar array that stays attached to {@code v}'s manager.
     * DJL's {@code mul(Number)}, {@code div(Number)}, {@code add(Number)} and {@code sub(Number)} wrap
     * the number in a zero-copy native tensor and close it as soon as the op returns, but autograd
     * keeps that tensor for the backward pass: once the garbage collector frees its buffer, the
     * gradients read freed memory (non-finite gradients at random steps). Every constant on the
     * training path therefore goes through this method or {@link #constant}.
     */
    static NDArray times(NDArray v, float f) {
        return v.mul(constant(v, f));
    }

    /** A scalar constant attached to {@code like}'s manager, alive until that manager or scope closes. */
    static NDArray constant(NDArray like, float f) {
        return like.getManager().create(f);
    }

    /** Rounds half to even (as torch.round and Math.rint) with a straight-through gradient. */
    static NDArray roundSte(NDArray v) {
        NDArray value = v.stopGradient();
        return v.add(value.round().sub(value)); // one recorded op; |round(v) - v| <= 1/2 is exact in float
    }

    /**
     * {@code target} as the forward value, {@code v}'s gradient: {@code target + (v - v)} is
     * {@code target} exactly (unlike {@code v + (target - v)} when the two are far apart, as
     * wrapped sums are), and costs two recorded ops whose backward passes are identities.
     */
    static NDArray straightThrough(NDArray v, NDArray target) {
        return v.sub(v.stopGradient()).add(target);
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
                ? equalMask(held, accValue) : null;
        NDArray scaledHeld = held.mul(factor);
        scaledHeld.addi(constant(scaledHeld, 0.5f));
        NDArray target = scaledHeld.floor();
        // detached temporaries: freed now rather than at the end of the step, so that the
        // allocator reuses warm memory (autograd never needs them)
        scaledHeld.close();
        if (held != accValue) {
            held.close();
        }
        NDArray y = clipStraightThrough(acc, factor, target, lo, hi, keep);
        target.close();
        if (keep != null) {
            keep.close();
        }
        return y;
    }

    /**
     * Forward value {@code clip(target, lo, hi)} ({@code target}: detached integers); gradient
     * {@code d(source) * factor} where {@code target} lies in {@code [lo, hi]} and {@code keep}
     * (a 0/1 float mask, or null) is 1, zero elsewhere. This is clamp's own backward rule, folded
     * into a single recorded multiplication with a float mask: clamp's backward builds boolean
     * masks, several times slower than float ops on this engine, and dominated the step.
     */
    static NDArray clipStraightThrough(NDArray source, NDArray factor, NDArray target, float lo, float hi, NDArray keep) {
        NDArray out = target.clip(lo, hi);
        NDArray mask = equalMask(out, target);
        if (keep != null) {
            mask.muli(keep);
        }
        if (factor != null) {
            mask.muli(factor); // broadcast in place
        }
        NDArray y = straightThrough(source.mul(mask), out);
        mask.close(); // autograd holds its own reference
        out.close();
        return y;
    }

    /** 1 where the integer-valued tensors {@code a} and {@code b} are equal, 0 elsewhere: relu(1 - |a - b|), float ops only. */
    static NDArray equalMask(NDArray a, NDArray b) {
        NDArray d = a.sub(b);
        NDArray m = d.abs();
        d.close();
        m.negi();
        m.addi(constant(m, 1f));
        NDArray mask = ai.djl.nn.Activation.relu(m);
        m.close();
        return mask;
    }

    /** Per-channel {@code max|W[c]|} computed by the engine; only {@code oc} floats reach the host. */
    private static float[] channelMaxima(NDArray w) {
        return w.stopGradient().reshape(w.getShape().get(0), -1).abs().max(new int[] {1}).toFloatArray();
    }

    /** Per-channel weight scales {@code max|W[c]| / limit} in float32, as the exporter computes them. */
    public static float[] weightScales(float[] w, int outChannels, int limit) {
        int per = w.length / outChannels;
        float[] max = new float[outChannels];
        for (int c = 0; c < outChannels; c++) {
            for (int i = c * per; i < (c + 1) * per; i++) {
                max[c] = Math.max(max[c], Math.abs(w[i]));
            }
        }
        return scalesFromMaxima(max, limit);
    }

    /** {@code max(maxima[c], 1e-8) / limit} in float32; non-finite maxima mean training diverged. */
    static float[] scalesFromMaxima(float[] maxima, int limit) {
        float[] s = new float[maxima.length];
        for (int c = 0; c < maxima.length; c++) {
            if (!Float.isFinite(maxima[c])) {
                throw new IllegalStateException("output channel " + c + " has non-finite weights: training diverged"
                        + " (try a lower learning rate)");
            }
            s[c] = Math.max(maxima[c], 1e-8f) / (float) limit;
        }
        return s;
    }

    /**
     * Guaranteed mode: raises {@code Sw[c]} until {@code (sum|round(W/Sw)| * xmax + |bias|)} fits
     * A bits for every input, so that no partial sum can overflow (the A2Q-style L1 bound).
     */
    public static float[] guaranteedScales(float[] w, float[] bias, float[] scales, double sx, int xmax, int accBits) {
        int oc = scales.length;
        int per = w.length / oc;
        long bound = FixedPoint.maxSigned(accBits);
        float[] s = scales.clone();
        for (int c = 0; c < oc; c++) {
            for (int iter = 0; iter < 200; iter++) {
                long l1 = 0;
                for (int i = c * per; i < (c + 1) * per; i++) {
                    l1 += Math.abs((long) Math.rint(w[i] / s[c]));
                }
                long b = Math.abs((long) Math.rint(bias[c] / (sx * s[c])));
                if (l1 * xmax + b <= bound) {
                    break;
                }
                s[c] *= 1.05f;
            }
        }
        return s;
    }

    private NDArray forwardInteger(ParameterStore store, NDArray pixels, boolean training) {
        if (hasBatchNorm()) {
            throw new IllegalStateException("batch norm of " + batchNorms.keySet() + " must be folded into the convolutions"
                    + " before quantization (BatchNormFolding.fold)");
        }
        NDManager mgr = pixels.getManager();
        QuantPlan plan = plan();
        NDArray x = pixels; // integers 0..255, scale 1/255
        Map<String, NDArray> saved = new HashMap<>();
        double accMax = FixedPoint.maxSigned(target.accumulatorBits());
        double accMin = FixedPoint.minSigned(target.accumulatorBits());
        for (QuantPlan.Step step : plan.steps()) {
            if (step instanceof QuantPlan.Weighted layer) {
                x = weighted(store, layer, x, mgr, accMin, accMax, training);
            } else if (step instanceof QuantPlan.PassThrough pass && pass.op() instanceof Op.MaxPool p) {
                x = Pool.maxPool2d(x, new Shape(p.kernel(), p.kernel()), new Shape(p.stride(), p.stride()),
                        new Shape(0, 0), false);
            } else if (step instanceof QuantPlan.PassThrough) {
                x = x.reshape(x.getShape().get(0), -1); // flatten
            } else if (step instanceof QuantPlan.GlobalPool g) {
                NDArray sum = x.sum(new int[] {2, 3}, true);
                NDArray sumValue = sum.stopGradient();
                NDArray held = accumulatorValues(sumValue, accMin, accMax, target.overflowAware(), null);
                float reff = (float) multiplier(g.realMultiplier());
                x = requantize(sum, sumValue, held, constant(sum, reff), g.lo(), g.hi());
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
                NDArray pre = times(x, f1).add(times(saved.get(res.tag()), f2));
                NDArray half = pre.stopGradient().add(constant(pre, 0.5f));
                NDArray target = half.floor();
                half.close();
                x = clipStraightThrough(pre, null, target, res.lo(), res.hi(), null);
                target.close();
            }
        }
        // logits in real units for the loss
        return times(x.reshape(x.getShape().get(0), classes), (float) plan.output().scale());
    }

    /** The M-bit multiplier's value for real multiplier {@code r} when downscaling-aware, else {@code r}. */
    private double multiplier(double r) {
        return target.downscalingAware() ? FixedPoint.chooseMultiplier(r, target.multiplierBits()).value() : r;
    }

    /** One conv or dense layer of the quantized forward. */
    private NDArray weighted(ParameterStore store, QuantPlan.Weighted layer, NDArray input, NDManager mgr, double accMin,
                             double accMax, boolean training) {
        NDArray x = layer.op() instanceof Op.Dense ? input.reshape(input.getShape().get(0), -1) : input;
        NDArray wv = value(store, weights.get(layer.name()), x, training);
        NDArray bv = value(store, biases.get(layer.name()), x, training);
        int oc = (int) wv.getShape().get(0);
        int limit = layer.weightLimit();
        float[] sw = layer.weightScales(channelMaxima(wv), wv::toFloatArray, bv::toFloatArray, target);
        Shape wShape = wv.getShape();
        Shape bcast = wShape.dimension() == 4 ? new Shape(oc, 1, 1, 1) : new Shape(oc, 1);
        NDArray swArr = mgr.create(sw).reshape(bcast);
        NDArray wq = roundSte(wv.div(swArr)).clip(-limit, limit);
        double[] sxw = layer.biasScales(sw);
        float[] sxwF = new float[oc];
        for (int c = 0; c < oc; c++) {
            sxwF[c] = (float) sxw[c];
        }
        NDArray bq = roundSte(bv.div(mgr.create(sxwF))).clip(accMin, accMax);
        NDArray acc;
        if (layer.op() instanceof Op.Conv conv) {
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
            counts = settings.overflowCounts.computeIfAbsent(layer.name(), k -> new long[2]);
            counts[1] += acc.size();
        }
        NDArray held = accumulatorValues(accValue, accMin, accMax, target.overflowAware(), counts);
        float[] reff = new float[oc];
        for (int c = 0; c < oc; c++) {
            reff[c] = (float) multiplier(sxw[c] / layer.outScale());
        }
        Shape rShape = acc.getShape().dimension() == 4 ? new Shape(1, oc, 1, 1) : new Shape(1, oc);
        return requantize(acc, accValue, held, mgr.create(reff).reshape(rShape), layer.lo(), layer.hi());
    }

    /**
     * The A-bit accumulator the processor holds for exact sums {@code value} (no gradient): with
     * {@code simulate}, WRAP is the two's complement wrap ({@code 1 / 2^A} and {@code 2^A} are
     * exact in float) and SATURATE the clamp; without, the exact sums. Wrapping the final sum is
     * exact for WRAP; for SATURATE it is the usual approximation (the processor saturates group
     * by group). Adds the number of sums outside A bits to {@code counts[0]} when non-null. Written
     * for speed: in-place steps on temporaries, float counts (comparisons to bool are slower).
     */
    private NDArray accumulatorValues(NDArray value, double accMin, double accMax, boolean simulate, long[] counts) {
        if (!simulate && counts == null) {
            return value;
        }
        if (!simulate || target.overflow() == Overflow.SATURATE) {
            NDArray clamped = value.clip(accMin, accMax);
            if (counts != null) {
                try (NDArray diff = clamped.sub(value)) {
                    counts[0] += countNonzero(diff);
                }
            }
            if (simulate) {
                return clamped;
            }
            clamped.close();
            return value;
        }
        double span = accMax - accMin + 1;
        NDArray wraps = value.sub(constant(value, (float) accMin));
        wraps.muli(constant(value, (float) (1 / span)));
        wraps = wraps.floor(); // how many times 2^A each sum wraps: non-zero exactly when it overflows
        if (counts != null) {
            counts[0] += countNonzero(wraps);
        }
        wraps.muli(constant(value, (float) span));
        NDArray held = value.sub(wraps);
        wraps.close();
        return held;
    }

    /**
     * Non-zero elements of an integer-valued float tensor: {@code sum(min(|v|, 1))} in float ops
     * (a boolean reduction is several times slower on this engine), temporaries freed at once.
     * Exact: every partial sum is an integer below 2^24 (float64 for larger tensors).
     */
    private static long countNonzero(NDArray v) {
        try (NDArray abs = v.abs(); NDArray one = abs.minimum(1f);
             NDArray wide = one.toType(v.size() < (1 << 24) ? DataType.FLOAT32 : DataType.FLOAT64, false);
             NDArray sum = wide.sum()) {
            return Math.round(sum.toType(DataType.FLOAT64, false).getDouble());
        }
    }

    /** Copies of the op list with channel counts as given (for pruning). */
    public static List<Op> withChannels(List<Op> ops, Map<String, Integer> channels) {
        List<Op> out = new ArrayList<>();
        for (Op op : ops) {
            if (op instanceof Op.Conv c && channels.containsKey(c.name())) {
                int n = channels.get(c.name());
                out.add(c.withOutChannels(n));
            } else {
                out.add(op);
            }
        }
        return out;
    }
}
