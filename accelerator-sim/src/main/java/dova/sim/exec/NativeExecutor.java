package dova.sim.exec;

import dova.sim.ProcessorConfig;
import dova.sim.model.Conv2d;
import dova.sim.model.IntegerModel;
import dova.sim.model.TensorSpec;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.ShortBuffer;

/**
 * The fast executor on the native kernels: the whole network runs in one JNI call per image
 * over an int16 NHWC activation arena (src/main/c/dova_sim.c explains the kernels and why they
 * are exact). Tensor values are converted back to CHW ints only when asked for. With a probe
 * set, the kernels also store every conv layer's accumulators (their scalar epilogues run, about
 * twice the time of a plain run), and the probe sees them channel by channel.
 */
final class NativeExecutor extends Executor {
    final NativePlan plan;
    private final ByteBuffer arena;
    private final ShortBuffer arenaShorts;
    /** Per tensor: whether {@link #buffers} holds the values of the last run. */
    private final boolean[] fresh;
    /** Every conv layer's accumulators when a probe is set (allocated on first use). */
    private java.nio.IntBuffer captureInts;
    private ByteBuffer capture;
    /** One channel's accumulators, handed to the probe. */
    private int[] channelAcc;

    NativeExecutor(IntegerModel model, ProcessorConfig config) {
        this(model, config, NativeKernels.isa());
    }

    /** With the given micro-kernels (any level from {@link NativeKernels#ISA_GENERIC} to the loaded library's best). */
    NativeExecutor(IntegerModel model, ProcessorConfig config, int isa) {
        super(model, config);
        if (isa < NativeKernels.ISA_GENERIC || isa > NativeKernels.best()) {
            throw new IllegalArgumentException("the loaded native kernels run up to " + NativeKernels.isaName(NativeKernels.best())
                    + ", not " + NativeKernels.isaName(isa));
        }
        String why = NativeSupport.unsupported(this.model, config);
        if (why != null) {
            throw new IllegalArgumentException("model " + model.name() + " cannot run on the native kernels: " + why);
        }
        plan = new NativePlan(this.model, config, isa);
        arena = ByteBuffer.allocateDirect(plan.arenaBytes).order(ByteOrder.nativeOrder());
        arenaShorts = arena.asShortBuffer();
        fresh = new boolean[this.model.tensors().size()];
    }

    @Override
    protected void execute(byte[] pixels, int offset) {
        java.util.Arrays.fill(fresh, false);
        if (probe == null) {
            NativeKernels.run(plan.plan, arena, pixels, offset, overflowEvents, null);
            return;
        }
        if (capture == null) {
            if (plan.captureBytes > Integer.MAX_VALUE - 64) {
                throw new IllegalStateException("model " + model.name() + ": the accumulators of its conv layers need "
                        + plan.captureBytes + " bytes, more than one capture buffer holds");
            }
            capture = ByteBuffer.allocateDirect((int) plan.captureBytes).order(ByteOrder.nativeOrder());
            captureInts = capture.asIntBuffer();
            int maxArea = 1;
            for (dova.sim.model.Layer l : model.layers()) {
                if (l instanceof Conv2d c) {
                    TensorSpec o = model.tensor(c.output());
                    maxArea = Math.max(maxArea, o.height() * o.width());
                }
            }
            channelAcc = new int[maxArea];
        }
        NativeKernels.run(plan.plan, arena, pixels, offset, overflowEvents, capture);
        for (int i = 0; i < model.layers().size(); i++) {
            if (model.layers().get(i) instanceof Conv2d c) {
                TensorSpec o = model.tensor(c.output());
                int area = o.height() * o.width();
                int base = plan.captureOffset[i] / 4;
                int channels = c.outChannels();
                for (int ch = 0; ch < channels; ch++) {
                    for (int p = 0; p < area; p++) {
                        channelAcc[p] = captureInts.get(base + p * channels + ch);
                    }
                    probe.accumulators(i, c, ch, channelAcc, area);
                }
            }
        }
    }

    @Override
    public int[] tensorValues(int tensor) {
        int[] out = buffers[tensor];
        if (!fresh[tensor]) {
            // NHWC int16 of the root tensor -> CHW ints (a flatten output keeps its root's CHW order)
            TensorSpec t = model.tensor(plan.root[tensor]);
            int base = plan.tensorOffset[tensor] / 2;
            int c = t.channels();
            int stride = plan.stride[plan.root[tensor]];
            int area = t.height() * t.width();
            for (int ch = 0; ch < c; ch++) {
                for (int p = 0; p < area; p++) {
                    out[ch * area + p] = arenaShorts.get(base + p * stride + ch);
                }
            }
            fresh[tensor] = true;
        }
        return out;
    }

    @Override
    protected void conv(int layerIndex, Conv2d c) {
        throw new IllegalStateException("the native executor runs whole networks");
    }
}
