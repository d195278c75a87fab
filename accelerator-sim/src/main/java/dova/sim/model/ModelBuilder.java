package dova.sim.model;

import dova.sim.FixedPoint;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds an {@link IntegerModel} layer by layer from integer weights, integer biases and
 * real scales; every requantization multiplier is derived here from the scales
 * (docs/datapath.md section 3), so callers never compute {@code m, s} by hand. Each method
 * returns the index of the tensor it creates. Output tensors of layers with a fused ReLU or
 * ReLU6 are unsigned, others signed; pools keep their input's signedness.
 */
public final class ModelBuilder {
    private final String name;
    private final int weightBits;
    private final int activationBits;
    private final int accumulatorBits;
    private final int multiplierBits;
    private final List<TensorSpec> tensors = new ArrayList<>();
    private final List<Layer> layers = new ArrayList<>();
    private int input = -1;

    public ModelBuilder(String name, int weightBits, int activationBits, int accumulatorBits, int multiplierBits) {
        this.name = name;
        this.weightBits = weightBits;
        this.activationBits = activationBits;
        this.accumulatorBits = accumulatorBits;
        this.multiplierBits = multiplierBits;
    }

    public TensorSpec tensor(int i) {
        return tensors.get(i);
    }

    /** The model input: unsigned 8-bit pixels of the given scale (1/255 unless normalisation is folded differently). */
    public int input(String tensorName, int channels, int height, int width, double scale) {
        if (input >= 0) {
            throw new IllegalStateException("input already defined");
        }
        tensors.add(new TensorSpec(tensorName, channels, height, width, scale, false, 8));
        input = tensors.size() - 1;
        return input;
    }

    private int addTensor(String tensorName, int c, int h, int w, double scale, boolean signed) {
        return addTensor(tensorName, c, h, w, scale, signed, activationBits);
    }

    private int addTensor(String tensorName, int c, int h, int w, double scale, boolean signed, int bits) {
        tensors.add(new TensorSpec(tensorName, c, h, w, scale, signed, bits));
        return tensors.size() - 1;
    }

    /**
     * Narrows tensor {@code t} (just created, not yet read by any layer) to {@code bits} bits: its
     * producer then clamps to the narrower range. Overflow-aware training uses this to shrink
     * the integer range of activations that feed overflowing accumulators.
     */
    public ModelBuilder narrow(int t, int bits) {
        TensorSpec x = tensors.get(t);
        if (t == input) {
            throw new IllegalArgumentException("tensor " + x.name() + " is the input: pixels are unsigned 8-bit");
        }
        for (Layer l : layers) {
            if (l.output() == t && (l instanceof MaxPool || l instanceof Flatten)) {
                throw new IllegalArgumentException("tensor " + x.name() + " is the output of " + l.name()
                        + ", which does not requantize: narrow the tensor it reads instead");
            }
        }
        for (Layer l : layers) {
            if (l.inputs().contains(t)) {
                throw new IllegalStateException("tensor " + x.name() + " is already read by layer " + l.name());
            }
        }
        if (bits > activationBits) {
            throw new IllegalArgumentException("tensor " + x.name() + ": " + bits + " bits exceed the model's "
                    + activationBits);
        }
        tensors.set(t, new TensorSpec(x.name(), x.channels(), x.height(), x.width(), x.scale(), x.signed(), bits));
        return this;
    }

