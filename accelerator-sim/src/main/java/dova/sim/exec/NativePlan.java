package dova.sim.exec;

import dova.sim.ProcessorConfig;
import dova.sim.model.Add;
import dova.sim.model.AvgPool;
import dova.sim.model.Conv2d;
import dova.sim.model.Flatten;
import dova.sim.model.GlobalAvgPool;
import dova.sim.model.IntegerModel;
import dova.sim.model.Layer;
import dova.sim.model.MaxPool;
import dova.sim.model.TensorSpec;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A model compiled for the native kernels: one direct buffer of int32 words (header, one record
 * per layer) followed by the packed weights and per-channel constants, and the layout of the
 * activation arena (every tensor int16 NHWC). The word order of each record is the struct order
 * in {@code src/main/c/dova_sim.c}; keep the two in step.
 */
final class NativePlan {
    static final int OP_DENSE = 1;
    static final int OP_DEPTHWISE = 2;
    static final int OP_MAXPOOL = 3;
    static final int OP_AVGPOOL = 4;
    static final int OP_GAP = 5;
    static final int OP_ADD = 6;
    /** Row tile of the micro-kernels (MR in the C source). */
    static final int ROW_TILE = 6;
    /** Weights streamed per pass over a layer's rows: keeps one chunk of packed weights in L2. */
    private static final int CHUNK_BYTES = 192 * 1024;
    /**
     * Largest dot-product length whose P and N sums fit int32: {@code k * 255 * 127 <= 2^31 - 1}
     * gives 66,313; rounded down.
     */
    static final int MAX_PN_LENGTH = 66_000;

    final ByteBuffer plan;
    /** Arena byte offset of every tensor's int16 NHWC data (a flatten output shares its source's). */
    final int[] tensorOffset;
    /** For every tensor, the tensor whose NHWC data holds its values (itself unless it is a flatten output). */
    final int[] root;
    final int arenaBytes;

    private final IntegerModel model;
    private final ProcessorConfig config;
    private final Words words = new Words();
    private final Data data = new Data();
    /** Word positions that hold data offsets, relative to the data section until {@link #finish}. */
    private final List<Integer> dataRefs = new ArrayList<>();
    private int scratchBytes;

    /**
     * Why this model cannot run on the native kernels, or null when it can. The native kernels
     * need unsigned conv inputs (for the P/N bound), dense or depthwise convolutions, native
     * requantization, and flatten outputs read only by convolutions.
     */
    static String unsupported(IntegerModel model, ProcessorConfig config) {
        if (config.requantMode() != dova.sim.RequantMode.NATIVE) {
            return "gemmlowp requantization";
        }
        if (model.inputSpec().signed() || model.inputSpec().bits() != 8) {
            return "input tensor " + model.inputSpec().name() + " is not unsigned 8-bit";
        }
        boolean[] flattened = new boolean[model.tensors().size()];
        for (Layer l : model.layers()) {
            if (l instanceof Flatten f) {
                flattened[f.output()] = true;
            }
        }
        for (Layer l : model.layers()) {
            if (l instanceof Conv2d c) {
                if (c.groups() != 1 && !c.depthwise()) {
                    return "grouped convolution " + c.name();
                }
                if (model.tensor(c.input()).signed()) {
                    return "convolution " + c.name() + " reads a signed tensor";
                }
                if ((long) c.kernelH() * c.kernelW() * c.inChannelsPerGroup() > MAX_PN_LENGTH) {
                    return "convolution " + c.name() + " has dot products longer than " + MAX_PN_LENGTH;
                }
            } else if (!(l instanceof Flatten)) {
                for (int in : l.inputs()) {
                    if (flattened[in]) {
                        return "layer " + l.name() + " reads a flatten output";
                    }
                }
            }
        }
        return null;
    }

