package dova.sim.onnx;

import dova.sim.model.Activation;
import dova.sim.model.IntegerModel;
import dova.sim.model.InvalidModelException;
import dova.sim.model.ModelBuilder;
import dova.sim.model.TensorSpec;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads an int8 ONNX model in the QOperator form (docs/onnx-export.md, "Import") into an
 * {@link IntegerModel} that the simulator runs: the operators {@link OnnxExporter} writes
 * ({@code QLinearConv}, {@code QLinearAdd}, {@code MaxPool}, {@code QLinearAveragePool},
 * {@code QLinearGlobalAveragePool}, {@code Clip} after a quantized op, {@code Reshape} or
 * {@code Flatten} before a fully connected 1x1 {@code QLinearConv}) and the output tail
 * ({@code Flatten}, {@code DequantizeLinear}, {@code Cast}). Tensors must be symmetric: uint8 with
 * zero point 0 (unsigned) or 128 (signed, dova's stored form), or int8 with zero point 0; weights
 * int8 with zero point 0, scale per tensor or per output channel; kernels square, strides and
 * pads equal on both axes, no dilation. The requantization multipliers are derived from the
 * file's float32 scales at 32 bits (A32/M32, what a runtime's float requantization approximates);
 * {@code dova simulate --acc-bits --mul-bits} runs the model at any other width.
 *
 * <p>The file is untrusted: every size is checked before anything is allocated, and whatever is
 * wrong or unsupported is an {@link InvalidModelException} naming the node and what was expected.
 */
public final class OnnxImporter {
    /** Files larger than this are refused before they are read. */
    public static final long MAX_BYTES = 1L << 30;
    /** The largest input accepted, C x H x W elements (a 4K RGB frame is 25 M). */
    public static final long MAX_INPUT_ELEMENTS = 1L << 26;
    private static final int FLOAT = 1;
    private static final int UINT8 = 2;
    private static final int INT8 = 3;
    private static final int INT32 = 6;
    private static final int INT64 = 7;

    private record Tensor(String name, int type, long[] dims, byte[] raw, float[] floats, long[] ints) {
        /** The element count, refused when it does not fit an array (the dims are the file's). */
        long count() {
            long n = 1;
            for (long d : dims) {
                n *= d;
                if (n > Integer.MAX_VALUE) {
                    throw new InvalidModelException("ONNX tensor " + name + ": dims " + java.util.Arrays.toString(dims)
                            + " hold more than " + Integer.MAX_VALUE + " elements");
                }
            }
            return n;
        }
    }

    private record Attr(String name, long i, float f, long[] ints, float[] floats, Tensor t) {
    }

    private record Node(String name, String op, List<String> inputs, List<String> outputs, Map<String, Attr> attrs) {
        String label() {
            return "node " + (name.isEmpty() ? outputs.isEmpty() ? "?" : outputs.get(0) : name) + " (" + op + ")";
        }

        String in(int i) {
            return i < inputs.size() ? inputs.get(i) : "";
        }
    }

    private record ValueInfo(String name, int elemType, long[] dims) {
    }

    /** A dova tensor an ONNX name stands for: its index, scale and whether it is signed. */
    private record Q(int index, double scale, boolean signed) {
    }

    private final String modelName;
    private final List<Node> nodes = new ArrayList<>();
    private final Map<String, Tensor> initializers = new HashMap<>();
    private final List<ValueInfo> inputs = new ArrayList<>();
    private final List<String> outputs = new ArrayList<>();
    private final Map<String, Q> tensors = new HashMap<>();
    private final Map<String, List<Node>> consumers = new HashMap<>();
    private ModelBuilder builder;

    private OnnxImporter(String modelName) {
        this.modelName = modelName;
    }

    /** Reads {@code file} (at most {@link #MAX_BYTES}). */
    public static IntegerModel read(Path file) throws IOException {
        long size = Files.size(file);
        if (size > MAX_BYTES) {
            throw new InvalidModelException("ONNX " + file + ": " + size + " bytes, more than the " + MAX_BYTES + " accepted");
        }
        String name = file.getFileName().toString().replaceFirst("\\.onnx$", "");
        return fromBytes(Files.readAllBytes(file), name);
    }

