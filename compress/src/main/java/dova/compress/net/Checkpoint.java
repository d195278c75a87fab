package dova.compress.net;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.Map;

/**
 * A training checkpoint: architecture, epoch, quantization state and every parameter, in a
 * small versioned binary format (no Java serialization). Loading into a network of another
 * architecture or shape fails with a message naming the difference, before anything changes.
 */
public final class Checkpoint {
    private static final int MAGIC = 0x444F5643; // "DOVC"
    private static final int VERSION = 3; // 2: activation widths; 3: per-channel weight limits

    private Checkpoint() {
    }

    public static void save(QuantNet net, int epoch, Path file) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        Path tmp = file.resolveSibling(file.getFileName() + ".part");
        try (DataOutputStream out = new DataOutputStream(new java.io.BufferedOutputStream(Files.newOutputStream(tmp)))) {
            out.writeInt(MAGIC);
            out.writeInt(VERSION);
            out.writeUTF(net.architecture().id());
            out.writeInt(epoch);
            QuantState st = net.state();
            out.writeInt(st.activationScales.size());
            for (Map.Entry<String, Double> e : st.activationScales.entrySet()) {
                out.writeUTF(e.getKey());
                out.writeDouble(e.getValue());
            }
            out.writeInt(st.weightLimits.size());
            for (Map.Entry<String, Integer> e : st.weightLimits.entrySet()) {
                out.writeUTF(e.getKey());
                out.writeInt(e.getValue());
            }
            out.writeInt(st.activationBits.size());
            for (Map.Entry<String, Integer> e : st.activationBits.entrySet()) {
                out.writeUTF(e.getKey());
                out.writeInt(e.getValue());
            }
            out.writeInt(st.channelLimits.size());
            for (Map.Entry<String, int[]> e : st.channelLimits.entrySet()) {
                out.writeUTF(e.getKey());
                out.writeInt(e.getValue().length);
                for (int v : e.getValue()) {
                    out.writeInt(v);
                }
            }
            out.writeInt(net.getDirectParameters().size());
            for (Parameter p : net.getDirectParameters().values()) {
                NDArray a = p.getArray();
                out.writeUTF(p.getName());
                long[] shape = a.getShape().getShape();
                out.writeInt(shape.length);
                for (long d : shape) {
                    out.writeLong(d);
                }
                for (float f : a.toFloatArray()) {
                    out.writeFloat(f);
                }
            }
        }
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** Opens a checkpoint and checks magic and version; returns the version, the stream positioned after it. */
    private static int openHeader(DataInputStream in, Path file) throws IOException {
        if (in.readInt() != MAGIC) {
            throw new IOException(file + ": not a dova checkpoint");
        }
        int version = in.readInt();
        if (version < 1 || version > VERSION) {
            throw new IOException(file + ": unknown checkpoint version " + version + "; this build reads 1 to " + VERSION);
        }
        return version;
    }

    private static DataInputStream open(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IOException(file + ": no such checkpoint");
        }
        return new DataInputStream(new java.io.BufferedInputStream(Files.newInputStream(file)));
    }

    /** The architecture a checkpoint was saved from (reads the header only). */
    public static Architecture architecture(Path file) throws IOException {
        try (DataInputStream in = open(file)) {
            openHeader(in, file);
            try {
                return Architecture.parse(in.readUTF());
            } catch (IllegalArgumentException e) {
                throw new IOException(file + ": " + e.getMessage());
            }
        } catch (EOFException e) {
            throw new IOException(file + ": truncated checkpoint");
        }
    }

    /** Loads into an initialized network; returns the epoch stored. */
    public static int load(QuantNet net, Path file) throws IOException {
        try (DataInputStream in = open(file)) {
            int version = openHeader(in, file);
            String arch = in.readUTF();
            if (!arch.equals(net.architecture().id())) {
                throw new IOException(file + ": checkpoint of architecture '" + arch + "', not '" + net.architecture().id()
                        + "'");
            }
            int epoch = in.readInt();
            QuantState st = new QuantState();
            int ns = in.readInt();
            for (int i = 0; i < ns; i++) {
                st.activationScales.put(in.readUTF(), in.readDouble());
            }
            int nl = in.readInt();
            for (int i = 0; i < nl; i++) {
                st.weightLimits.put(in.readUTF(), in.readInt());
            }
            if (version >= 2) {
                int nb = in.readInt();
                for (int i = 0; i < nb; i++) {
                    st.activationBits.put(in.readUTF(), in.readInt());
                }
            }
            if (version >= 3) {
                int nc = in.readInt();
                if (nc < 0 || nc > 4096) {
                    throw new IOException(file + ": " + nc + " per-channel weight limit entries (corrupt checkpoint)");
                }
                for (int i = 0; i < nc; i++) {
                    String layer = in.readUTF();
                    int n = in.readInt();
                    if (n < 1 || n > 65536) {
                        throw new IOException(file + ": layer " + layer + " has " + n + " per-channel limits (corrupt checkpoint)");
                    }
                    int[] v = new int[n];
                    for (int c = 0; c < n; c++) {
                        v[c] = in.readInt();
                        if (v[c] < 1 || v[c] > 127) {
                            throw new IOException(file + ": layer " + layer + " channel " + c + " weight limit " + v[c]
                                    + " outside [1, 127] (corrupt checkpoint)");
                        }
                    }
                    st.channelLimits.put(layer, v);
                }
            }
            int np = in.readInt();
            if (np != net.getDirectParameters().size()) {
                throw new IOException(file + ": " + np + " parameters, the network has " + net.getDirectParameters().size()
                        + (net.hasBatchNorm() ? " (an FP32 network with batch norm: is this a QAT checkpoint, saved after"
                        + " folding, or one from before batch norm was added?)" : " (a checkpoint of another layout: an"
                        + " FP32 checkpoint with batch norm, or a pruned network?)"));
            }
            float[][] values = new float[np][];
            int i = 0;
            for (Parameter p : net.getDirectParameters().values()) {
                String name = in.readUTF();
                long[] shape = new long[in.readInt()];
                for (int d = 0; d < shape.length; d++) {
                    shape[d] = in.readLong();
                }
                if (!name.equals(p.getName()) || !new Shape(shape).equals(p.getArray().getShape())) {
                    throw new IOException(file + ": parameter " + name + " " + Arrays.toString(shape)
                            + " does not match the network's " + p.getName() + " " + p.getArray().getShape()
                            + " (checkpoint of another width or pruning)");
                }
                values[i] = new float[(int) new Shape(shape).size()];
                for (int k = 0; k < values[i].length; k++) {
                    values[i][k] = in.readFloat();
                }
                i++;
            }
            // everything read and checked: now change the network
            i = 0;
            for (Parameter p : net.getDirectParameters().values()) {
                p.getArray().set(values[i++]);
            }
            net.state().activationScales.clear();
            net.state().activationScales.putAll(st.activationScales);
            net.state().weightLimits.putAll(st.weightLimits);
            net.state().activationBits.clear();
            net.state().activationBits.putAll(st.activationBits);
            net.state().channelLimits.clear();
            net.state().channelLimits.putAll(st.channelLimits);
            return epoch;
        } catch (EOFException e) {
            throw new IOException(file + ": truncated checkpoint");
        }
    }
}