    NativePlan(IntegerModel model, ProcessorConfig config, int isa) {
        this.model = model;
        this.config = config;
        int n = model.tensors().size();
        tensorOffset = new int[n];
        root = new int[n];
        for (int t = 0; t < n; t++) {
            root[t] = t;
        }
        long arena = 0;
        arena = place(model.input(), arena);
        for (Layer l : model.layers()) {
            if (l instanceof Flatten f) {
                root[f.output()] = root[f.input()];
                tensorOffset[f.output()] = tensorOffset[f.input()];
            } else {
                arena = place(l.output(), arena);
            }
        }
        long scratchOffset = align(arena);
        // header
        words.add(0x646f7661);
        words.add(1);
        words.add(isa);
        words.add(config.accumulatorBits());
        words.add(config.overflow() == dova.sim.Overflow.SATURATE ? 1 : 0);
        words.add(config.lanes());
        TensorSpec in = model.inputSpec();
        words.add(tensorOffset[model.input()]);
        words.add(in.channels());
        words.add(in.height());
        words.add(in.width());
        words.add((int) model.layers().stream().filter(l -> !(l instanceof Flatten)).count());
        List<Layer> layers = model.layers();
        for (int i = 0; i < layers.size(); i++) {
            Layer l = layers.get(i);
            if (l instanceof Conv2d c) {
                if (c.depthwise()) {
                    depthwise(i, c, (int) scratchOffset);
                } else {
                    dense(i, c, (int) scratchOffset);
                }
            } else if (l instanceof MaxPool p) {
                maxPool(i, p);
            } else if (l instanceof AvgPool p) {
                avgPool(i, p);
            } else if (l instanceof GlobalAvgPool g) {
                globalAvgPool(i, g, (int) scratchOffset);
            } else if (l instanceof Add a) {
                add(i, a);
            }
        }
        long total = scratchOffset + align(scratchBytes);
        if (total > Integer.MAX_VALUE - 64) {
            throw new IllegalArgumentException("model " + model.name() + ": activations need " + total
                    + " bytes, more than one native arena holds");
        }
        arenaBytes = (int) total;
        plan = finish();
    }

    private long place(int tensor, long at) {
        tensorOffset[tensor] = (int) at;
        long next = align(at + 2L * model.tensor(tensor).size());
        if (next > Integer.MAX_VALUE - 64) {
            throw new IllegalArgumentException("model " + model.name() + ": activations exceed one native arena");
        }
        return next;
    }

    private static long align(long v) {
        return (v + 63) & ~63L;
    }

    /** Starts a record: its length is patched by {@link #end}. */
    private int begin(int op, int layer) {
        int at = words.size();
        words.add(0);
        words.add(op);
        words.add(layer);
        return at;
    }

    private void end(int at) {
        words.set(at, words.size() - at);
    }

    private void ref(int dataOffset) {
        dataRefs.add(words.size());
        words.add(dataOffset);
    }

    private void addLong(long v) {
        words.add((int) v);
        words.add((int) (v >>> 32));
    }

    private int maxAbs(TensorSpec t) {
        return Math.max(Math.abs(t.qmin()), Math.abs(t.qmax()));
    }

    /** True when no channel can overflow: {@code |bias| + sum|w| * max x <= accMax} (x unsigned here). */
    private boolean staticallyFree(Conv2d c, long[] absWeightSum) {
        long maxX = model.tensor(c.input()).qmax();
        long accMax = (1L << (config.accumulatorBits() - 1)) - 1;
        for (int oc = 0; oc < c.outChannels(); oc++) {
            if (Math.abs((long) c.bias()[oc]) + absWeightSum[oc] * maxX > accMax) {
                return false;
            }
        }
        return true;
    }