    /** The model in {@code onnx}; {@code name} names it where the graph has no name. */
    public static IntegerModel fromBytes(byte[] onnx, String name) {
        OnnxImporter im = new OnnxImporter(name);
        im.parseModel(new ProtoReader(onnx, name));
        return im.convert();
    }

    // ------------------------------------------------------------------ protobuf

    private void parseModel(ProtoReader r) {
        boolean graph = false;
        for (int f; (f = r.next()) != -1; ) {
            if (f == 7) {
                parseGraph(r.message("ModelProto.graph"));
                graph = true;
            } else {
                r.skip();
            }
        }
        if (!graph) {
            throw new InvalidModelException("ONNX " + modelName + ": no graph (is this an ONNX model file?)");
        }
    }

    private String graphName;

    private void parseGraph(ProtoReader r) {
        for (int f; (f = r.next()) != -1; ) {
            switch (f) {
                case 1 -> nodes.add(parseNode(r.message("GraphProto.node")));
                case 2 -> graphName = r.string("GraphProto.name");
                case 5 -> {
                    Tensor t = parseTensor(r.message("GraphProto.initializer"));
                    initializers.put(t.name(), t);
                }
                case 11 -> inputs.add(parseValueInfo(r.message("GraphProto.input")));
                case 12 -> outputs.add(parseValueInfo(r.message("GraphProto.output")).name());
                default -> r.skip();
            }
        }
    }

    private static Node parseNode(ProtoReader r) {
        String name = "";
        String op = "";
        List<String> in = new ArrayList<>();
        List<String> out = new ArrayList<>();
        Map<String, Attr> attrs = new LinkedHashMap<>();
        for (int f; (f = r.next()) != -1; ) {
            switch (f) {
                case 1 -> in.add(r.string("NodeProto.input"));
                case 2 -> out.add(r.string("NodeProto.output"));
                case 3 -> name = r.string("NodeProto.name");
                case 4 -> op = r.string("NodeProto.op_type");
                case 5 -> {
                    Attr a = parseAttr(r.message("NodeProto.attribute"));
                    attrs.put(a.name(), a);
                }
                default -> r.skip();
            }
        }
        return new Node(name, op, in, out, attrs);
    }

    private static Attr parseAttr(ProtoReader r) {
        String name = "";
        long i = 0;
        float f = 0;
        ProtoReader.LongList ints = new ProtoReader.LongList();
        ProtoReader.FloatList floats = new ProtoReader.FloatList();
        Tensor t = null;
        for (int field; (field = r.next()) != -1; ) {
            switch (field) {
                case 1 -> name = r.string("AttributeProto.name");
                case 2 -> f = r.fixed32("AttributeProto.f");
                case 3 -> i = r.int64("AttributeProto.i");
                case 5 -> t = parseTensor(r.message("AttributeProto.t"));
                case 7 -> r.floats("AttributeProto.floats", floats);
                case 8 -> r.int64s("AttributeProto.ints", ints);
                default -> r.skip();
            }
        }
        return new Attr(name, i, f, ints.toArray(), floats.toArray(), t);
    }

    private static Tensor parseTensor(ProtoReader r) {
        ProtoReader.LongList dims = new ProtoReader.LongList();
        ProtoReader.FloatList floats = new ProtoReader.FloatList();
        ProtoReader.LongList ints = new ProtoReader.LongList();
        int type = 0;
        String name = "";
        byte[] raw = null;
        for (int f; (f = r.next()) != -1; ) {
            switch (f) {
                case 1 -> r.int64s("TensorProto.dims", dims);
                case 2 -> type = (int) r.int64("TensorProto.data_type");
                case 4 -> r.floats("TensorProto.float_data", floats);
                case 5, 7 -> r.int64s("TensorProto.int32_data", ints);
                case 8 -> name = r.string("TensorProto.name");
                case 9 -> raw = r.bytes("TensorProto.raw_data");
                case 13, 14 -> throw new InvalidModelException("ONNX tensor " + name + ": external data is not supported");
                default -> r.skip();
            }
        }
        long[] d = dims.toArray();
        for (long x : d) {
            if (x < 0 || x > Integer.MAX_VALUE) {
                throw new InvalidModelException("ONNX tensor " + name + ": dimension " + x);
            }
        }
        return new Tensor(name, type, d, raw, floats.toArray(), ints.toArray());
    }

