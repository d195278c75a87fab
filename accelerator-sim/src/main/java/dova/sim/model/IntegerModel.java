package dova.sim.model;

import dova.sim.FixedPoint;
import java.util.ArrayList;
import java.util.List;

/**
 * An exported integer model: tensors, layers in execution order, and the widths it was
 * exported for. {@link #validate()} checks every invariant the executors rely on; the file
 * reader calls it, so a loaded model is always consistent.
 *
 * @param weightBits weight width {@code bw}; weights lie in the narrow range {@code [-(2^(bw-1)-1), 2^(bw-1)-1]}
 * @param activationBits activation width {@code ba}
 * @param accumulatorBits A: every bias fits it
 * @param multiplierBits M: every multiplier m lies in {@code [0, 2^M - 1]} (0 marks a channel zeroed on purpose)
 * @param info what the file records about the model's use (data set, class names, overflow mode)
 */
public record IntegerModel(String name, int weightBits, int activationBits, int accumulatorBits, int multiplierBits,
                           List<TensorSpec> tensors, int input, int output, List<Layer> layers, ModelInfo info) {
    public IntegerModel {
        tensors = List.copyOf(tensors);
        layers = List.copyOf(layers);
        info = info == null ? ModelInfo.UNKNOWN : info;
    }

    /** A model with nothing recorded about its use ({@link ModelInfo#UNKNOWN}). */
    public IntegerModel(String name, int weightBits, int activationBits, int accumulatorBits, int multiplierBits,
                        List<TensorSpec> tensors, int input, int output, List<Layer> layers) {
        this(name, weightBits, activationBits, accumulatorBits, multiplierBits, tensors, input, output, layers,
                ModelInfo.UNKNOWN);
    }

    /** The same model with {@code info} recorded. */
    public IntegerModel withInfo(ModelInfo info) {
        return new IntegerModel(name, weightBits, activationBits, accumulatorBits, multiplierBits, tensors, input, output,
                layers, info);
    }

    public TensorSpec tensor(int i) {
        return tensors.get(i);
    }

    public TensorSpec inputSpec() {
        return tensors.get(input);
    }

    public TensorSpec outputSpec() {
        return tensors.get(output);
    }

    /** Real requantization multiplier of conv channel {@code c}: {@code Sx * Sw[c] / Sy}. */
    public double realMultiplier(Conv2d conv, int c) {
        return tensor(conv.input()).scale() * conv.weightScales()[c] / tensor(conv.output()).scale();
    }

    /** Checks every invariant; throws {@link InvalidModelException} naming the layer and problem. */
    public IntegerModel validate() {
        if (weightBits < 2 || weightBits > 8) {
            throw new InvalidModelException("model " + name + ": weight bits " + weightBits + " outside [2, 8]");
        }
        if (activationBits < 2 || activationBits > 8) {
            throw new InvalidModelException("model " + name + ": activation bits " + activationBits + " outside [2, 8]");
        }
        if (accumulatorBits < 8 || accumulatorBits > 32) {
            throw new InvalidModelException("model " + name + ": accumulator bits " + accumulatorBits + " outside [8, 32]");
        }
        if (multiplierBits < 4 || multiplierBits > 32) {
            throw new InvalidModelException("model " + name + ": multiplier bits " + multiplierBits + " outside [4, 32]");
        }
        int n = tensors.size();
        if (input < 0 || input >= n || output < 0 || output >= n) {
            throw new InvalidModelException("model " + name + ": input/output tensor index out of range (" + n + " tensors)");
        }
        if (layers.isEmpty()) {
            throw new InvalidModelException("model " + name + ": no layers");
        }
        TensorSpec image = inputSpec();
        if (image.signed() || image.bits() != 8) {
            throw new InvalidModelException("model " + name + ": input tensor " + image.name() + " is declared "
                    + (image.signed() ? "signed " : "unsigned ") + image.bits() + "-bit; the processor's input is unsigned"
                    + " 8-bit pixels (docs/datapath.md section 1)");
        }
        boolean[] written = new boolean[n];
        written[input] = true;
        for (Layer layer : layers) {
            for (int in : layer.inputs()) {
                if (in < 0 || in >= n) {
                    throw bad(layer, "input tensor index " + in + " out of range");
                }
                if (!written[in]) {
                    throw bad(layer, "reads tensor " + tensor(in).name() + " before any layer writes it");
                }
            }
            if (layer.output() < 0 || layer.output() >= n) {
                throw bad(layer, "output tensor index " + layer.output() + " out of range");
            }
            if (written[layer.output()]) {
                throw bad(layer, "writes tensor " + tensor(layer.output()).name() + " a second time");
            }
            written[layer.output()] = true;
            if (layer instanceof Conv2d c) {
                validateConv(c);
            } else if (layer instanceof Add a) {
                validateAdd(a);
            } else if (layer instanceof MaxPool p) {
                validatePool(p, p.kernel(), p.stride(), p.pad());
                expectSameType(p, tensor(p.input()), tensor(p.output()));
            } else if (layer instanceof AvgPool p) {
                validatePool(p, p.kernel(), p.stride(), 0);
                checkMultiplier(p, "", p.multiplier(), p.shift());
            } else if (layer instanceof GlobalAvgPool g) {
                TensorSpec in = tensor(g.input());
                expectShape(g, tensor(g.output()), in.channels(), 1, 1);
                checkMultiplier(g, "", g.multiplier(), g.shift());
            } else if (layer instanceof Flatten f) {
                expectShape(f, tensor(f.output()), tensor(f.input()).size(), 1, 1);
                expectSameType(f, tensor(f.input()), tensor(f.output()));
            }
        }
        if (!info.classNames().isEmpty() && info.classNames().size() != outputSpec().size()) {
            throw new InvalidModelException("model " + name + ": " + info.classNames().size() + " class names recorded for "
                    + outputSpec().size() + " outputs");
        }
        if (!written[output]) {
            throw new InvalidModelException("model " + name + ": no layer writes the output tensor " + outputSpec().name());
        }
        return this;
    }

    private InvalidModelException bad(Layer layer, String problem) {
        return new InvalidModelException("layer " + layer.name() + ": " + problem);
    }

    private void expectShape(Layer layer, TensorSpec t, int c, int h, int w) {
        if (t.channels() != c || t.height() != h || t.width() != w) {
            throw bad(layer, "output tensor " + t.name() + " has shape " + t.shape() + ", expected " + c + "x" + h + "x" + w);
        }
    }

    private void checkMultiplier(Layer layer, String where, long m, int s) {
        if (m < 0 || m > (1L << multiplierBits) - 1) {
            throw bad(layer, "multiplier " + m + where + " does not fit " + multiplierBits + " unsigned bits");
        }
        if (s < 0 || s > FixedPoint.MAX_SHIFT) {
            throw bad(layer, "shift " + s + where + " outside [0, " + FixedPoint.MAX_SHIFT + "]");
        }
    }

    /**
     * A layer that does not requantize (max pool, flatten) produces its input's type and scale
     * (docs/datapath.md section 1: declared types are promises every executor relies on).
     */
    private void expectSameType(Layer layer, TensorSpec in, TensorSpec out) {
        if (in.signed() != out.signed() || in.bits() != out.bits() || in.scale() != out.scale()) {
            throw bad(layer, "output tensor " + out.name() + " is declared " + typeOf(out) + ", its input " + in.name()
                    + " is " + typeOf(in) + ": a layer that does not requantize keeps its input's type and scale");
        }
    }

    private static String typeOf(TensorSpec t) {
        return (t.signed() ? "signed " : "unsigned ") + t.bits() + "-bit, scale " + t.scale();
    }

    private void validateConv(Conv2d c) {
        if (c.kernelH() < 1 || c.kernelW() < 1 || c.strideH() < 1 || c.strideW() < 1 || c.padH() < 0 || c.padW() < 0) {
            throw bad(c, "kernel and stride must be >= 1 and padding >= 0");
        }
        if (c.groups() < 1 || c.inChannels() % c.groups() != 0 || c.outChannels() % c.groups() != 0) {
            throw bad(c, "groups " + c.groups() + " must divide in channels " + c.inChannels() + " and out channels "
                    + c.outChannels());
        }
        TensorSpec in = tensor(c.input());
        if (in.channels() != c.inChannels()) {
            throw bad(c, "input tensor " + in.name() + " has " + in.channels() + " channels, layer expects " + c.inChannels());
        }
        if (in.height() + 2 * c.padH() < c.kernelH() || in.width() + 2 * c.padW() < c.kernelW()) {
            throw bad(c, "kernel " + c.kernelH() + "x" + c.kernelW() + " larger than padded input " + in.shape());
        }
        expectShape(c, tensor(c.output()), c.outChannels(), c.outHeight(in.height()), c.outWidth(in.width()));
        long expectWeights = (long) c.outChannels() * c.inChannelsPerGroup() * c.kernelH() * c.kernelW();
        if (c.weights() == null || c.weights().length != expectWeights) {
            throw bad(c, "has " + (c.weights() == null ? 0 : c.weights().length) + " weights, shape needs " + expectWeights);
        }
        int wmax = (1 << (weightBits - 1)) - 1;
        byte[] w = c.weights();
        for (int i = 0; i < w.length; i++) {
            if (w[i] > wmax || w[i] < -wmax) {
                throw bad(c, "weight " + i + " (output channel " + i / (w.length / c.outChannels()) + ") = " + w[i]
                        + " outside the " + weightBits + "-bit narrow range [-" + wmax + ", " + wmax + "]");
            }
        }
        int oc = c.outChannels();
        if (c.bias().length != oc || c.weightScales().length != oc || c.multipliers().length != oc
                || c.shifts().length != oc) {
            throw bad(c, "bias, weight scales, multipliers and shifts must each have " + oc + " entries");
        }
        for (int ch = 0; ch < oc; ch++) {
            if (!FixedPoint.fitsSigned(c.bias()[ch], accumulatorBits)) {
                throw bad(c, "bias of channel " + ch + " = " + c.bias()[ch] + " does not fit the " + accumulatorBits
                        + "-bit accumulator");
            }
            double sw = c.weightScales()[ch];
            if (!(sw > 0) || Double.isInfinite(sw)) {
                throw bad(c, "weight scale of channel " + ch + " must be positive and finite, got " + sw);
            }
            checkMultiplier(c, " of channel " + ch, c.multipliers()[ch], c.shifts()[ch]);
        }
    }

    private void validateAdd(Add a) {
        TensorSpec l = tensor(a.left());
        TensorSpec r = tensor(a.right());
        if (l.channels() != r.channels() || l.height() != r.height() || l.width() != r.width()) {
            throw bad(a, "operands " + l.name() + " " + l.shape() + " and " + r.name() + " " + r.shape() + " differ in shape");
        }
        expectShape(a, tensor(a.output()), l.channels(), l.height(), l.width());
        checkMultiplier(a, " (left)", a.leftMultiplier(), a.shift());
        checkMultiplier(a, " (right)", a.rightMultiplier(), a.shift());
    }

    private void validatePool(Layer p, int kernel, int stride, int pad) {
        if (kernel < 1 || stride < 1 || pad < 0 || pad >= kernel) {
            throw bad(p, "kernel and stride must be >= 1 and padding in [0, kernel)");
        }
        TensorSpec in = tensor(p.inputs().get(0));
        if (in.height() + 2 * pad < kernel || in.width() + 2 * pad < kernel) {
            throw bad(p, "window " + kernel + " larger than input " + in.shape());
        }
        expectShape(p, tensor(p.output()), in.channels(), (in.height() + 2 * pad - kernel) / stride + 1,
                (in.width() + 2 * pad - kernel) / stride + 1);
    }

    /**
     * The same model with every requantization multiplier re-derived for {@code bits}-bit
     * multipliers from the stored scales (docs/datapath.md section 3). Channels zeroed on purpose
     * (m = 0) stay zero.
     *
     * @throws InvalidModelException naming the layer and channel whose multiplier rounds to 0
     */
    public IntegerModel withMultiplierBits(int bits) {
        List<Layer> out = new ArrayList<>(layers.size());
        for (Layer layer : layers) {
            out.add(retarget(layer, bits));
        }
        return new IntegerModel(name, weightBits, activationBits, accumulatorBits, bits, tensors, input, output, out);
    }

    private Layer retarget(Layer layer, int bits) {
        if (layer instanceof Conv2d c) {
            long[] m = new long[c.outChannels()];
            int[] s = new int[c.outChannels()];
            for (int ch = 0; ch < m.length; ch++) {
                if (c.multipliers()[ch] == 0) {
                    continue;
                }
                FixedPoint.Multiplier q = Requant.choose(realMultiplier(c, ch), bits, c.name(), ch);
                m[ch] = q.m();
                s[ch] = q.shift();
            }
            return c.withRequant(m, s);
        } else if (layer instanceof Add a) {
            return Requant.add(a.name(), a.left(), a.right(), a.output(), tensor(a.left()).scale(),
                    tensor(a.right()).scale(), tensor(a.output()).scale(), bits, a.activation());
        } else if (layer instanceof AvgPool p) {
            FixedPoint.Multiplier q = Requant.choose(tensor(p.input()).scale()
                    / (tensor(p.output()).scale() * p.kernel() * p.kernel()), bits, p.name(), 0);
            return new AvgPool(p.name(), p.input(), p.output(), p.kernel(), p.stride(), q.m(), q.shift());
        } else if (layer instanceof GlobalAvgPool g) {
            TensorSpec in = tensor(g.input());
            FixedPoint.Multiplier q = Requant.choose(in.scale()
                    / (tensor(g.output()).scale() * in.height() * in.width()), bits, g.name(), 0);
            return new GlobalAvgPool(g.name(), g.input(), g.output(), q.m(), q.shift());
        }
        return layer;
    }

    /** The same model declared for another accumulator width (biases are re-checked by {@link #validate()}). */
    public IntegerModel withAccumulatorBits(int bits) {
        return new IntegerModel(name, weightBits, activationBits, bits, multiplierBits, tensors, input, output, layers);
    }

    /** Total multiply-accumulates of one inference (conv and fully connected layers). */
    public long macs() {
        long total = 0;
        for (Layer l : layers) {
            if (l instanceof Conv2d c) {
                TensorSpec o = tensor(c.output());
                total += (long) o.size() * c.inChannelsPerGroup() * c.kernelH() * c.kernelW();
            }
        }
        return total;
    }

    /** Total weights (parameters excluding biases). */
    public long weightCount() {
        long total = 0;
        for (Layer l : layers) {
            if (l instanceof Conv2d c) {
                total += c.weights().length;
            }
        }
        return total;
    }
}