    /**
     * A grouped convolution with weights {@code [out][in/groups][k][k]}, integer biases (scale
     * {@code Sx*Sw[c]}), per-channel weight scales and the output scale.
     */
    public int conv(String layerName, int in, int outChannels, int kernel, int stride, int pad, int groups,
                    byte[] weights, int[] bias, double[] weightScales, double outScale, Activation act) {
        TensorSpec x = tensors.get(in);
        int oh = (x.height() + 2 * pad - kernel) / stride + 1;
        int ow = (x.width() + 2 * pad - kernel) / stride + 1;
        if (oh < 1 || ow < 1) {
            throw new InvalidModelException("layer " + layerName + ": kernel " + kernel + " does not fit input " + x.shape());
        }
        int out = addTensor(layerName, outChannels, oh, ow, outScale, act == Activation.NONE);
        long[] m = new long[outChannels];
        int[] s = new int[outChannels];
        for (int c = 0; c < outChannels; c++) {
            FixedPoint.Multiplier q = Requant.choose(x.scale() * weightScales[c] / outScale, multiplierBits, layerName, c);
            m[c] = q.m();
            s[c] = q.shift();
        }
        layers.add(new Conv2d(layerName, in, out, outChannels, x.channels(), kernel, kernel, stride, stride, pad, pad,
                groups, weights, bias, weightScales, m, s, act));
        return out;
    }

    /** Fully connected over a {@code C x 1 x 1} input: a 1x1 convolution, weights {@code [out][C]}. */
    public int dense(String layerName, int in, int outChannels, byte[] weights, int[] bias, double[] weightScales,
                     double outScale, Activation act) {
        TensorSpec x = tensors.get(in);
        if (x.height() != 1 || x.width() != 1) {
            throw new InvalidModelException("layer " + layerName + ": fully connected needs a Cx1x1 input, got "
                    + x.shape() + " (flatten first)");
        }
        return conv(layerName, in, outChannels, 1, 1, 0, 1, weights, bias, weightScales, outScale, act);
    }

    public int add(String layerName, int left, int right, double outScale, Activation act) {
        TensorSpec l = tensors.get(left);
        int out = addTensor(layerName, l.channels(), l.height(), l.width(), outScale, act == Activation.NONE);
        layers.add(Requant.add(layerName, left, right, out, l.scale(), tensors.get(right).scale(), outScale,
                multiplierBits, act));
        return out;
    }

    public int maxPool(String layerName, int in, int kernel, int stride, int pad) {
        TensorSpec x = tensors.get(in);
        int out = addTensor(layerName, x.channels(), (x.height() + 2 * pad - kernel) / stride + 1,
                (x.width() + 2 * pad - kernel) / stride + 1, x.scale(), x.signed(), x.bits());
        layers.add(new MaxPool(layerName, in, out, kernel, stride, pad));
        return out;
    }

    public int avgPool(String layerName, int in, int kernel, int stride, double outScale) {
        TensorSpec x = tensors.get(in);
        int out = addTensor(layerName, x.channels(), (x.height() - kernel) / stride + 1,
                (x.width() - kernel) / stride + 1, outScale, x.signed());
        FixedPoint.Multiplier q = Requant.choose(x.scale() / (outScale * kernel * kernel), multiplierBits, layerName, 0);
        layers.add(new AvgPool(layerName, in, out, kernel, stride, q.m(), q.shift()));
        return out;
    }

    public int globalAvgPool(String layerName, int in, double outScale) {
        TensorSpec x = tensors.get(in);
        int out = addTensor(layerName, x.channels(), 1, 1, outScale, x.signed());
        FixedPoint.Multiplier q = Requant.choose(x.scale() / (outScale * x.height() * x.width()), multiplierBits,
                layerName, 0);
        layers.add(new GlobalAvgPool(layerName, in, out, q.m(), q.shift()));
        return out;
    }

    public int flatten(String layerName, int in) {
        TensorSpec x = tensors.get(in);
        int out = addTensor(layerName, x.size(), 1, 1, x.scale(), x.signed(), x.bits());
        layers.add(new Flatten(layerName, in, out));
        return out;
    }

    /** Builds and validates the model whose output is tensor {@code output}. */
    public IntegerModel build(int output) {
        if (input < 0) {
            throw new IllegalStateException("no input defined");
        }
        return new IntegerModel(name, weightBits, activationBits, accumulatorBits, multiplierBits, tensors, input, output,
                layers).validate();
    }
}