    private static ValueInfo parseValueInfo(ProtoReader r) {
        String name = "";
        int elem = 0;
        ProtoReader.LongList dims = new ProtoReader.LongList();
        for (int f; (f = r.next()) != -1; ) {
            if (f == 1) {
                name = r.string("ValueInfoProto.name");
            } else if (f == 2) {
                ProtoReader type = r.message("ValueInfoProto.type");
                for (int g; (g = type.next()) != -1; ) {
                    if (g == 1) {
                        elem = parseTensorType(type.message("TypeProto.tensor_type"), dims);
                    } else {
                        type.skip();
                    }
                }
            } else {
                r.skip();
            }
        }
        return new ValueInfo(name, elem, dims.toArray());
    }

    /** A TypeProto.Tensor: its element type, its dimensions appended to {@code dims}. */
    private static int parseTensorType(ProtoReader tensor, ProtoReader.LongList dims) {
        int elem = 0;
        for (int h; (h = tensor.next()) != -1; ) {
            if (h == 1) {
                elem = (int) tensor.int64("TypeProto.Tensor.elem_type");
            } else if (h == 2) {
                ProtoReader shape = tensor.message("TypeProto.Tensor.shape");
                for (int k; (k = shape.next()) != -1; ) {
                    if (k == 1) {
                        dims.add(parseDimension(shape.message("TensorShapeProto.dim")));
                    } else {
                        shape.skip();
                    }
                }
            } else {
                tensor.skip();
            }
        }
        return elem;
    }

    /** A TensorShapeProto.Dimension's value, -1 when symbolic (dim_param) or absent. */
    private static long parseDimension(ProtoReader dim) {
        long v = -1;
        for (int m; (m = dim.next()) != -1; ) {
            if (m == 1) {
                v = dim.int64("Dimension.dim_value");
            } else {
                dim.skip();
            }
        }
        return v;
    }

    // ------------------------------------------------------------------ values

    private Tensor constant(Node n, int input, String what) {
        String name = n.in(input);
        Tensor t = initializers.get(name);
        if (t == null) {
            throw new InvalidModelException(n.label() + ": " + what + " (input " + input + ", '" + name
                    + "') must be an initializer");
        }
        return t;
    }

    /** Every element of an initializer as a long (integer types) after checking its size. */
    private static long[] longs(Node n, Tensor t, String what) {
        long count = t.count();
        int size = switch (t.type()) {
            case UINT8, INT8 -> 1;
            case INT32 -> 4;
            case INT64 -> 8;
            default -> throw new InvalidModelException(n.label() + ": " + what + " has data type " + t.type()
                    + ", expected an integer type");
        };
        if (t.raw() != null) {
            if (t.raw().length != count * size) {
                throw new InvalidModelException(n.label() + ": " + what + " has " + t.raw().length + " bytes of data for "
                        + count + " elements of " + size + " bytes");
            }
            ByteBuffer b = ByteBuffer.wrap(t.raw()).order(ByteOrder.LITTLE_ENDIAN);
            long[] v = new long[(int) count];
            for (int i = 0; i < v.length; i++) {
                v[i] = switch (t.type()) {
                    case UINT8 -> b.get() & 0xFF;
                    case INT8 -> b.get();
                    case INT32 -> b.getInt();
                    default -> b.getLong();
                };
            }
            return v;
        }
        if (t.ints().length != count) {
            throw new InvalidModelException(n.label() + ": " + what + " has " + t.ints().length + " values for " + count
                    + " elements");
        }
        long[] v = t.ints().clone();
        // int32_data holds the narrow types as sign-extended int32 varints
        boolean narrow = t.type() != INT64;
        long lo = switch (t.type()) {
            case UINT8 -> 0;
            case INT8 -> -128;
            case INT32 -> Integer.MIN_VALUE;
            default -> Long.MIN_VALUE;
        };
        long hi = switch (t.type()) {
            case UINT8 -> 255;
            case INT8 -> 127;
            case INT32 -> Integer.MAX_VALUE;
            default -> Long.MAX_VALUE;
        };
        for (int i = 0; i < v.length; i++) {
            v[i] = narrow ? (int) v[i] : v[i];
            if (v[i] < lo || v[i] > hi) {
                throw new InvalidModelException(n.label() + ": " + what + " value " + v[i] + " outside its type");
            }
        }
        return v;
    }