    private void dense(int layer, Conv2d c, int scratchOffset) {
        TensorSpec in = model.tensor(c.input());
        TensorSpec out = model.tensor(c.output());
        int inC = c.inChannels();
        int taps = c.kernelH() * c.kernelW();
        int k = taps * inC;
        int kp = (k + 1) & ~1;
        int np = (c.outChannels() + 15) & ~15;
        boolean direct = taps == 1 && c.strideH() == 1 && c.strideW() == 1 && c.padH() == 0 && c.padW() == 0
                && inC % 2 == 0 && root[c.input()] == c.input();
        // canonical (ky, kx, channel) weights, and for a flatten-fed layer the row position of each
        // canonical input index: the flattened tensor is CHW-ordered, its root is stored NHWC
        short[] canon = new short[c.outChannels() * k];
        long[] absSum = new long[c.outChannels()];
        for (int oc = 0; oc < c.outChannels(); oc++) {
            for (int ky = 0; ky < c.kernelH(); ky++) {
                for (int kx = 0; kx < c.kernelW(); kx++) {
                    for (int ic = 0; ic < inC; ic++) {
                        byte w = c.weights()[c.weightIndex(oc, ic, ky, kx)];
                        canon[oc * k + (ky * c.kernelW() + kx) * inC + ic] = w;
                        absSum[oc] += Math.abs(w);
                    }
                }
            }
        }
        int[] perm = null;
        if (root[c.input()] != c.input()) {
            TensorSpec r = model.tensor(root[c.input()]);
            int area = r.height() * r.width();
            perm = new int[k];
            for (int t = 0; t < taps; t++) {
                for (int i = 0; i < inC; i++) {
                    int ch = i / area;
                    int pix = i % area;
                    perm[t * inC + i] = t * inC + pix * r.channels() + ch;
                }
            }
        }
        // weights in row order (the order of the A rows the kernel reads)
        short[] mem = new short[c.outChannels() * k];
        for (int oc = 0; oc < c.outChannels(); oc++) {
            for (int i = 0; i < k; i++) {
                mem[oc * k + (perm == null ? i : perm[i])] = canon[oc * k + i];
            }
        }
        boolean pn = !staticallyFree(c, absSum);
        int kpairs = kp / 2;
        short[] packed = new short[np * kp * (pn ? 2 : 1)];
        for (int nb = 0; nb < np / 16; nb++) {
            for (int kq = 0; kq < kpairs; kq++) {
                for (int j = 0; j < 16; j++) {
                    for (int t = 0; t < 2; t++) {
                        int oc = nb * 16 + j;
                        int kk = 2 * kq + t;
                        int w = oc < c.outChannels() && kk < k ? mem[oc * k + kk] : 0;
                        if (!pn) {
                            packed[((nb * kpairs + kq) * 16 + j) * 2 + t] = (short) w;
                        } else {
                            int half = j / 8;
                            int base = ((nb * 2 + half) * kpairs + kq) * 32 + (j % 8) * 2 + t;
                            packed[base] = (short) Math.max(w, 0);
                            packed[base + 16] = (short) Math.max(-w, 0);
                        }
                    }
                }
            }
        }
        long accMax = (1L << (config.accumulatorBits() - 1)) - 1;
        long accMin = -(1L << (config.accumulatorBits() - 1));
        int[] bias = new int[np];
        int[] capP = new int[np];
        int[] capN = new int[np];
        long[] m = new long[np];
        int[] m32 = new int[np];
        int[] s = new int[np];
        int[] sm1 = new int[np];
        int[] rm = new int[np];
        for (int oc = 0; oc < c.outChannels(); oc++) {
            bias[oc] = c.bias()[oc];
            capP[oc] = (int) Math.min(accMax - bias[oc], Integer.MAX_VALUE);
            capN[oc] = (int) Math.min(bias[oc] - accMin, Integer.MAX_VALUE);
            m[oc] = c.multipliers()[oc];
            m32[oc] = (int) m[oc];
            s[oc] = c.shifts()[oc];
            sm1[oc] = s[oc] > 0 ? s[oc] - 1 : 32;
            rm[oc] = s[oc] > 0 ? 1 : 0;
        }
        boolean req32 = config.accumulatorBits() + model.multiplierBits() <= 31;
        int bytesPerChannel = kp * 2 * (pn ? 2 : 1);
        int nchunk = Math.max(16, Math.min(np, (CHUNK_BYTES / bytesPerChannel) & ~15));
        scratchBytes = Math.max(scratchBytes, ROW_TILE * kp * 2);

        int at = begin(OP_DENSE, layer);
        words.addAll(tensorOffset[c.input()], tensorOffset[c.output()], inC,
                perm == null ? in.height() : 1, perm == null ? in.width() : 1,
                c.outChannels(), out.height(), out.width(), c.kernelH(), c.kernelW(), c.strideH(), c.strideW(),
                c.padH(), c.padW(), k, kp, np, direct ? 1 : 0, pn ? 1 : 0, req32 ? 1 : 0,
                c.activation().qmin(out), c.activation().qmax(out));
        ref(data.shorts(packed));
        ref(data.shorts(canon));
        if (perm == null) {
            words.add(-1);
        } else {
            ref(data.ints(perm));
        }
        ref(data.ints(bias));
        ref(data.ints(capP));
        ref(data.ints(capN));
        ref(data.longs(m));
        ref(data.ints(m32));
        ref(data.ints(s));
        ref(data.ints(sm1));
        ref(data.ints(rm));
        words.add(scratchOffset);
        words.add(nchunk);
        end(at);
    }

