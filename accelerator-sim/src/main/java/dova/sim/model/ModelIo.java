package dova.sim.model;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Reads and writes the integer model file format (docs/model-format.md): an 8-byte magic,
 * a format version, the body length, the body, and the SHA-256 of the body. A reader of
 * version {@value #VERSION} reads versions {@value #OLDEST_READABLE} to {@value #VERSION} and rejects others, truncated files, checksum mismatches and
 * inconsistent contents with a message naming the file, the layer and the problem.
 */
public final class ModelIo {
    /** The current format version. */
    public static final int VERSION = 2;
    /** The oldest format version this build still reads (version 1 has no {@link ModelInfo}). */
    public static final int OLDEST_READABLE = 1;
    static final byte[] MAGIC = "DOVAQNT\n".getBytes(StandardCharsets.US_ASCII);
    private static final int MAX_STRING = 1 << 12;
    private static final int MAX_COUNT = 1 << 16;

    private ModelIo() {
    }

    /**
     * Writes {@code model} atomically (temp file, then rename), readable by everyone (rw-r--r--, as
     * a file written directly would be): a model is read by the service's own user, which in a
     * container is not the user who exported it.
     */
    public static void write(IntegerModel model, Path file) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Path tmp = Files.createTempFile(parent, file.getFileName().toString(), ".part");
        try {
            Files.write(tmp, toBytes(model));
            if (tmp.getFileSystem().supportedFileAttributeViews().contains("posix")) {
                Files.setPosixFilePermissions(tmp, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
            }
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Reads and validates a model file. */
    public static IntegerModel read(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IOException(file + ": no such model file");
        }
        try {
            return fromBytes(Files.readAllBytes(file));
        } catch (InvalidModelException e) {
            throw new InvalidModelException(file + ": " + e.getMessage(), e);
        }
    }

    public static byte[] toBytes(IntegerModel model) {
        return encode(model.validate());
    }

    /** Serialises without validating: tests use it to forge inconsistent files. */
    static byte[] encode(IntegerModel model) {
        byte[] body = body(model);
        ByteBuffer out = ByteBuffer.allocate(MAGIC.length + 4 + 8 + body.length + 32);
        out.put(MAGIC).putInt(VERSION).putLong(body.length).put(body).put(sha256(body));
        return out.array();
    }

    public static IntegerModel fromBytes(byte[] bytes) {
        if (bytes.length < MAGIC.length + 12 || !Arrays.equals(Arrays.copyOf(bytes, MAGIC.length), MAGIC)) {
            throw new InvalidModelException("not a dova integer model (bad magic number)");
        }
        ByteBuffer in = ByteBuffer.wrap(bytes);
        in.position(MAGIC.length);
        int version = in.getInt();
        if (version < OLDEST_READABLE || version > VERSION) {
            throw new InvalidModelException("unknown model format version " + version + "; this build reads versions "
                    + OLDEST_READABLE + " to " + VERSION);
        }
        long bodyLength = in.getLong();
        if (bodyLength < 0 || bodyLength > bytes.length) {
            throw new InvalidModelException("truncated or corrupt: header promises a body of " + Long.toUnsignedString(bodyLength)
                    + " bytes, the file has " + bytes.length + " bytes in all");
        }
        long expected = (long) MAGIC.length + 12 + bodyLength + 32;
        if (bytes.length < expected) {
            throw new InvalidModelException("truncated: header promises " + expected + " bytes, file has " + bytes.length);
        }
        if (bytes.length > expected) {
            throw new InvalidModelException("trailing bytes: header promises " + expected + " bytes, file has " + bytes.length);
        }
        byte[] body = Arrays.copyOfRange(bytes, MAGIC.length + 12, (int) (MAGIC.length + 12 + bodyLength));
        byte[] sum = Arrays.copyOfRange(bytes, bytes.length - 32, bytes.length);
        if (!MessageDigest.isEqual(sum, sha256(body))) {
            throw new InvalidModelException("checksum mismatch: the file is corrupt or was modified after export");
        }
        try {
            return parse(new DataInputStream(new ByteArrayInputStream(body)), version).validate();
        } catch (EOFException e) {
            throw new InvalidModelException("inconsistent: body ends early although its checksum matches");
        } catch (IOException e) {
            throw new InvalidModelException("unreadable body: " + e.getMessage(), e);
        }
    }

    private static byte[] sha256(byte[] b) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(b);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] body(IntegerModel m) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeUTF(m.name());
            out.writeByte(m.weightBits());
            out.writeByte(m.activationBits());
            out.writeByte(m.accumulatorBits());
            out.writeByte(m.multiplierBits());
            out.writeInt(m.tensors().size());
            for (TensorSpec t : m.tensors()) {
                out.writeUTF(t.name());
                out.writeInt(t.channels());
                out.writeInt(t.height());
                out.writeInt(t.width());
                out.writeDouble(t.scale());
                out.writeBoolean(t.signed());
                out.writeByte(t.bits());
            }
            out.writeInt(m.input());
            out.writeInt(m.output());
            out.writeInt(m.layers().size());
            for (Layer l : m.layers()) {
                out.writeByte(l.kind().code());
                out.writeUTF(l.name());
                writeLayer(out, l);
            }
            // version 2: what the model is for
            ModelInfo info = m.info();
            out.writeUTF(info.dataSet());
            out.writeInt(info.classNames().size());
            for (String c : info.classNames()) {
                out.writeUTF(c);
            }
            out.writeUTF(info.input());
            out.writeByte(info.overflow() == null ? 0 : info.overflow() == dova.sim.Overflow.WRAP ? 1 : 2);
        } catch (IOException e) {
            throw new IllegalStateException("in-memory write failed", e);
        }
        return bytes.toByteArray();
    }

    private static void writeLayer(DataOutputStream out, Layer l) throws IOException {
        if (l instanceof Conv2d c) {
            for (int v : new int[] {c.input(), c.output(), c.outChannels(), c.inChannels(), c.kernelH(), c.kernelW(),
                    c.strideH(), c.strideW(), c.padH(), c.padW(), c.groups()}) {
                out.writeInt(v);
            }
            out.writeByte(c.activation().code());
            out.writeInt(c.weights().length);
            out.write(c.weights());
            for (int ch = 0; ch < c.outChannels(); ch++) {
                out.writeInt(c.bias()[ch]);
                out.writeDouble(c.weightScales()[ch]);
                out.writeLong(c.multipliers()[ch]);
                out.writeByte(c.shifts()[ch]);
            }
        } else if (l instanceof Add a) {
            out.writeInt(a.left());
            out.writeInt(a.right());
            out.writeInt(a.output());
            out.writeLong(a.leftMultiplier());
            out.writeLong(a.rightMultiplier());
            out.writeByte(a.shift());
            out.writeByte(a.activation().code());
        } else if (l instanceof MaxPool p) {
            for (int v : new int[] {p.input(), p.output(), p.kernel(), p.stride(), p.pad()}) {
                out.writeInt(v);
            }
        } else if (l instanceof AvgPool p) {
            for (int v : new int[] {p.input(), p.output(), p.kernel(), p.stride()}) {
                out.writeInt(v);
            }
            out.writeLong(p.multiplier());
            out.writeByte(p.shift());
        } else if (l instanceof GlobalAvgPool g) {
            out.writeInt(g.input());
            out.writeInt(g.output());
            out.writeLong(g.multiplier());
            out.writeByte(g.shift());
        } else if (l instanceof Flatten f) {
            out.writeInt(f.input());
            out.writeInt(f.output());
        }
    }

    private static String utf(DataInputStream in) throws IOException {
        String s = in.readUTF();
        if (s.length() > MAX_STRING) {
            throw new InvalidModelException("name longer than " + MAX_STRING + " characters");
        }
        return s;
    }

    private static int count(DataInputStream in, String what) throws IOException {
        int n = in.readInt();
        if (n < 0 || n > MAX_COUNT) {
            throw new InvalidModelException(what + " count " + n + " outside [0, " + MAX_COUNT + "]");
        }
        return n;
    }

    private static <E extends Enum<E> & WireCode> E byCode(Class<E> type, int code, String what, String layer) {
        return WireCode.byCode(type, code).orElseThrow(() -> new InvalidModelException("layer " + layer + ": unknown "
                + what + " code " + code));
    }

    private static IntegerModel parse(DataInputStream in, int version) throws IOException {
        String name = utf(in);
        int wb = in.readUnsignedByte();
        int ab = in.readUnsignedByte();
        int acc = in.readUnsignedByte();
        int mul = in.readUnsignedByte();
        int nt = count(in, "tensor");
        List<TensorSpec> tensors = new ArrayList<>(nt);
        for (int i = 0; i < nt; i++) {
            String tn = utf(in);
            int c = in.readInt();
            int h = in.readInt();
            int w = in.readInt();
            double scale = in.readDouble();
            boolean signed = in.readBoolean();
            int bits = in.readUnsignedByte();
            try {
                tensors.add(new TensorSpec(tn, c, h, w, scale, signed, bits));
            } catch (IllegalArgumentException e) {
                throw new InvalidModelException(e.getMessage());
            }
        }
        int input = in.readInt();
        int output = in.readInt();
        int nl = count(in, "layer");
        List<Layer> layers = new ArrayList<>(nl);
        for (int i = 0; i < nl; i++) {
            Layer.Kind kind = byCode(Layer.Kind.class, in.readUnsignedByte(), "layer kind", "#" + i);
            String ln = utf(in);
            layers.add(readLayer(in, kind, ln));
        }
        ModelInfo info = version >= 2 ? readInfo(in) : ModelInfo.UNKNOWN;
        if (in.available() > 0) {
            throw new InvalidModelException("inconsistent: " + in.available() + " unread bytes after the last "
                    + (version >= 2 ? "section" : "layer"));
        }
        return new IntegerModel(name, wb, ab, acc, mul, tensors, input, output, layers, info);
    }

    private static ModelInfo readInfo(DataInputStream in) throws IOException {
        String dataSet = utf(in);
        int n = count(in, "class name");
        List<String> classes = new ArrayList<>(Math.min(n, 1024));
        for (int i = 0; i < n; i++) {
            classes.add(utf(in));
        }
        String input = utf(in);
        int o = in.readUnsignedByte();
        dova.sim.Overflow overflow = switch (o) {
            case 0 -> null;
            case 1 -> dova.sim.Overflow.WRAP;
            case 2 -> dova.sim.Overflow.SATURATE;
            default -> throw new InvalidModelException("unknown overflow mode code " + o + " (0 unknown, 1 wrap, 2 saturate)");
        };
        return new ModelInfo(dataSet, classes, input, overflow);
    }

    private static Layer readLayer(DataInputStream in, Layer.Kind kind, String name) throws IOException {
        switch (kind) {
            case CONV2D: {
                int[] v = new int[11];
                for (int k = 0; k < v.length; k++) {
                    v[k] = in.readInt();
                }
                Activation act = byCode(Activation.class, in.readUnsignedByte(), "activation", name);
                int nw = in.readInt();
                if (nw < 0 || nw > in.available()) {
                    throw new InvalidModelException("layer " + name + ": weight count " + nw + " exceeds the file");
                }
                byte[] w = in.readNBytes(nw);
                int oc = v[2];
                if (oc < 1 || (long) oc * 21 > in.available()) {
                    throw new InvalidModelException("layer " + name + ": output channel count " + oc + " inconsistent with the file");
                }
                int[] bias = new int[oc];
                double[] ws = new double[oc];
                long[] m = new long[oc];
                int[] s = new int[oc];
                for (int c = 0; c < oc; c++) {
                    bias[c] = in.readInt();
                    ws[c] = in.readDouble();
                    m[c] = in.readLong();
                    s[c] = in.readUnsignedByte();
                }
                return new Conv2d(name, v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], w, bias, ws, m,
                        s, act);
            }
            case ADD: {
                int l = in.readInt();
                int r = in.readInt();
                int o = in.readInt();
                long ml = in.readLong();
                long mr = in.readLong();
                int s = in.readUnsignedByte();
                Activation act = byCode(Activation.class, in.readUnsignedByte(), "activation", name);
                return new Add(name, l, r, o, ml, mr, s, act);
            }
            case MAX_POOL:
                return new MaxPool(name, in.readInt(), in.readInt(), in.readInt(), in.readInt(), in.readInt());
            case AVG_POOL: {
                int i = in.readInt();
                int o = in.readInt();
                int k = in.readInt();
                int st = in.readInt();
                return new AvgPool(name, i, o, k, st, in.readLong(), in.readUnsignedByte());
            }
            case GLOBAL_AVG_POOL: {
                int i = in.readInt();
                int o = in.readInt();
                return new GlobalAvgPool(name, i, o, in.readLong(), in.readUnsignedByte());
            }
            case FLATTEN:
                return new Flatten(name, in.readInt(), in.readInt());
            default:
                throw new InvalidModelException("layer " + name + ": unsupported kind " + kind);
        }
    }
}
