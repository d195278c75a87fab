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
    /** Batch-norm parameters of convs that have one: gamma, beta, running mean, running variance. */
    private final Map<String, Parameter[]> batchNorms = new LinkedHashMap<>();
    /** Input shape (C, H, W) of each conv / dense op, and whether each op's output is unsigned. */
    private final Map<String, int[]> inShapes = new HashMap<>();
    private final Map<String, Boolean> unsignedOut = new LinkedHashMap<>();
    private final QuantSettings settings = new QuantSettings();
    /** For each conv / dense op, the conv / dense op whose output it reads (through pools and flatten), if any. */
    private final Map<String, String> producers = new HashMap<>();

    public QuantNet(Architecture architecture, List<Op> ops, int classes, int channels, int height, int width) {
        super(VERSION);
        this.architecture = architecture;
        this.ops = List.copyOf(ops);
        this.classes = classes;
        this.inputShape = new Shape(channels, height, width);
        int c = channels;
        int h = height;
        int w = width;
        boolean unsigned = true; // pixels
        Map<String, int[]> saved = new HashMap<>();
        String producer = null; // the weighted op whose output is the current tensor
        for (Op op : ops) {
            if (op instanceof Op.Conv || op instanceof Op.Dense) {
                String n = op instanceof Op.Conv cv ? cv.name() : ((Op.Dense) op).name();
                if (producer != null) {
                    producers.put(n, producer);
                }
                producer = n;
            } else if (op instanceof Op.Residual || op instanceof Op.GlobalAvgPool || op instanceof Op.Save) {
                producer = null; // residual and pooled tensors are shared or fixed: never narrowed
            }
            if (op instanceof Op.Conv conv) {
                if (c % conv.groups() != 0 || conv.outChannels() % conv.groups() != 0) {
                    throw new IllegalArgumentException(conv.name() + ": groups " + conv.groups() + " must divide "
                            + c + " input and " + conv.outChannels() + " output channels");
                }
                inShapes.put(conv.name(), new int[] {c, h, w});
                weights.put(conv.name(), addParameter(Parameter.builder().setName(conv.name() + "_weight")
                        .setType(Parameter.Type.WEIGHT)
                        .optShape(new Shape(conv.outChannels(), c / conv.groups(), conv.kernel(), conv.kernel())).build()));
                biases.put(conv.name(), addParameter(Parameter.builder().setName(conv.name() + "_bias")
                        .setType(Parameter.Type.BIAS).optShape(new Shape(conv.outChannels())).build()));
                if (conv.batchNorm()) {
                    Shape per = new Shape(conv.outChannels());
                    batchNorms.put(conv.name(), new Parameter[] {
                        addParameter(Parameter.builder().setName(conv.name() + "_gamma").setType(Parameter.Type.GAMMA)
                                .optShape(per).build()),
                        addParameter(Parameter.builder().setName(conv.name() + "_beta").setType(Parameter.Type.BETA)
                                .optShape(per).build()),
                        addParameter(Parameter.builder().setName(conv.name() + "_runningMean")
                                .setType(Parameter.Type.RUNNING_MEAN).optShape(per).optRequiresGrad(false).build()),
                        addParameter(Parameter.builder().setName(conv.name() + "_runningVar")
                                .setType(Parameter.Type.RUNNING_VAR).optShape(per).optRequiresGrad(false).build())});
                }
                c = conv.outChannels();
                h = (h + 2 * conv.pad() - conv.kernel()) / conv.stride() + 1;
                w = (w + 2 * conv.pad() - conv.kernel()) / conv.stride() + 1;
                unsigned = conv.relu();
                unsignedOut.put(conv.name(), unsigned);
                settings.weightLimits.put(conv.name(), 127);
            } else if (op instanceof Op.Dense dense) {
                if (h != 1 || w != 1) {
                    throw new IllegalArgumentException(dense.name() + ": needs a flattened or pooled input, got "
                            + c + "x" + h + "x" + w);
                }
                inShapes.put(dense.name(), new int[] {c, 1, 1});
                weights.put(dense.name(), addParameter(Parameter.builder().setName(dense.name() + "_weight")
                        .setType(Parameter.Type.WEIGHT).optShape(new Shape(dense.outputs(), c)).build()));
                biases.put(dense.name(), addParameter(Parameter.builder().setName(dense.name() + "_bias")
                        .setType(Parameter.Type.BIAS).optShape(new Shape(dense.outputs())).build()));
                c = dense.outputs();
                unsigned = dense.relu();
                unsignedOut.put(dense.name(), unsigned);
                settings.weightLimits.put(dense.name(), 127);
            } else if (op instanceof Op.MaxPool p) {
                h = (h - p.kernel()) / p.stride() + 1;
                w = (w - p.kernel()) / p.stride() + 1;
            } else if (op instanceof Op.GlobalAvgPool g) {
                h = 1;
                w = 1;
                unsignedOut.put(g.name(), unsigned);
            } else if (op instanceof Op.Flatten) {
                c = c * h * w;
                h = 1;
                w = 1;
            } else if (op instanceof Op.Save s) {
                saved.put(s.tag(), new int[] {c, h, w});
            } else if (op instanceof Op.Residual r) {
                int[] s = saved.get(r.tag());
                if (s == null || s[0] != c || s[1] != h || s[2] != w) {
                    throw new IllegalArgumentException(r.name() + ": residual operand shapes differ");
                }
                unsigned = r.relu();
                unsignedOut.put(r.name(), unsigned);
            }
        }
        if (c != classes || h != 1 || w != 1) {
            throw new IllegalArgumentException("network ends in " + c + "x" + h + "x" + w + ", expected " + classes + " logits");
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

    public QuantSettings settings() {
        return settings;
    }

    /** The conv / dense op whose output {@code op} reads directly (through pools), or null. */
    public String producer(String op) {
        return producers.get(op);
    }

    public Parameter weight(String op) {
        return weights.get(op);
    }

    public Parameter bias(String op) {
        return biases.get(op);
    }

    /** Gamma, beta, running mean and running variance of a conv with batch norm, or null. */
    public Parameter[] batchNorm(String op) {
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
        return inShapes.get(op).clone();
    }

    /** Whether the tensor produced by a conv, dense, residual or global-pool op is unsigned. */
    public boolean unsignedOutput(String op) {
        return unsignedOut.get(op);
    }

    /** Largest integer of each op output at its current width (255 / 127 at 8 bits), for calibration. */
    public Map<String, Integer> outputQmax() {
        Map<String, Integer> m = new LinkedHashMap<>();
        unsignedOut.forEach((k, v) -> m.put(k, settings.qmax(k, v)));
        return m;
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {new Shape(inputShapes[0].get(0), classes)};
    }

    @Override
    protected NDList forwardInternal(ParameterStore store, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x = inputs.singletonOrThrow();
        return new NDList(settings.quantized ? forwardInteger(store, x, training) : forwardFloat(store, x, training));
    }

    private NDArray value(ParameterStore store, Parameter p, NDArray like, boolean training) {
        return store.getValue(p, like.getDevice(), training);
    }

    private void observe(String name, NDArray y) {
        if (settings.calibrating) {
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
                    Parameter[] bn = batchNorms.get(conv.name());
                    x = ai.djl.nn.norm.BatchNorm.batchNorm(x, value(store, bn[2], x, training), value(store, bn[3], x, training),
                            value(store, bn[0], x, training), value(store, bn[1], x, training), 1, BN_MOMENTUM, BN_EPSILON,
                            training).singletonOrThrow();
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
        NDArray keep = settings.overflowAware && settings.overflow == Overflow.SATURATE
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
        NDArray x = pixels;                     // integers 0..255, scale 1/255
        double sx = 1 / 255.0;
        boolean xUnsigned = true;
        int xMax = 255; // largest |integer| of the current tensor
        Map<String, NDArray> saved = new HashMap<>();
        Map<String, Double> savedScale = new HashMap<>();
        double accMax = FixedPoint.maxSigned(settings.accumulatorBits);
        double accMin = FixedPoint.minSigned(settings.accumulatorBits);
        for (Op op : ops) {
            if (op instanceof Op.Conv || op instanceof Op.Dense) {
                String name = op instanceof Op.Conv c ? c.name() : ((Op.Dense) op).name();
                boolean relu = op instanceof Op.Conv c ? c.relu() : ((Op.Dense) op).relu();
                if (op instanceof Op.Dense) {
                    x = x.reshape(x.getShape().get(0), -1);
                }
                NDArray wv = value(store, weights.get(name), x, training);
                NDArray bv = value(store, biases.get(name), x, training);
                int oc = (int) wv.getShape().get(0);
                int limit = settings.weightLimits.get(name);
                float[] sw = scalesFromMaxima(channelMaxima(wv), limit);
                if (settings.guaranteed) {
                    sw = guaranteedScales(wv.toFloatArray(), bv.toFloatArray(), sw, sx, xMax,
                            settings.accumulatorBits);
                }
                Shape wShape = wv.getShape();
                Shape bcast = wShape.dimension() == 4 ? new Shape(oc, 1, 1, 1) : new Shape(oc, 1);
                NDArray swArr = mgr.create(sw).reshape(bcast);
                NDArray wq = roundSte(wv.div(swArr)).clip(-limit, limit);
                double[] sxw = new double[oc];
                float[] sxwF = new float[oc];
                for (int c = 0; c < oc; c++) {
                    sxw[c] = sx * sw[c];
                    sxwF[c] = (float) sxw[c];
                }
                NDArray bq = roundSte(bv.div(mgr.create(sxwF))).clip(accMin, accMax);
                NDArray acc;
                if (op instanceof Op.Conv conv) {
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
                if (!training || settings.overflowAware) {
                    counts = settings.overflowCounts.computeIfAbsent(name, k -> new long[2]);
                    counts[1] += acc.size();
                }
                NDArray held = accumulatorValues(accValue, accMin, accMax, settings.overflowAware, counts);
                double sy = settings.activationScales.get(name);
                float[] reff = new float[oc];
                for (int c = 0; c < oc; c++) {
                    double r = sxw[c] / sy;
                    reff[c] = (float) (settings.downscalingAware
                            ? FixedPoint.chooseMultiplier(r, settings.multiplierBits).value() : r);
                }
                Shape rShape = acc.getShape().dimension() == 4 ? new Shape(1, oc, 1, 1) : new Shape(1, oc);
                int qmax = settings.qmax(name, relu);
                x = requantize(acc, accValue, held, mgr.create(reff).reshape(rShape), relu ? 0 : -qmax - 1, qmax);
                sx = sy;
                xUnsigned = relu;
                xMax = relu ? qmax : qmax + 1;
            } else if (op instanceof Op.MaxPool p) {
                x = Pool.maxPool2d(x, new Shape(p.kernel(), p.kernel()), new Shape(p.stride(), p.stride()),
                        new Shape(0, 0), false);
            } else if (op instanceof Op.GlobalAvgPool g) {
                int gh = (int) x.getShape().get(2);
                int gw = (int) x.getShape().get(3);
                NDArray sum = x.sum(new int[] {2, 3}, true);
                NDArray sumValue = sum.stopGradient();
                NDArray held = accumulatorValues(sumValue, accMin, accMax, settings.overflowAware, null);
                double sy = settings.activationScales.get(g.name());
                double r = sx / (sy * gh * gw); // the exporter's expression, operand for operand
                float reff = (float) (settings.downscalingAware ? FixedPoint.chooseMultiplier(r, settings.multiplierBits).value() : r);
                x = requantize(sum, sumValue, held, constant(sum, reff), xUnsigned ? 0 : -128, xUnsigned ? 255 : 127);
                sx = sy;
                xMax = xUnsigned ? 255 : 128;
            } else if (op instanceof Op.Flatten) {
                x = x.reshape(x.getShape().get(0), -1);
            } else if (op instanceof Op.Save s) {
                saved.put(s.tag(), x);
                savedScale.put(s.tag(), sx);
            } else if (op instanceof Op.Residual res) {
                double sy = settings.activationScales.get(res.name());
                double r1 = sx / sy;
                double r2 = savedScale.get(res.tag()) / sy;
                float f1;
                float f2;
                if (settings.downscalingAware) {
                    long[] q = FixedPoint.chooseSharedShift(r1, r2, settings.multiplierBits);
                    f1 = (float) Math.scalb((double) q[0], (int) -q[2]);
                    f2 = (float) Math.scalb((double) q[1], (int) -q[2]);
                } else {
                    f1 = (float) r1;
                    f2 = (float) r2;
                }
                NDArray pre = times(x, f1).add(times(saved.get(res.tag()), f2));
                NDArray half = pre.stopGradient().add(constant(pre, 0.5f));
                NDArray target = half.floor();
                half.close();
                x = clipStraightThrough(pre, null, target, res.relu() ? 0 : -128, res.relu() ? 255 : 127, null);
                target.close();
                sx = sy;
                xUnsigned = res.relu();
                xMax = xUnsigned ? 255 : 128;
            }
        }
        // logits in real units for the loss
        return times(x.reshape(x.getShape().get(0), classes), (float) sx);
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
        if (!simulate || settings.overflow == Overflow.SATURATE) {
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