    private void depthwise(int layer, Conv2d c, int scratchOffset) {
        TensorSpec in = model.tensor(c.input());
        TensorSpec out = model.tensor(c.output());
        int ch = c.outChannels();
        int taps = c.kernelH() * c.kernelW();
        int[] w = new int[taps * ch];
        long[] absSum = new long[ch];
        for (int oc = 0; oc < ch; oc++) {
            for (int ky = 0; ky < c.kernelH(); ky++) {
                for (int kx = 0; kx < c.kernelW(); kx++) {
                    int v = c.weights()[c.weightIndex(oc, 0, ky, kx)];
                    w[(ky * c.kernelW() + kx) * ch + oc] = v;
                    absSum[oc] += Math.abs(v);
                }
            }
        }
        long[] m = new long[ch];
        for (int oc = 0; oc < ch; oc++) {
            m[oc] = c.multipliers()[oc];
        }
        scratchBytes = Math.max(scratchBytes, 2 * 4 * ch);
        int at = begin(OP_DEPTHWISE, layer);
        words.addAll(tensorOffset[c.input()], tensorOffset[c.output()], ch, in.height(), in.width(), out.height(),
                out.width(), c.kernelH(), c.kernelW(), c.strideH(), c.strideW(), c.padH(), c.padW(),
                staticallyFree(c, absSum) ? 0 : 1, c.activation().qmin(out), c.activation().qmax(out));
        ref(data.ints(w));
        ref(data.ints(c.bias()));
        ref(data.longs(m));
        ref(data.ints(c.shifts()));
        words.add(scratchOffset);
        end(at);
    }

    private void maxPool(int layer, MaxPool p) {
        TensorSpec in = model.tensor(p.input());
        TensorSpec out = model.tensor(p.output());
        int at = begin(OP_MAXPOOL, layer);
        words.addAll(tensorOffset[p.input()], tensorOffset[p.output()], in.channels(), in.height(), in.width(),
                out.height(), out.width(), p.kernel(), p.stride(), p.pad());
        end(at);
    }

    private void avgPool(int layer, AvgPool p) {
        TensorSpec in = model.tensor(p.input());
        TensorSpec out = model.tensor(p.output());
        int at = begin(OP_AVGPOOL, layer);
        words.addAll(tensorOffset[p.input()], tensorOffset[p.output()], in.channels(), in.height(), in.width(),
                out.height(), out.width(), p.kernel(), p.stride(), p.shift(), out.qmin(), out.qmax());
        addLong(p.multiplier());
        end(at);
    }

