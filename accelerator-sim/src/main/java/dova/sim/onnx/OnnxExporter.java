package dova.sim.onnx;

import dova.sim.model.Activation;
import dova.sim.model.Add;
import dova.sim.model.AvgPool;
import dova.sim.model.Conv2d;
import dova.sim.model.Flatten;
import dova.sim.model.GlobalAvgPool;
import dova.sim.model.IntegerModel;
import dova.sim.model.Layer;
import dova.sim.model.MaxPool;
import dova.sim.model.TensorSpec;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes an integer model as ONNX (docs/onnx-export.md), in one of two flavours:
 * <ul>
 *   <li>{@link Flavour#INT8}: the QOperator form, with the model's own integers and scales:
 *       {@code QLinearConv} (fully connected layers are 1x1 {@code QLinearConv}s after a
 *       {@code Reshape}), {@code QLinearAdd}, {@code MaxPool}, {@code QLinearAveragePool},
 *       {@code QLinearGlobalAveragePool}, and a {@code Clip} wherever dova's clamp is narrower than
 *       the 8-bit type (ReLU6, activations under 8 bits). Every activation is uint8: a signed
 *       tensor is stored with zero point 128 (ONNX Runtime's QLinearConv needs input and output of
 *       one type, and conv inputs here are unsigned). Input: uint8 pixels {@code [N, C, H, W]};
 *       output: the integer logits {@code [N, classes]} as int8 (uint8 for an unsigned output). A runtime's float requantization
 *       ({@code x_scale * w_scale / y_scale}, rounded half to even) can differ from dova's
 *       M-bit multiplier and shift by 1 LSB.</li>
 *   <li>{@link Flavour#FLOAT}: the same network in FP32 (dequantized weights and biases,
 *       {@code Relu}/{@code Clip(0, 6)}), input {@code pixels * input scale}: the float anchor.</li>
 * </ul>
 */
public final class OnnxExporter {
    public enum Flavour { INT8, FLOAT }

    /** ONNX TensorProto.DataType values. */
    private static final int FLOAT = 1;
    private static final int UINT8 = 2;
    private static final int INT8 = 3;
    private static final int INT32 = 6;
    private static final int INT64 = 7;
    /** AttributeProto.AttributeType values. */
    private static final int ATTR_INT = 2;
    private static final int ATTR_INTS = 7;

    private final IntegerModel model;
    private final Flavour flavour;
    private final boolean everyTensor;
    private final List<ProtoWriter> nodes = new ArrayList<>();
    private final List<ProtoWriter> initializers = new ArrayList<>();
    private int constants;

    private OnnxExporter(IntegerModel model, Flavour flavour, boolean everyTensor) {
        this.model = model;
        this.flavour = flavour;
        this.everyTensor = everyTensor;
    }

    /** The ONNX bytes of {@code model} in {@code flavour}. */
    public static byte[] export(IntegerModel model, Flavour flavour) {
        return new OnnxExporter(model.validate(), flavour, false).build();
    }

    /**
     * As {@link #export}, with every layer's output tensor also a graph output, named
     * {@link #tensorName}, in its stored form (uint8, zero point 128 for a signed tensor; NCHW):
     * for locating where a runtime and the simulator part.
     */
    public static byte[] exportEveryTensor(IntegerModel model, Flavour flavour) {
        return new OnnxExporter(model.validate(), flavour, true).build();
    }

    /** The ONNX name of tensor {@code index} of {@code model}. */
    public static String tensorName(IntegerModel model, int index) {
        return index == model.input() ? INPUT : "t" + index + "_" + model.tensor(index).name();
    }

    public static void write(IntegerModel model, Flavour flavour, Path file) throws IOException {
        Files.write(file, export(model, flavour));
    }

    /** The ONNX graph input's name. */
    public static final String INPUT = "image";
    /** The ONNX graph output's name. */
    public static final String OUTPUT = "logits";

    private String name(int tensor) {
        return tensorName(model, tensor);
    }

    private byte[] build() {
        TensorSpec in = model.inputSpec();
        String x = INPUT;
        if (flavour == Flavour.FLOAT) {
            // the float network takes real values: pixels * input scale
            x = "image_real";
            node("Cast", List.of(INPUT), "image_float", new ProtoWriter[] {intAttr("to", FLOAT)});
            node("Mul", List.of("image_float", floatScalar(in.scale())), x, null);
        }
        String[] names = new String[model.tensors().size()];
        names[model.input()] = x;
        for (Layer l : model.layers()) {
            String out = name(l.output());
            if (l instanceof Conv2d c) {
                conv(c, names[c.input()], out);
            } else if (l instanceof Add a) {
                add(a, names[a.left()], names[a.right()], out);
            } else if (l instanceof MaxPool p) {
                node("MaxPool", List.of(names[p.input()]), out, new ProtoWriter[] {
                    intsAttr("kernel_shape", p.kernel(), p.kernel()), intsAttr("strides", p.stride(), p.stride()),
                    intsAttr("pads", p.pad(), p.pad(), p.pad(), p.pad())});
            } else if (l instanceof AvgPool p) {
                avgPool(p, names[p.input()], out);
            } else if (l instanceof GlobalAvgPool g) {
                globalAvgPool(g, names[g.input()], out);
            } else if (l instanceof Flatten f) {
                // a [N, C*H*W, 1, 1] tensor: the CHW order of the data is ONNX's NCHW order
                node("Reshape", List.of(names[f.input()], int64Constant(0, -1, 1, 1)), out, null);
            }
            names[l.output()] = out;
        }
        TensorSpec o = model.outputSpec();
        if (flavour == Flavour.FLOAT) {
            node("Flatten", List.of(names[model.output()]), OUTPUT, new ProtoWriter[] {intAttr("axis", 1)});
        } else {
            // the stored integers back in their own type: (q - zero point) is exact in float
            node("Flatten", List.of(names[model.output()]), "logits_stored", new ProtoWriter[] {intAttr("axis", 1)});
            node("DequantizeLinear", List.of("logits_stored", floatScalar(1.0), zero(o)), "logits_float", null);
            node("Cast", List.of("logits_float"), OUTPUT, new ProtoWriter[] {intAttr("to", o.signed() ? INT8 : UINT8)});
        }

        ProtoWriter graph = new ProtoWriter();
        for (ProtoWriter n : nodes) {
            graph.message(1, n);
        }
        graph.string(2, model.name());
        for (ProtoWriter t : initializers) {
            graph.message(5, t);
        }
        graph.message(11, valueInfo(INPUT, UINT8, "N", in.channels(), in.height(), in.width()));
        graph.message(12, valueInfo(OUTPUT, flavour == Flavour.FLOAT ? FLOAT : o.signed() ? INT8 : UINT8, "N", o.size()));
        if (everyTensor) {
            for (Layer l : model.layers()) {
                TensorSpec t = model.tensor(l.output());
                graph.message(12, valueInfo(name(l.output()), flavour == Flavour.FLOAT ? FLOAT : UINT8, "N", t.channels(),
                        t.height(), t.width()));
            }
        }
        ProtoWriter m = new ProtoWriter()
                .varint(1, 8) // IR version 8
                .string(2, "dova")
                .string(3, "1")
                .message(7, graph)
                .message(8, new ProtoWriter().string(1, "").varint(2, 13));
        if (flavour == Flavour.INT8) {
            m.message(8, new ProtoWriter().string(1, "com.microsoft").varint(2, 1));
        }
        return m.toByteArray();
    }

    private void conv(Conv2d c, String x, String out) {
        TensorSpec in = model.tensor(c.input());
        TensorSpec y = model.tensor(c.output());
        int perOut = c.inChannelsPerGroup();
        long[] wShape = {c.outChannels(), perOut, c.kernelH(), c.kernelW()};
        ProtoWriter[] attrs = {
            intsAttr("kernel_shape", c.kernelH(), c.kernelW()), intsAttr("strides", c.strideH(), c.strideW()),
            intsAttr("pads", c.padH(), c.padW(), c.padH(), c.padW()), intAttr("group", c.groups())};
        if (flavour == Flavour.FLOAT) {
            float[] w = new float[c.weights().length];
            int per = w.length / c.outChannels();
            float[] b = new float[c.outChannels()];
            for (int oc = 0; oc < c.outChannels(); oc++) {
                for (int i = oc * per; i < (oc + 1) * per; i++) {
                    w[i] = (float) (c.weights()[i] * c.weightScales()[oc]);
                }
                b[oc] = (float) (c.bias()[oc] * in.scale() * c.weightScales()[oc]);
            }
            String pre = c.activation() == Activation.NONE ? out : out + "_linear";
            node("Conv", List.of(x, floatTensor(w, wShape), floatTensor(b, c.outChannels())), pre, attrs);
            if (c.activation() == Activation.RELU) {
                node("Relu", List.of(pre), out, null);
            } else if (c.activation() == Activation.RELU6) {
                node("Clip", List.of(pre, floatScalar(0), floatScalar(6)), out, null);
            }
            return;
        }
        float[] ws = new float[c.outChannels()];
        for (int oc = 0; oc < ws.length; oc++) {
            ws[oc] = (float) c.weightScales()[oc];
        }
        String pre = needsClip(c.activation(), y) ? out + "_unclipped" : out;
        node("QLinearConv", List.of(x, floatScalar(in.scale()), zero(in), int8Tensor(c.weights(), wShape),
                floatTensor(ws, ws.length), int8Tensor(new byte[ws.length], ws.length), floatScalar(y.scale()), zero(y),
                int32Tensor(c.bias(), c.outChannels())), pre, attrs);
        clip(c.activation(), y, pre, out);
    }

    private void add(Add a, String left, String right, String out) {
        TensorSpec l = model.tensor(a.left());
        TensorSpec r = model.tensor(a.right());
        TensorSpec y = model.tensor(a.output());
        if (flavour == Flavour.FLOAT) {
            String pre = a.activation() == Activation.NONE ? out : out + "_linear";
            node("Add", List.of(left, right), pre, null);
            if (a.activation() == Activation.RELU) {
                node("Relu", List.of(pre), out, null);
            } else if (a.activation() == Activation.RELU6) {
                node("Clip", List.of(pre, floatScalar(0), floatScalar(6)), out, null);
            }
            return;
        }
        String pre = needsClip(a.activation(), y) ? out + "_unclipped" : out;
        node("QLinearAdd", List.of(left, floatScalar(l.scale()), zero(l), right, floatScalar(r.scale()), zero(r),
                floatScalar(y.scale()), zero(y)), pre, null).string(7, "com.microsoft");
        clip(a.activation(), y, pre, out);
    }

    private void avgPool(AvgPool p, String x, String out) {
        ProtoWriter[] attrs = {intsAttr("kernel_shape", p.kernel(), p.kernel()), intsAttr("strides", p.stride(), p.stride())};
        if (flavour == Flavour.FLOAT) {
            node("AveragePool", List.of(x), out, attrs);
        } else {
            quantizedPool("QLinearAveragePool", p.input(), p.output(), x, out, attrs);
        }
    }

    private void globalAvgPool(GlobalAvgPool g, String x, String out) {
        if (flavour == Flavour.FLOAT) {
            node("GlobalAveragePool", List.of(x), out, null);
        } else {
            quantizedPool("QLinearGlobalAveragePool", g.input(), g.output(), x, out,
                    new ProtoWriter[] {intAttr("channels_last", 0)});
        }
    }

    /** A com.microsoft QLinear pool (X, x_scale, x_zp, y_scale, y_zp), then the clamp to the output's own range. */
    private void quantizedPool(String op, int input, int output, String x, String out, ProtoWriter[] attrs) {
        TensorSpec in = model.tensor(input);
        TensorSpec y = model.tensor(output);
        String pre = needsClip(Activation.NONE, y) ? out + "_unclipped" : out;
        node(op, List.of(x, floatScalar(in.scale()), zero(in), floatScalar(y.scale()), zero(y)), pre, attrs)
                .string(7, "com.microsoft");
        clip(Activation.NONE, y, pre, out);
    }

    /** True when dova's clamp [qmin, qmax] is narrower than the ONNX 8-bit type's range. */
    private static boolean needsClip(Activation act, TensorSpec y) {
        int lo = act.qmin(y);
        int hi = act.qmax(y);
        return y.signed() ? lo != -128 || hi != 127 : lo != 0 || hi != 255;
    }

    private void clip(Activation act, TensorSpec y, String pre, String out) {
        if (!needsClip(act, y)) {
            return;
        }
        node("Clip", List.of(pre, typedScalar(y, act.qmin(y)), typedScalar(y, act.qmax(y))), out, null);
    }

    // ------------------------------------------------------------------ protobuf pieces

    private ProtoWriter node(String op, List<String> inputs, String output, ProtoWriter[] attrs) {
        ProtoWriter n = new ProtoWriter();
        for (String i : inputs) {
            n.string(1, i);
        }
        n.string(2, output);
        n.string(3, output + "_" + op);
        n.string(4, op);
        if (attrs != null) {
            for (ProtoWriter a : attrs) {
                n.message(5, a);
            }
        }
        nodes.add(n);
        return n;
    }

    private static ProtoWriter intAttr(String name, long v) {
        return new ProtoWriter().string(1, name).varint(3, v).varint(20, ATTR_INT);
    }

    private static ProtoWriter intsAttr(String name, long... v) {
        ProtoWriter a = new ProtoWriter().string(1, name);
        for (long x : v) {
            a.varint(8, x);
        }
        return a.varint(20, ATTR_INTS);
    }

    private String initializer(int dataType, byte[] raw, long... dims) {
        String name = "c" + constants++;
        ProtoWriter t = new ProtoWriter();
        for (long d : dims) {
            t.varint(1, d);
        }
        t.varint(2, dataType).string(8, name).bytes(9, raw);
        initializers.add(t);
        return name;
    }

    private String floatScalar(double v) {
        return initializer(FLOAT, le(4).putFloat((float) v).array());
    }

    /** The stored zero point: 0 for an unsigned tensor, 128 for a signed one (stored as uint8). */
    private String zero(TensorSpec t) {
        return initializer(UINT8, new byte[] {(byte) (t.signed() ? 128 : 0)});
    }

    /** Integer {@code v} of tensor {@code t} as stored (uint8, offset by the zero point). */
    private String typedScalar(TensorSpec t, int v) {
        return initializer(UINT8, new byte[] {(byte) (t.signed() ? v + 128 : v)});
    }

    private String floatTensor(float[] v, long... dims) {
        ByteBuffer b = le(4 * v.length);
        for (float f : v) {
            b.putFloat(f);
        }
        return initializer(FLOAT, b.array(), dims);
    }

    private String int8Tensor(byte[] v, long... dims) {
        return initializer(INT8, v.clone(), dims);
    }

    private String int32Tensor(int[] v, long... dims) {
        ByteBuffer b = le(4 * v.length);
        for (int i : v) {
            b.putInt(i);
        }
        return initializer(INT32, b.array(), dims);
    }

    private String int64Constant(long... v) {
        ByteBuffer b = le(8 * v.length);
        for (long i : v) {
            b.putLong(i);
        }
        return initializer(INT64, b.array(), v.length);
    }

    private static ByteBuffer le(int n) {
        return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static ProtoWriter valueInfo(String name, int elemType, String batch, long... dims) {
        ProtoWriter shape = new ProtoWriter().message(1, new ProtoWriter().string(2, batch));
        for (long d : dims) {
            shape.message(1, new ProtoWriter().varint(1, d));
        }
        ProtoWriter tensor = new ProtoWriter().varint(1, elemType).message(2, shape);
        return new ProtoWriter().string(1, name).message(2, new ProtoWriter().message(1, tensor));
    }
}
