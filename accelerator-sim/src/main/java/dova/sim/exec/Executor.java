package dova.sim.exec;

import dova.sim.FixedPoint;
import dova.sim.Overflow;
import dova.sim.ProcessorConfig;
import dova.sim.RequantMode;
import dova.sim.model.Add;
import dova.sim.model.AvgPool;
import dova.sim.model.Conv2d;
import dova.sim.model.Flatten;
import dova.sim.model.GlobalAvgPool;
import dova.sim.model.IntegerModel;
import dova.sim.model.InvalidModelException;
import dova.sim.model.Layer;
import dova.sim.model.MaxPool;
import dova.sim.model.TensorSpec;

/**
 * Executes an integer model on one processor configuration, one image at a time, bit-exactly
 * per docs/datapath.md. An executor owns its activation buffers and is not thread-safe: use one
 * per thread. After construction, {@link #run} allocates nothing.
 *
 * <p>Two implementations share the element-wise layers (add, pools), written here as flat loop
 * nests: {@link #reference} computes convolutions literally, one output value at a time in the
 * canonical group order; {@link #fast} reorders the loops for the memory hierarchy and skips
 * per-group overflow tracking where a per-channel bound proves it unnecessary. They are tested
 * to give identical outputs and identical overflow counts.
 */
public abstract class Executor {
    protected final IntegerModel model;
    protected final ProcessorConfig config;
    /** Activation buffer of every tensor (a flatten output aliases its input's buffer). */
    protected final int[][] buffers;
    /** Requantizer of every conv layer (null for other layers). */
    protected final Requantizer[] requantizers;
    /** Overflow events per layer since construction or the last {@link #resetCounters()}. */
    protected final long[] overflowEvents;
    protected final int accBits;
    protected final long accMin;
    protected final long accMax;
    protected final boolean saturate;
    /** Receives every conv layer's accumulators before requantization, or null (the usual case). */
    protected AccumulatorProbe probe;

    protected Executor(IntegerModel model, ProcessorConfig config) {
        this.config = config;
        this.model = prepare(model, config);
        this.accBits = config.accumulatorBits();
        this.accMin = FixedPoint.minSigned(accBits);
        this.accMax = FixedPoint.maxSigned(accBits);
        this.saturate = config.overflow() == Overflow.SATURATE;
        int n = this.model.tensors().size();
        buffers = new int[n][];
        buffers[this.model.input()] = new int[this.model.inputSpec().size()];
        for (Layer l : this.model.layers()) {
            buffers[l.output()] = l instanceof Flatten f ? buffers[f.input()] : new int[this.model.tensor(l.output()).size()];
        }
        requantizers = new Requantizer[this.model.layers().size()];
        for (int i = 0; i < requantizers.length; i++) {
            if (this.model.layers().get(i) instanceof Conv2d c) {
                if (config.requantMode() == RequantMode.GEMMLOWP) {
                    double[] real = new double[c.outChannels()];
                    for (int ch = 0; ch < real.length; ch++) {
                        real[ch] = this.model.realMultiplier(c, ch);
                    }
                    requantizers[i] = new Requantizer.Q31(real);
                } else {
                    requantizers[i] = new Requantizer.Native(c.multipliers(), c.shifts());
                }
            }
        }
        overflowEvents = new long[requantizers.length];
    }

    /** The slow, obviously-correct executor. */
    public static Executor reference(IntegerModel model, ProcessorConfig config) {
        return new ReferenceExecutor(model, config);
    }

    /**
     * The fast executor: the native kernels where they are loaded ({@link NativeKernels#status()})
     * and the model suits them ({@link #fastPath}), else the pure-Java {@link #fastJava}.
     */
    public static Executor fast(IntegerModel model, ProcessorConfig config) {
        if (config.pairStage() != null) {
            return new ReferenceExecutor(model, config); // only the reference runs an intermediate stage
        }
        if (NativeKernels.available() && NativeSupport.unsupported(prepare(model, config), config) == null) {
            return new NativeExecutor(model, config);
        }
        return new FastExecutor(model, config);
    }

    /** The pure-Java fast executor, whatever the native kernels' state (for tests and comparisons). */
    public static Executor fastJava(IntegerModel model, ProcessorConfig config) {
        if (config.pairStage() != null) {
            throw new IllegalArgumentException("the fast executors have no intermediate (pair) stage: use Executor.fast or reference");
        }
        return new FastExecutor(model, config);
    }