    private void globalAvgPool(int layer, GlobalAvgPool g, int scratchOffset) {
        TensorSpec in = model.tensor(g.input());
        TensorSpec out = model.tensor(g.output());
        int area = in.height() * in.width();
        long accMax = (1L << (config.accumulatorBits() - 1)) - 1;
        boolean free = (long) area * maxAbs(in) <= accMax;
        scratchBytes = Math.max(scratchBytes, 4 * in.channels());
        int at = begin(OP_GAP, layer);
        words.addAll(tensorOffset[g.input()], tensorOffset[g.output()], in.channels(), area, g.shift(), out.qmin(),
                out.qmax(), free ? 1 : 0);
        addLong(g.multiplier());
        words.add(scratchOffset);
        end(at);
    }

    private void add(int layer, Add a) {
        TensorSpec l = model.tensor(a.left());
        TensorSpec r = model.tensor(a.right());
        TensorSpec out = model.tensor(a.output());
        int bits = Math.min(64, config.accumulatorBits() + model.multiplierBits());
        long maxSum = maxAbs(l) * a.leftMultiplier() + maxAbs(r) * a.rightMultiplier();
        boolean small = maxSum < (1L << 30) && maxSum <= (1L << (bits - 1)) - 1 && a.shift() <= 31;
        int at = begin(OP_ADD, layer);
        words.addAll(tensorOffset[a.left()], tensorOffset[a.right()], tensorOffset[a.output()], out.size(), a.shift(),
                a.activation().qmin(out), a.activation().qmax(out), bits, small ? 1 : 0);
        addLong(a.leftMultiplier());
        addLong(a.rightMultiplier());
        end(at);
    }

    private ByteBuffer finish() {
        int dataBase = (int) align(4L * words.size());
        for (int pos : dataRefs) {
            words.set(pos, words.get(pos) + dataBase);
        }
        byte[] blob = data.bytes();
        ByteBuffer b = ByteBuffer.allocateDirect(dataBase + blob.length).order(ByteOrder.nativeOrder());
        for (int i = 0; i < words.size(); i++) {
            b.putInt(4 * i, words.get(i));
        }
        b.position(dataBase);
        b.put(blob);
        b.clear();
        return b;
    }

    /** A growable int32 list. */
    private static final class Words {
        private int[] v = new int[256];
        private int n;

        void add(int x) {
            if (n == v.length) {
                v = Arrays.copyOf(v, 2 * n);
            }
            v[n++] = x;
        }

        void addAll(int... xs) {
            for (int x : xs) {
                add(x);
            }
        }

        int get(int i) {
            return v[i];
        }

        void set(int i, int x) {
            v[i] = x;
        }

        int size() {
            return n;
        }
    }

    /** The data section: arrays at 64-byte aligned offsets, little-endian as the words. */
    private static final class Data {
        private ByteBuffer b = ByteBuffer.allocate(1 << 16).order(ByteOrder.nativeOrder());

        private int reserve(long bytes) {
            int at = (int) align(b.position());
            if (at + bytes > Integer.MAX_VALUE - 64) {
                throw new IllegalArgumentException("model weights exceed one native plan");
            }
            if (at + bytes > b.capacity()) {
                ByteBuffer bigger = ByteBuffer.allocate((int) Math.min(Integer.MAX_VALUE - 64,
                        Math.max(2L * b.capacity(), at + bytes + 64))).order(ByteOrder.nativeOrder());
                b.flip();
                bigger.put(b);
                b = bigger;
            }
            b.position(at);
            return at;
        }

        int shorts(short[] v) {
            int at = reserve(2L * v.length);
            b.asShortBuffer().put(v);
            b.position(at + 2 * v.length);
            return at;
        }

        int ints(int[] v) {
            int at = reserve(4L * v.length);
            b.asIntBuffer().put(v);
            b.position(at + 4 * v.length);
            return at;
        }

        int longs(long[] v) {
            int at = reserve(8L * v.length);
            b.asLongBuffer().put(v);
            b.position(at + 8 * v.length);
            return at;
        }

        byte[] bytes() {
            byte[] out = new byte[b.position()];
            b.duplicate().flip().get(out);
            return out;
        }
    }
}