    private static float[] floats(Node n, Tensor t, String what) {
        if (t.type() != FLOAT) {
            throw new InvalidModelException(n.label() + ": " + what + " has data type " + t.type() + ", expected float");
        }
        long count = t.count();
        if (t.raw() != null) {
            if (t.raw().length != count * 4) {
                throw new InvalidModelException(n.label() + ": " + what + " has " + t.raw().length + " bytes of data for "
                        + count + " floats");
            }
            ByteBuffer b = ByteBuffer.wrap(t.raw()).order(ByteOrder.LITTLE_ENDIAN);
            float[] v = new float[(int) count];
            for (int i = 0; i < v.length; i++) {
                v[i] = b.getFloat();
            }
            return v;
        }
        if (t.floats().length != count) {
            throw new InvalidModelException(n.label() + ": " + what + " has " + t.floats().length + " values for " + count
                    + " elements");
        }
        return t.floats().clone();
    }

    private static double scale(Node n, Tensor t, String what) {
        float[] v = floats(n, t, what);
        if (v.length != 1 || !(v[0] > 0) || Float.isInfinite(v[0])) {
            throw new InvalidModelException(n.label() + ": " + what + " must be one positive finite float, got "
                    + java.util.Arrays.toString(v.length > 4 ? java.util.Arrays.copyOf(v, 4) : v));
        }
        return v[0];
    }

    /** Whether a tensor of this zero point is signed: uint8 0 no, uint8 128 yes (dova's stored form), int8 0 yes. */
    private static boolean signedness(Node n, Tensor zp, String what) {
        long[] v = longs(n, zp, what);
        if (v.length != 1) {
            throw new InvalidModelException(n.label() + ": " + what + " must be a scalar, got " + v.length + " values");
        }
        if (zp.type() == UINT8 && (v[0] == 0 || v[0] == 128)) {
            return v[0] == 128;
        }
        if (zp.type() == INT8 && v[0] == 0) {
            return true;
        }
        throw new InvalidModelException(n.label() + ": " + what + " " + v[0] + " of type " + zp.type()
                + ": dova's tensors are symmetric (uint8 zero point 0 or 128, int8 zero point 0)");
    }

    private Q read(Node n, int input, int scaleInput, int zeroInput) {
        String name = n.in(input);
        double s = scale(n, constant(n, scaleInput, "input scale"), "input scale");
        boolean signed = signedness(n, constant(n, zeroInput, "input zero point"), "input zero point");
        Q q = tensors.get(name);
        if (q == null && builder == null && isGraphInput(name)) {
            if (signed) {
                throw new InvalidModelException(n.label() + ": reads the graph input '" + name + "' as signed; dova's input"
                        + " is unsigned 8-bit pixels (zero point 0)");
            }
            long[] d = graphInput().dims();
            builder = new ModelBuilder(graphName == null || graphName.isEmpty() ? modelName : graphName, 8, 8, 32, 32);
            int t = builder.input(name, (int) d[1], (int) d[2], (int) d[3], s);
            q = new Q(t, s, false);
            tensors.put(name, q);
        }
        if (q == null) {
            throw new InvalidModelException(n.label() + ": input '" + name + "' is not produced by any node before it");
        }
        if (q.signed() != signed) {
            throw new InvalidModelException(n.label() + ": reads '" + name + "' as " + (signed ? "signed" : "unsigned")
                    + ", produced " + (q.signed() ? "signed" : "unsigned"));
        }
        if (Math.abs(q.scale() - s) > 1e-6 * s) {
            throw new InvalidModelException(n.label() + ": reads '" + name + "' at scale " + s + ", produced at scale "
                    + q.scale() + " (dova tensors have one scale)");
        }
        return q;
    }