    /** Which implementation {@link #fast} picks for this model and processor, and why. */
    public static String fastPath(IntegerModel model, ProcessorConfig config) {
        if (config.pairStage() != null) {
            return "reference executor (the pair stage runs only there)";
        }
        if (!NativeKernels.available()) {
            return NativeKernels.status();
        }
        String why = NativeSupport.unsupported(prepare(model, config), config);
        return why == null ? NativeKernels.status() : "pure Java (native kernels do not run this model: " + why + ")";
    }

    /**
     * Fits the model to the processor: checks widths, re-derives multipliers for the
     * processor's M (native mode) and checks every bias against its A.
     *
     * @throws InvalidModelException naming the layer (and channel) that cannot run on this processor
     */
    static IntegerModel prepare(IntegerModel model, ProcessorConfig config) {
        if (model.weightBits() > config.weightBits()) {
            throw new InvalidModelException("model " + model.name() + " has " + model.weightBits()
                    + "-bit weights; the processor has " + config.weightBits());
        }
        if (model.activationBits() > config.activationBits()) {
            throw new InvalidModelException("model " + model.name() + " has " + model.activationBits()
                    + "-bit activations; the processor has " + config.activationBits());
        }
        IntegerModel m = model;
        int mulBits = config.requantMode() == RequantMode.NATIVE ? config.multiplierBits() : 32;
        if (m.multiplierBits() != mulBits) {
            m = m.withMultiplierBits(mulBits);
        }
        if (m.accumulatorBits() != config.accumulatorBits()) {
            m = m.withAccumulatorBits(config.accumulatorBits());
        }
        return m.validate();
    }

    /** Observes accumulators from now on (null to stop); used by calibration, off the hot path. */
    public final void setProbe(AccumulatorProbe probe) {
        this.probe = probe;
    }

    /** The model as fitted to this processor (multipliers for its M). */
    public IntegerModel model() {
        return model;
    }

    public ProcessorConfig config() {
        return config;
    }

    /**
     * Runs one image of {@code C*H*W} unsigned 8-bit pixels (CHW order) starting at
     * {@code offset}; returns the predicted class (argmax of the integer logits, lowest index
     * on ties).
     */
    public final int run(byte[] pixels, int offset) {
        int size = model.inputSpec().size();
        if (offset < 0 || offset > pixels.length - size) {
            throw new IllegalArgumentException("image needs " + size + " pixels at offset " + offset + ", array has "
                    + pixels.length);
        }
        execute(pixels, offset);
        int[] logits = logits();
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }

    /** Executes every layer on the image at {@code offset} (bounds already checked). */
    protected void execute(byte[] pixels, int offset) {
        int[] in = buffers[model.input()];
        for (int i = 0; i < in.length; i++) {
            in[i] = pixels[offset + i] & 0xff;
        }
        for (int i = 0; i < model.layers().size(); i++) {
            Layer l = model.layers().get(i);
            if (l instanceof Conv2d c) {
                conv(i, c);
            } else if (l instanceof Add a) {
                add(i, a);
            } else if (l instanceof MaxPool p) {
                maxPool(p);
            } else if (l instanceof AvgPool p) {
                avgPool(i, p);
            } else if (l instanceof GlobalAvgPool g) {
                globalAvgPool(i, g);
            }
            // Flatten: its output aliases its input buffer, nothing to compute
        }
    }

    /** The integer values of the output tensor after the last {@link #run}; valid until the next run. */
    public final int[] logits() {
        return tensorValues(model.output());
    }

    /** The integer values of any tensor after the last run (for calibration and tests). */
    public int[] tensorValues(int tensor) {
        return buffers[tensor];
    }

    /** Overflow events per layer (indexed like {@code model().layers()}) since the last reset. */
    public final long[] overflowEvents() {
        return overflowEvents.clone();
    }

    public final long totalOverflowEvents() {
        long t = 0;
        for (long e : overflowEvents) {
            t += e;
        }
        return t;
    }

    public final void resetCounters() {
        java.util.Arrays.fill(overflowEvents, 0);
    }

    protected abstract void conv(int layerIndex, Conv2d c);

    /** One group update of the A-bit accumulator: counts the event, then wraps or saturates. */
    protected final long accumulate(long acc, long p, int layerIndex) {
        long exact = acc + p;
        if (exact < accMin || exact > accMax) {
            overflowEvents[layerIndex]++;
            return saturate ? (exact < accMin ? accMin : accMax) : FixedPoint.wrap(exact, accBits);
        }
        return exact;
    }

