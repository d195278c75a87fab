package dova.sim.exec;

import dova.sim.FixedPoint;
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
    /**
     * Channel stride of every tensor in the arena: its channel count, except an input with an odd
     * count read by dense convolutions only, which is padded with a zero channel so that those
     * layers run their even-channel kernels (a zero channel with zero weights changes no sum and,
     * at the end of a tap, no group boundary).
     */
    final int[] stride;
    final int arenaBytes;
    /** Per layer: byte offset of its accumulators in the calibration capture buffer (-1 for non-conv layers). */
    final int[] captureOffset;
    /** Bytes of the calibration capture buffer (every conv layer's int32 accumulators, NHWC). */
    final long captureBytes;

    /** Largest int16 pair sum of {@code vpmaddubsw} that does not saturate. */
    static final int PAIR_MAX = Short.MAX_VALUE;

    private final IntegerModel model;
    private final ProcessorConfig config;
    private final int isa;
    /** Dense layers planned in u8 mode (vpmaddubsw on uint8 rows), for tests and reports. */
    int u8Layers;
    /** Of those, the layers in grouped mode (canonical group order in the kernel). */
    int u8GroupedLayers;
    /** Arena offset of the uint8 copy of a u8-mode layer's input (one region, as large as the largest). */
    private int u8Offset;
    private final PlanBuffers.Words words = new PlanBuffers.Words();
    private final PlanBuffers.Data data = new PlanBuffers.Data();
    /** Word positions that hold data offsets, relative to the data section until {@link #finish}. */
    private final List<Integer> dataRefs = new ArrayList<>();
    private int scratchBytes;
    /** Arena offset of a row of zeros as long as the widest conv input (never written). */
    private int zeroOffset;

    NativePlan(IntegerModel model, ProcessorConfig config, int isa) {
        this.model = model;
        this.config = config;
        this.isa = isa;
        int n = model.tensors().size();
        tensorOffset = new int[n];
        root = new int[n];
        stride = new int[n];
        for (int t = 0; t < n; t++) {
            root[t] = t;
            stride[t] = model.tensor(t).channels();
        }
        boolean denseOnly = true;
        for (Layer l : model.layers()) {
            if (l.inputs().contains(model.input()) && !(l instanceof Conv2d c && c.groups() == 1)) {
                denseOnly = false;
            }
        }
        if (denseOnly && stride[model.input()] % 2 == 1) {
            stride[model.input()]++;
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
        int maxChannels = 1;
        for (Layer l : model.layers()) {
            if (l instanceof Conv2d c) {
                maxChannels = Math.max(maxChannels, c.inChannels());
            }
        }
        zeroOffset = (int) arena;
        long u8Bytes = 0;
        for (Layer l : model.layers()) {
            if (l instanceof Conv2d c && !c.depthwise()) {
                TensorSpec t = model.tensor(c.input());
                u8Bytes = Math.max(u8Bytes, (long) stride[c.input()] * t.height() * t.width());
            }
        }
        u8Offset = (int) align(arena + 2L * maxChannels);
        long scratchOffset = align(u8Offset + u8Bytes + 64);
        captureOffset = new int[model.layers().size()];
        long capture = 0;
        for (int i = 0; i < model.layers().size(); i++) {
            captureOffset[i] = -1;
            if (model.layers().get(i) instanceof Conv2d c) {
                captureOffset[i] = (int) Math.min(capture, Integer.MAX_VALUE);
                capture = align(capture + 4L * model.tensor(c.output()).size());
            }
        }
        captureBytes = capture;
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
        words.add(stride[model.input()]);
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
        TensorSpec t = model.tensor(tensor);
        long next = align(at + 2L * stride[tensor] * t.height() * t.width());
        if (next > Integer.MAX_VALUE - 64) {
            throw new IllegalArgumentException("model " + model.name() + ": activations exceed one native arena");
        }
        return next;
    }

    static long align(long v) {
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
        long accMax = FixedPoint.maxSigned(config.accumulatorBits());
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
        int inC = stride[c.input()];
        int taps = c.kernelH() * c.kernelW();
        int k = taps * inC;
        int kp = (k + 1) & ~1;
        int np = (c.outChannels() + 15) & ~15;
        boolean plain = inC % 2 == 0 && root[c.input()] == c.input();
        // 1: the input rows are the A rows; 2: implicit GEMM, rows read tap by tap; 0: im2col
        int direct = !plain ? 0 : taps == 1 && c.strideH() == 1 && c.strideW() == 1 && c.padH() == 0 && c.padW() == 0
                ? 1 : taps <= 64 ? 2 : 0;
        // canonical (ky, kx, channel) weights, and for a flatten-fed layer the row position of each
        // canonical input index: the flattened tensor is CHW-ordered, its root is stored NHWC
        short[] canon = new short[c.outChannels() * k];
        long[] absSum = new long[c.outChannels()];
        for (int oc = 0; oc < c.outChannels(); oc++) {
            for (int ky = 0; ky < c.kernelH(); ky++) {
                for (int kx = 0; kx < c.kernelW(); kx++) {
                    for (int ic = 0; ic < c.inChannels(); ic++) {
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
        // S mode when no channel can overflow; else the canonical group order in the kernel where
        // the groups are whole pairs of the A rows (even lanes and channels, no flatten reordering,
        // A <= 30 so that the update stays in int32); else P and N with replay where their bound fails
        int mode = staticallyFree(c, absSum) ? 0
                : config.lanes() % 2 == 0 && direct != 0 && config.accumulatorBits() <= 30 ? 2 : 1;
        // u8 mode: the rows are a uint8 copy of the input. With VNNI (vpdpbusd: 4 products exact into
        // int32) wherever the input is unsigned 8-bit; with AVX2 (vpmaddubsw) only where no pair of
        // adjacent products can saturate its int16 sum, so that the u8 x s8 instruction is exact
        int kq4 = (k + 3) & ~3;
        // (grouped mode too, where a group of lanes channels is whole quads: lanes and channels multiples of 4)
        boolean u8 = (mode == 0 || (mode == 2 && inC % 4 == 0 && config.lanes() % 4 == 0))
                && isa >= NativeKernels.ISA_AVX2 && perm == null && in.qmin() >= 0 && in.qmax() <= 255
                && !"false".equals(System.getProperty("dova.sim.u8"))
                && (isa == NativeKernels.ISA_VNNI || pairsFit(mem, c.outChannels(), k, in.qmax()));
        if (u8) {
            u8Layers++;
            u8GroupedLayers += mode == 2 ? 1 : 0;
        }
        if (u8 && mode == 0 && (inC % 4 != 0 || (direct == 2 && inC <= 8 && isa != NativeKernels.ISA_VNNI))) {
            // a quad would straddle two taps or pixels, or (AVX2) a tap holds too few quads for the
            // kernel's per-tap set-up to pay (an RGB stem): im2col builds contiguous rows of all taps.
            // The VNNI kernel reads even one quad per tap in place faster than im2col builds the rows
            // (mobilenet224's stem, -DDOVA_PROFILE: 0.8-1.0 ms against 1.7-1.9 ms per image)
            direct = 0;
        }
        byte[] packed8 = new byte[u8 ? np * kq4 : 0];
        if (u8) {
            int quads = kq4 / 4;
            for (int nb = 0; nb < np / 16; nb++) {
                for (int q = 0; q < quads; q++) {
                    for (int j = 0; j < 16; j++) {
                        for (int t = 0; t < 4; t++) {
                            int oc = nb * 16 + j;
                            int kk = 4 * q + t;
                            packed8[((nb * quads + q) * 16 + j) * 4 + t] = (byte) (oc < c.outChannels() && kk < k
                                    ? mem[oc * k + kk] : 0);
                        }
                    }
                }
            }
        }
        boolean pn = mode == 1;
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
        long accMax = FixedPoint.maxSigned(config.accumulatorBits());
        long accMin = FixedPoint.minSigned(config.accumulatorBits());
        int[] bias = new int[np];
        int[] capP = new int[np];
        int[] capN = new int[np];
        long[] m = new long[np];
        int[] s = new int[np];
        for (int oc = 0; oc < c.outChannels(); oc++) {
            bias[oc] = c.bias()[oc];
            capP[oc] = (int) Math.min(accMax - bias[oc], Integer.MAX_VALUE);
            capN[oc] = (int) Math.min(bias[oc] - accMin, Integer.MAX_VALUE);
            m[oc] = c.multipliers()[oc];
            s[oc] = c.shifts()[oc];
        }
        int bytesPerChannel = kp * 2 * (pn ? 2 : 1);
        int nchunk = Math.max(16, Math.min(np, (CHUNK_BYTES / bytesPerChannel) & ~15));
        scratchBytes = Math.max(scratchBytes, Math.max(ROW_TILE * kp * 2, ROW_TILE * kq4));

        int at = begin(OP_DENSE, layer);
        words.addAll(tensorOffset[c.input()], tensorOffset[c.output()], inC,
                perm == null ? in.height() : 1, perm == null ? in.width() : 1,
                c.outChannels(), out.height(), out.width(), c.kernelH(), c.kernelW(), c.strideH(), c.strideW(),
                c.padH(), c.padW(), k, kp, np, direct, mode, req32() ? 1 : 0,
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
        ref(data.ints(s));
        requantArrays(c, np);
        words.add(scratchOffset);
        words.add(nchunk);
        words.add(zeroOffset);
        words.add(captureOffset[layer]);
        words.add(u8 ? 1 : 0);
        words.add(kq4);
        ref(data.signedBytes(packed8));
        words.add(u8Offset);
        end(at);
    }

    /**
     * True when every pair of adjacent weights (k, k + 1), k even, of every channel keeps
     * {@code x * w[k] + x' * w[k + 1]} in int16 for all inputs in {@code [0, maxX]}: the positive
     * and the negative parts of the pair each times {@code maxX}.
     */
    static boolean pairsFit(short[] mem, int channels, int k, int maxX) {
        for (int oc = 0; oc < channels; oc++) {
            for (int i = 0; i < k; i += 2) {
                int a = mem[oc * k + i];
                int b = i + 1 < k ? mem[oc * k + i + 1] : 0;
                long pos = (long) maxX * (Math.max(a, 0) + Math.max(b, 0));
                long neg = (long) maxX * (Math.max(-a, 0) + Math.max(-b, 0));
                if (pos > PAIR_MAX || neg > PAIR_MAX + 1) {
                    return false;
                }
            }
        }
        return true;
    }

    /** True when {@code acc * m} fits int32 ({@code A + M <= 31}): the int32 vector requantization applies. */
    private boolean req32() {
        return config.accumulatorBits() + model.multiplierBits() <= 31;
    }

    /**
     * The per-channel requantization words of the vector epilogues ({@code requant8_avx2}): the
     * int32 multiplier and shifts for {@code A + M <= 31}, the 64-bit forms, and the double forms
     * with the accumulator bound under which they are exact; {@code n} entries, channels past the
     * layer's own are zero.
     */
    private void requantArrays(Conv2d c, int n) {
        int[] m32 = new int[n];
        int[] sm1 = new int[n];
        int[] rm = new int[n];
        long[] hp = new long[n];
        long[] hn = new long[n];
        long[] s64 = new long[n];
        double[] md = new double[n];
        double[] hd = new double[n];
        double[] id = new double[n];
        long mMax = 1;
        int sMax = 0;
        for (int oc = 0; oc < c.outChannels(); oc++) {
            int s = c.shifts()[oc];
            long m = c.multipliers()[oc];
            m32[oc] = (int) m;
            sm1[oc] = s > 0 ? s - 1 : 32;
            rm[oc] = s > 0 ? 1 : 0;
            hp[oc] = s > 0 ? 1L << (s - 1) : 0;
            hn[oc] = s > 0 ? (1L << (s - 1)) - 1 : 0;
            s64[oc] = s;
            md[oc] = m;
            hd[oc] = s > 0 ? Math.scalb(1.0, s - 1) : 0;
            id[oc] = Math.scalb(1.0, -s);
            mMax = Math.max(mMax, m);
            sMax = Math.max(sMax, s);
        }
        ref(data.ints(m32));
        ref(data.ints(sm1));
        ref(data.ints(rm));
        ref(data.longs(hp));
        ref(data.longs(hn));
        ref(data.longs(s64));
        // the double epilogue of A + M > 31 layers: exact while |acc| * m + 2^(s-1) < 2^53
        long limit = sMax <= 52 ? ((1L << 53) - 1 - (sMax > 0 ? 1L << (sMax - 1) : 0)) / mMax : 0;
        words.add(req32() ? 0 : (int) Math.min(limit, Integer.MAX_VALUE));
        ref(data.doubles(md));
        ref(data.doubles(hd));
        ref(data.doubles(id));
    }

    private void depthwise(int layer, Conv2d c, int scratchOffset) {
        TensorSpec in = model.tensor(c.input());
        TensorSpec out = model.tensor(c.output());
        int ch = c.outChannels();
        int taps = c.kernelH() * c.kernelW();
        short[] w = new short[taps * ch];
        long[] absSum = new long[ch];
        for (int oc = 0; oc < ch; oc++) {
            for (int ky = 0; ky < c.kernelH(); ky++) {
                for (int kx = 0; kx < c.kernelW(); kx++) {
                    byte v = c.weights()[c.weightIndex(oc, 0, ky, kx)];
                    w[(ky * c.kernelW() + kx) * ch + oc] = v;
                    absSum[oc] += Math.abs(v);
                }
            }
        }
        scratchBytes = Math.max(scratchBytes, 2 * 4 * ch);
        // S mode, or the canonical order (each product a group) in the vector kernel for A <= 30,
        // or P and N with replay (the scalar kernel)
        int mode = staticallyFree(c, absSum) ? 0 : config.accumulatorBits() <= 30 ? 2 : 1;
        int at = begin(OP_DEPTHWISE, layer);
        words.addAll(tensorOffset[c.input()], tensorOffset[c.output()], ch, in.height(), in.width(), out.height(),
                out.width(), c.kernelH(), c.kernelW(), c.strideH(), c.strideW(), c.padH(), c.padW(),
                mode, c.activation().qmin(out), c.activation().qmax(out));
        ref(data.shorts(w));
        ref(data.ints(c.bias()));
        ref(data.longs(c.multipliers()));
        ref(data.ints(c.shifts()));
        words.add(scratchOffset);
        words.add(req32() ? 1 : 0);
        requantArrays(c, ch);
        words.add(captureOffset[layer]);
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
        boolean free = (long) area * maxAbs(in) <= FixedPoint.maxSigned(config.accumulatorBits());
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
        boolean noOverflow = maxSum <= FixedPoint.maxSigned(bits);
        int small = noOverflow && maxSum < (1L << 30) && a.shift() <= 31 ? 1
                : noOverflow && maxSum + (a.shift() > 0 ? 1L << (a.shift() - 1) : 0) < (1L << 53) ? 2 : 0;
        int at = begin(OP_ADD, layer);
        words.addAll(tensorOffset[a.left()], tensorOffset[a.right()], tensorOffset[a.output()], out.size(), a.shift(),
                a.activation().qmin(out), a.activation().qmax(out), bits, small);
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
}