    private boolean isGraphInput(String name) {
        return inputs.stream().anyMatch(v -> v.name().equals(name)) && !initializers.containsKey(name);
    }

    private ValueInfo graphInput() {
        List<ValueInfo> real = inputs.stream().filter(v -> !initializers.containsKey(v.name())).toList();
        if (real.size() != 1) {
            throw new InvalidModelException("ONNX " + modelName + ": " + real.size() + " graph inputs; dova models have one");
        }
        ValueInfo v = real.get(0);
        if (v.elemType() != UINT8) {
            throw new InvalidModelException("ONNX " + modelName + ": the input '" + v.name() + "' has data type "
                    + v.elemType() + "; dova's input is uint8 pixels (quantize outside the model)");
        }
        long[] d = v.dims();
        if (d.length != 4 || d[1] < 1 || d[2] < 1 || d[3] < 1 || d[1] > 4096 || d[2] > 16384 || d[3] > 16384
                || d[1] * d[2] * d[3] > MAX_INPUT_ELEMENTS) {
            throw new InvalidModelException("ONNX " + modelName + ": the input '" + v.name() + "' has shape "
                    + java.util.Arrays.toString(d) + "; expected [N, C, H, W] with fixed C, H, W, at most " + MAX_INPUT_ELEMENTS
                    + " elements");
        }
        return v;
    }

    // ------------------------------------------------------------------ graph

    private int[] pair(Node n, String attr, int dflt) {
        Attr a = n.attrs().get(attr);
        if (a == null) {
            return new int[] {dflt, dflt};
        }
        long[] v = a.ints();
        if (v.length != 2 && v.length != 4) {
            throw new InvalidModelException(n.label() + ": attribute " + attr + " " + java.util.Arrays.toString(v)
                    + ": expected 2 values (4 for pads)");
        }
        for (long x : v) {
            if (x != v[0]) {
                throw new InvalidModelException(n.label() + ": attribute " + attr + " " + java.util.Arrays.toString(v)
                        + ": dova needs the same value on both axes (and both sides)");
            }
        }
        if (v[0] < 0 || v[0] > 4096) {
            throw new InvalidModelException(n.label() + ": attribute " + attr + " " + v[0]);
        }
        return new int[] {(int) v[0], (int) v[0]};
    }

    private void noUnsupportedAttrs(Node n) {
        Attr pad = n.attrs().get("auto_pad");
        if (pad != null) {
            throw new InvalidModelException(n.label() + ": auto_pad is not supported (give explicit pads)");
        }
        Attr d = n.attrs().get("dilations");
        if (d != null) {
            for (long x : d.ints()) {
                if (x != 1) {
                    throw new InvalidModelException(n.label() + ": dilation " + x + " is not supported");
                }
            }
        }
        Attr ceil = n.attrs().get("ceil_mode");
        if (ceil != null && ceil.i() != 0) {
            throw new InvalidModelException(n.label() + ": ceil_mode 1 is not supported");
        }
    }

