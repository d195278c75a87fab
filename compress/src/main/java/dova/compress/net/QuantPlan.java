package dova.compress.net;

import dova.sim.model.Activation;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The integer datapath of a network, op by op, from its learned {@link QuantState}: for every
 * op the scale, sign and largest magnitude of the tensor it reads, the scale and clamp of the
 * tensor it writes, and for weighted layers the integer weight limit. The quantized forward pass
 * ({@link QuantNet}) and the {@link Exporter} both walk this plan, so that what training
 * simulates and what the processor runs are derived once, in one place.
 */
public final class QuantPlan {
    /** A tensor as the datapath holds it: its scale, whether it is unsigned, and its largest |integer|. */
    public record Tensor(double scale, boolean unsigned, int maxMagnitude) {
        /** The input image: pixels 0..255 at 1/255. */
        public static final Tensor IMAGE = new Tensor(1 / 255.0, true, 255);

        /** An 8-bit or narrowed tensor whose largest value is {@code qmax}. */
        static Tensor of(double scale, boolean unsigned, int qmax) {
            return new Tensor(scale, unsigned, unsigned ? qmax : qmax + 1);
        }
    }

    /** One op of the plan. */
    public sealed interface Step permits Weighted, GlobalPool, Residual, Save, PassThrough {
        Op op();
    }

    /**
     * A conv or dense layer: reads {@code in}, writes integers clamped to {@code [lo, hi]} at
     * {@code outScale} ({@code bits} wide), with integer weights in {@code [-weightLimit, weightLimit]}.
     */
    public record Weighted(Op op, String name, boolean relu, Tensor in, double outScale, int bits, int weightLimit,
                           int[] channelLimits, int lo, int hi) implements Step {
        /** The limit of output channel {@code c}: its own where per-channel narrowing lowered it, else the layer's. */
        public int limit(int c) {
            return channelLimits != null ? channelLimits[c] : weightLimit;
        }

        public Activation activation() {
            return relu ? Activation.RELU : Activation.NONE;
        }

        /**
         * Per-channel weight scales {@code max|W[c]| / limit} (float32) from the channel maxima; in
         * guaranteed mode raised until no input can overflow {@code target}'s A bits.
         *
         * @param weights and {@code biases}: read only in guaranteed mode
         */
        public float[] weightScales(float[] channelMaxima, java.util.function.Supplier<float[]> weights,
                                    java.util.function.Supplier<float[]> biases, QuantTarget target) {
            float[] sw = WeightScales.scalesFromMaxima(channelMaxima, this::limit);
            if (target != null && target.guaranteed()) {
                sw = WeightScales.guaranteedScales(weights.get(), biases.get(), sw, in.scale(), in.maxMagnitude(),
                        target.accumulatorBits());
            }
            return sw;
        }

        /** The bias scale of each channel, {@code Sx * Sw[c]} in double. */
        public double[] biasScales(float[] sw) {
            double[] s = new double[sw.length];
            for (int c = 0; c < sw.length; c++) {
                s[c] = in.scale() * sw[c];
            }
            return s;
        }

        public Tensor out() {
            return Tensor.of(outScale, relu, hi);
        }
    }

    /** A global average pool over {@code area} values per channel: {@code R = Sx / (Sy * area)}. */
    public record GlobalPool(Op op, String name, Tensor in, double outScale, int area, int lo, int hi) implements Step {
        public double realMultiplier() {
            return in.scale() / (outScale * area); // the model builder's expression, operand for operand
        }

        public Tensor out() {
            return new Tensor(outScale, in.unsigned(), in.unsigned() ? 255 : 128);
        }
    }

    /** A residual add of the current tensor ({@code in}) and the one saved under {@code tag} ({@code saved}). */
    public record Residual(Op op, String name, String tag, Tensor in, Tensor saved, double outScale, boolean relu, int lo,
                           int hi) implements Step {
        public double realMultiplierOfInput() {
            return in.scale() / outScale;
        }

        public double realMultiplierOfSaved() {
            return saved.scale() / outScale;
        }

        public Activation activation() {
            return relu ? Activation.RELU : Activation.NONE;
        }

        public Tensor out() {
            return new Tensor(outScale, relu, relu ? 255 : 128);
        }
    }

    /** Remembers the current tensor under {@code tag}. */
    public record Save(Op op, String tag) implements Step {
    }

    /** Max pool or flatten: the tensor keeps its type and scale. */
    public record PassThrough(Op op) implements Step {
    }

    private final List<Step> steps;
    private final Tensor output;

    private QuantPlan(List<Step> steps, Tensor output) {
        this.steps = List.copyOf(steps);
        this.output = output;
    }

    public List<Step> steps() {
        return steps;
    }

    /** The logits' tensor. */
    public Tensor output() {
        return output;
    }

    /**
     * The plan of {@code ops} under {@code state}.
     *
     * @throws IllegalStateException naming the op whose activation scale is missing (not calibrated)
     */
    public static QuantPlan of(List<Op> ops, NetShapes shapes, QuantState state) {
        List<Step> steps = new ArrayList<>();
        Tensor x = Tensor.IMAGE;
        Map<String, Tensor> saved = new HashMap<>();
        for (Op op : ops) {
            if (op instanceof Op.Conv || op instanceof Op.Dense) {
                String name = op instanceof Op.Conv c ? c.name() : ((Op.Dense) op).name();
                boolean relu = op instanceof Op.Conv c ? c.relu() : ((Op.Dense) op).relu();
                int qmax = state.qmax(name, relu);
                Weighted w = new Weighted(op, name, relu, x, scale(state, name), state.activationBits.getOrDefault(name, 8),
                        state.weightLimits.get(name), state.channelLimits.get(name), relu ? 0 : -qmax - 1, qmax);
                steps.add(w);
                x = w.out();
            } else if (op instanceof Op.GlobalAvgPool g) {
                GlobalPool p = new GlobalPool(op, g.name(), x, scale(state, g.name()), shapes.poolArea(g.name()),
                        x.unsigned() ? 0 : -128, x.unsigned() ? 255 : 127);
                steps.add(p);
                x = p.out();
            } else if (op instanceof Op.Residual r) {
                Residual res = new Residual(op, r.name(), r.tag(), x, saved.get(r.tag()), scale(state, r.name()), r.relu(),
                        r.relu() ? 0 : -128, r.relu() ? 255 : 127);
                steps.add(res);
                x = res.out();
            } else if (op instanceof Op.Save s) {
                saved.put(s.tag(), x);
                steps.add(new Save(op, s.tag()));
            } else {
                steps.add(new PassThrough(op));
            }
        }
        return new QuantPlan(steps, x);
    }

    private static double scale(QuantState state, String op) {
        Double s = state.activationScales.get(op);
        if (s == null) {
            throw new IllegalStateException("no activation scale for " + op + ": calibrate the network first");
        }
        return s;
    }
}
