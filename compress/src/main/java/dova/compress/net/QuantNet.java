package dova.compress.net;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.pooling.Pool;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A DJL block that runs an {@link Op} chain either in FP32 or, once {@link #quantize}d, as a
 * simulation of the processor's integer datapath ({@link IntegerForward}, walking the network's
 * {@link QuantPlan}): the forward pass of quantization-aware training. Shapes come from
 * {@link NetShapes}, the learned quantization state is its {@link QuantState}.
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
        return new NDList(mode == Mode.QUANTIZED ? new IntegerForward(this, store, training).forward(x)
                : forwardFloat(store, x, training));
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