    private IntegerModel convert() {
        ValueInfo in = graphInput();
        for (Node n : nodes) {
            for (String i : n.inputs()) {
                consumers.computeIfAbsent(i, k -> new ArrayList<>()).add(n);
            }
        }
        if (outputs.isEmpty()) {
            throw new InvalidModelException("ONNX " + modelName + ": the graph has no output");
        }
        java.util.Set<Node> folded = new java.util.HashSet<>();
        for (Node n : nodes) {
            if (folded.contains(n)) {
                continue;
            }
            if (n.outputs().size() != 1) {
                throw new InvalidModelException(n.label() + ": " + n.outputs().size() + " outputs; expected 1");
            }
            String out = n.outputs().get(0);
            switch (n.op()) {
                case "QLinearConv" -> conv(n, folded);
                case "QLinearAdd" -> add(n, folded);
                case "MaxPool" -> {
                    noUnsupportedAttrs(n);
                    Q x = existing(n, 0);
                    int k = kernel(n);
                    int s = pair(n, "strides", 1)[0];
                    int p = pair(n, "pads", 0)[0];
                    put(out, builder.maxPool(layerName(n), x.index(), k, s, p), x.scale(), x.signed());
                }
                case "QLinearAveragePool" -> {
                    noUnsupportedAttrs(n);
                    Q x = read(n, 0, 1, 2);
                    if (pair(n, "pads", 0)[0] != 0) {
                        throw new InvalidModelException(n.label() + ": padded average pooling is not supported");
                    }
                    double ys = scale(n, constant(n, 3, "output scale"), "output scale");
                    outSign(n, 4, x.signed());
                    put(out, builder.avgPool(layerName(n), x.index(), kernel(n), pair(n, "strides", 1)[0], ys), ys,
                            x.signed());
                    noClipAfter(n);
                }
                case "QLinearGlobalAveragePool" -> {
                    Attr cl = n.attrs().get("channels_last");
                    if (cl != null && cl.i() != 0) {
                        throw new InvalidModelException(n.label() + ": channels_last 1 is not supported (NCHW only)");
                    }
                    Q x = read(n, 0, 1, 2);
                    double ys = scale(n, constant(n, 3, "output scale"), "output scale");
                    outSign(n, 4, x.signed());
                    put(out, builder.globalAvgPool(layerName(n), x.index(), ys), ys, x.signed());
                    noClipAfter(n);
                }
                case "Reshape", "Flatten" -> {
                    Q x = existing(n, 0);
                    TensorSpec t = builder.tensor(x.index());
                    if (n.op().equals("Reshape")) {
                        long[] shape = longs(n, constant(n, 1, "shape"), "shape");
                        boolean flat = shape.length == 4 && shape[0] == 0 && (shape[1] == -1 || shape[1] == t.size())
                                && shape[2] == 1 && shape[3] == 1;
                        boolean flat2 = shape.length == 2 && shape[0] == 0 && (shape[1] == -1 || shape[1] == t.size());
                        if (!flat && !flat2) {
                            throw new InvalidModelException(n.label() + ": reshape to " + java.util.Arrays.toString(shape)
                                    + "; only flattening ([0, -1, 1, 1] or [0, -1]) is supported");
                        }
                    } else if (n.attrs().containsKey("axis") && n.attrs().get("axis").i() != 1) {
                        throw new InvalidModelException(n.label() + ": flatten axis " + n.attrs().get("axis").i()
                                + "; only axis 1 is supported");
                    }
                    if (n.op().equals("Flatten") && t.height() == 1 && t.width() == 1) {
                        tensors.put(out, x); // already C x 1 x 1: the output tail's [N, C]
                    } else {
                        put(out, builder.flatten(layerName(n), x.index()), x.scale(), x.signed());
                    }
                }
                case "DequantizeLinear", "Cast" -> {
                    // the output tail: dova's output is the integers themselves
                    Q x = existing(n, 0);
                    for (Node c : consumers.getOrDefault(out, List.of())) {
                        if (!List.of("DequantizeLinear", "Cast", "Flatten", "Reshape").contains(c.op())) {
                            throw new InvalidModelException(n.label() + ": a dequantized tensor feeds " + c.label()
                                    + "; only the output tail may leave the integer domain");
                        }
                    }
                    tensors.put(out, x);
                }
                default -> throw new InvalidModelException(n.label() + ": operator " + n.op() + " is not supported; the"
                        + " importer reads QLinearConv, QLinearAdd, MaxPool, QLinearAveragePool, QLinearGlobalAveragePool,"
                        + " Clip after them, Reshape/Flatten, and a DequantizeLinear/Cast output tail");
            }
        }
        if (builder == null) {
            throw new InvalidModelException("ONNX " + modelName + ": no quantized node reads the input '" + in.name() + "'");
        }
        Q o = tensors.get(outputs.get(0));
        if (o == null) {
            throw new InvalidModelException("ONNX " + modelName + ": the output '" + outputs.get(0) + "' is not produced");
        }
        return builder.build(o.index());
    }

    private static String layerName(Node n) {
        return n.outputs().get(0);
    }

    private Q existing(Node n, int input) {
        Q x = tensors.get(n.in(input));
        if (x == null) {
            throw new InvalidModelException(n.label() + ": input '" + n.in(input) + "' is not produced by a quantized node"
                    + " before it");
        }
        return x;
    }