    protected static int clamp(long v, int lo, int hi) {
        return v < lo ? lo : (v > hi ? hi : (int) v);
    }

    /**
     * Residual add: the two M-bit multiplier products are exact and their sum is formed in the
     * (A+M)-bit requantization register (docs/arithmetic-choices.md): x*m needs ba+M bits, so
     * for ba < A it cannot overflow, but it is counted as any other group update would be.
     */
    private void add(int layerIndex, Add a) {
        int[] x1 = buffers[a.left()];
        int[] x2 = buffers[a.right()];
        int[] y = buffers[a.output()];
        TensorSpec out = model.tensor(a.output());
        int lo = a.activation().qmin(out);
        int hi = a.activation().qmax(out);
        int bits = Math.min(64, accBits + model.multiplierBits());
        long min = FixedPoint.minSigned(bits);
        long max = FixedPoint.maxSigned(bits);
        long m1 = a.leftMultiplier();
        long m2 = a.rightMultiplier();
        int s = a.shift();
        for (int i = 0; i < y.length; i++) {
            long p1 = x1[i] * m1;
            long sum = p1 + x2[i] * m2;
            if (sum < min || sum > max) {
                overflowEvents[layerIndex]++;
                sum = saturate ? (sum < min ? min : max) : FixedPoint.wrap(sum, bits);
            }
            y[i] = clamp(FixedPoint.roundShift(sum, s), lo, hi);
        }
    }

    /** Exact max pool; padded positions never win. */
    private void maxPool(MaxPool p) {
        TensorSpec in = model.tensor(p.input());
        TensorSpec out = model.tensor(p.output());
        int[] x = buffers[p.input()];
        int[] y = buffers[p.output()];
        int h = in.height();
        int w = in.width();
        for (int channel = 0; channel < out.channels(); channel++) {
            for (int outY = 0; outY < out.height(); outY++) {
                for (int outX = 0; outX < out.width(); outX++) {
                    int best = Integer.MIN_VALUE;
                    for (int ky = 0; ky < p.kernel(); ky++) {
                        int inY = outY * p.stride() - p.pad() + ky;
                        if (inY < 0 || inY >= h) {
                            continue;
                        }
                        for (int kx = 0; kx < p.kernel(); kx++) {
                            int inX = outX * p.stride() - p.pad() + kx;
                            if (inX >= 0 && inX < w) {
                                best = Math.max(best, x[(channel * h + inY) * w + inX]);
                            }
                        }
                    }
                    y[(channel * out.height() + outY) * out.width() + outX] = best;
                }
            }
        }
    }

    /** Average pool: window sum in A bits, one group per element (order ky, kx), then requantize. */
    private void avgPool(int layerIndex, AvgPool p) {
        TensorSpec in = model.tensor(p.input());
        TensorSpec out = model.tensor(p.output());
        int[] x = buffers[p.input()];
        int[] y = buffers[p.output()];
        int h = in.height();
        int w = in.width();
        for (int channel = 0; channel < out.channels(); channel++) {
            for (int outY = 0; outY < out.height(); outY++) {
                for (int outX = 0; outX < out.width(); outX++) {
                    long acc = 0;
                    for (int ky = 0; ky < p.kernel(); ky++) {
                        for (int kx = 0; kx < p.kernel(); kx++) {
                            acc = accumulate(acc, x[(channel * h + outY * p.stride() + ky) * w + outX * p.stride() + kx],
                                    layerIndex);
                        }
                    }
                    y[(channel * out.height() + outY) * out.width() + outX] =
                            clamp(FixedPoint.roundShift(acc * p.multiplier(), p.shift()), out.qmin(), out.qmax());
                }
            }
        }
    }

    /** Global average pool: the H*W values of a channel summed in A bits, row-major, then requantized. */
    private void globalAvgPool(int layerIndex, GlobalAvgPool g) {
        TensorSpec in = model.tensor(g.input());
        TensorSpec out = model.tensor(g.output());
        int[] x = buffers[g.input()];
        int[] y = buffers[g.output()];
        int area = in.height() * in.width();
        for (int channel = 0; channel < in.channels(); channel++) {
            long acc = 0;
            for (int i = channel * area; i < (channel + 1) * area; i++) {
                acc = accumulate(acc, x[i], layerIndex);
            }
            y[channel] = clamp(FixedPoint.roundShift(acc * g.multiplier(), g.shift()), out.qmin(), out.qmax());
        }
    }
}