    private void put(String name, int index, double scale, boolean signed) {
        tensors.put(name, new Q(index, scale, signed));
    }

    private int kernel(Node n) {
        int[] k = pair(n, "kernel_shape", -1);
        if (k[0] < 1) {
            throw new InvalidModelException(n.label() + ": no kernel_shape");
        }
        return k[0];
    }

    private void outSign(Node n, int zeroInput, boolean expected) {
        boolean s = signedness(n, constant(n, zeroInput, "output zero point"), "output zero point");
        if (s != expected) {
            throw new InvalidModelException(n.label() + ": output " + (s ? "signed" : "unsigned") + ", input "
                    + (expected ? "signed" : "unsigned") + "; a pool keeps its input's type");
        }
    }

    private void conv(Node n, java.util.Set<Node> folded) {
        noUnsupportedAttrs(n);
        Q x = read(n, 0, 1, 2);
        Tensor wt = constant(n, 3, "weights");
        if (wt.type() != INT8 || wt.dims().length != 4) {
            throw new InvalidModelException(n.label() + ": weights must be int8 [O, C/group, kH, kW], got type "
                    + wt.type() + " " + java.util.Arrays.toString(wt.dims()));
        }
        long[] wd = wt.dims();
        if (wd[2] != wd[3]) {
            throw new InvalidModelException(n.label() + ": kernel " + wd[2] + "x" + wd[3] + "; dova's kernels are square");
        }
        int oc = (int) wd[0];
        long[] w = longs(n, wt, "weights");
        float[] ws = floats(n, constant(n, 4, "weight scales"), "weight scales");
        if (ws.length != 1 && ws.length != oc) {
            throw new InvalidModelException(n.label() + ": " + ws.length + " weight scales for " + oc + " output channels");
        }
        for (long z : longs(n, constant(n, 5, "weight zero points"), "weight zero points")) {
            if (z != 0) {
                throw new InvalidModelException(n.label() + ": weight zero point " + z + "; dova's weights are symmetric");
            }
        }
        double ys = scale(n, constant(n, 6, "output scale"), "output scale");
        boolean signedOut = signedness(n, constant(n, 7, "output zero point"), "output zero point");
        int[] bias = new int[oc];
        if (!n.in(8).isEmpty()) {
            long[] b = longs(n, constant(n, 8, "bias"), "bias");
            if (b.length != oc) {
                throw new InvalidModelException(n.label() + ": " + b.length + " biases for " + oc + " output channels");
            }
            for (int c = 0; c < oc; c++) {
                bias[c] = (int) b[c];
            }
        }
        long g = n.attrs().containsKey("group") ? n.attrs().get("group").i() : 1;
        if (g < 1 || g > oc) {
            throw new InvalidModelException(n.label() + ": group " + g + " for " + oc + " output channels");
        }
        int group = (int) g;
        TensorSpec xs = builder.tensor(x.index());
        if (wd[1] * group != xs.channels() || oc % group != 0) {
            throw new InvalidModelException(n.label() + ": weights " + java.util.Arrays.toString(wd) + " with group "
                    + group + " do not fit an input of " + xs.channels() + " channels");
        }
        byte[] wb = new byte[w.length];
        for (int i = 0; i < w.length; i++) {
            wb[i] = (byte) w[i];
        }
        double[] sw = new double[oc];
        for (int c = 0; c < oc; c++) {
            sw[c] = ws.length == 1 ? ws[0] : ws[c];
            if (!(sw[c] > 0) || Double.isInfinite(sw[c])) {
                throw new InvalidModelException(n.label() + ": weight scale " + sw[c] + " of channel " + c);
            }
        }
        Clamp clamp = clamp(n, signedOut, ys);
        int t = builder.conv(layerName(n), x.index(), oc, (int) wd[2], pair(n, "strides", 1)[0], pair(n, "pads", 0)[0], group,
                wb, bias, sw, ys, clamp.act());
        finish(n, folded, clamp, t, ys, signedOut);
    }

    private void add(Node n, java.util.Set<Node> folded) {
        Q a = read(n, 0, 1, 2);
        Q b = read(n, 3, 4, 5);
        TensorSpec as = builder.tensor(a.index());
        TensorSpec bs = builder.tensor(b.index());
        if (as.channels() != bs.channels() || as.height() != bs.height() || as.width() != bs.width()) {
            throw new InvalidModelException(n.label() + ": adds " + as.shape() + " and " + bs.shape()
                    + " (no broadcasting)");
        }
        double ys = scale(n, constant(n, 6, "output scale"), "output scale");
        boolean signedOut = signedness(n, constant(n, 7, "output zero point"), "output zero point");
        Clamp clamp = clamp(n, signedOut, ys);
        int t = builder.add(layerName(n), a.index(), b.index(), ys, clamp.act());
        finish(n, folded, clamp, t, ys, signedOut);
    }

    /** The activation a requantizing node's output type and following Clip (if any) encode. */
    private record Clamp(Activation act, int bits, Node clip) {
    }

    private Clamp clamp(Node n, boolean signedOut, double ys) {
        Activation act = signedOut ? Activation.NONE : Activation.RELU;
        List<Node> cs = consumers.getOrDefault(n.outputs().get(0), List.of());
        if (cs.size() != 1 || !cs.get(0).op().equals("Clip") || outputs.contains(n.outputs().get(0))) {
            return new Clamp(act, 8, null);
        }
        Node clip = cs.get(0);
        long lo;
        long hi;
        if (!clip.in(1).isEmpty() || !clip.in(2).isEmpty()) {
            // an absent bound is the type's own
            lo = clip.in(1).isEmpty() ? (signedOut ? -128 : 0) : stored(clip, 1, signedOut);
            hi = clip.in(2).isEmpty() ? (signedOut ? 127 : 255) : stored(clip, 2, signedOut);
        } else {
            throw new InvalidModelException(clip.label() + ": a Clip without min and max inputs");
        }
        if (!signedOut && lo == 0) {
            if (hi == Math.min(255, Math.round(6.0 / ys)) && hi < 255) {
                return new Clamp(Activation.RELU6, 8, clip);
            }
            for (int bits = 1; bits <= 8; bits++) {
                if (hi == (1 << bits) - 1) {
                    return new Clamp(Activation.RELU, bits, clip);
                }
            }
        } else if (signedOut) {
            for (int bits = 2; bits <= 8; bits++) {
                if (lo == -(1 << (bits - 1)) && hi == (1 << (bits - 1)) - 1) {
                    return new Clamp(Activation.NONE, bits, clip);
                }
            }
        }
        throw new InvalidModelException(clip.label() + ": clamps to [" + lo + ", " + hi + "] (stored value minus zero"
                + " point); dova's clamps are ReLU6 (round(6 / scale)) or a narrower integer width");
    }

    /** A Clip bound as an integer: the stored uint8 value minus the tensor's zero point. */
    private long stored(Node clip, int input, boolean signed) {
        Tensor t = constant(clip, input, input == 1 ? "min" : "max");
        long[] v = longs(clip, t, input == 1 ? "min" : "max");
        if (v.length != 1) {
            throw new InvalidModelException(clip.label() + ": min and max must be scalars");
        }
        return t.type() == UINT8 && signed ? v[0] - 128 : v[0];
    }

    private void finish(Node n, java.util.Set<Node> folded, Clamp clamp, int t, double ys, boolean signedOut) {
        if (clamp.bits() < 8) {
            builder.narrow(t, clamp.bits());
        }
        put(n.outputs().get(0), t, ys, signedOut);
        if (clamp.clip() != null) {
            folded.add(clamp.clip());
            put(clamp.clip().outputs().get(0), t, ys, signedOut);
        }
    }

    /** A pool's following Clip (a narrowed pool output) is not one dova writes: refuse it. */
    private void noClipAfter(Node n) {
        List<Node> cs = consumers.getOrDefault(n.outputs().get(0), List.of());
        for (Node c : cs) {
            if (c.op().equals("Clip")) {
                throw new InvalidModelException(c.label() + ": a Clip after " + n.op() + " is not supported");
            }
        }
    }
}
