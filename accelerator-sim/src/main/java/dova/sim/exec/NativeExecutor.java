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
 * set, images run on the pure-Java {@link FastExecutor} instead, which hands the probe its
 * accumulators (calibration only, off the serving path).
 */
final class NativeExecutor extends Executor {
    private final NativePlan plan;
    private final ByteBuffer arena;
    private final ShortBuffer arenaShorts;
    /** Per tensor: whether {@link #buffers} holds the values of the last run. */
    private final boolean[] fresh;
    private final IntegerModel original;
    private FastExecutor probeRunner;
    private boolean lastRunOnProbeRunner;

    NativeExecutor(IntegerModel model, ProcessorConfig config) {
        this(model, config, NativeKernels.isa());
    }

    /** With the given micro-kernels ({@link NativeKernels#ISA_GENERIC} or the best this CPU has). */
    NativeExecutor(IntegerModel model, ProcessorConfig config, int isa) {
        super(model, config);
        this.original = model;
        String why = NativePlan.unsupported(this.model, config);
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
        if (probe != null) {
            if (probeRunner == null) {
                probeRunner = new FastExecutor(original, config);
            }
            probeRunner.setProbe(probe);
            long[] before = probeRunner.overflowEvents;
            long[] snapshot = before.clone();
            probeRunner.run(pixels, offset);
            for (int i = 0; i < overflowEvents.length; i++) {
                overflowEvents[i] += before[i] - snapshot[i];
            }
            lastRunOnProbeRunner = true;
            return;
        }
        lastRunOnProbeRunner = false;
        NativeKernels.run(plan.plan, arena, pixels, offset, overflowEvents);
    }

    @Override
    public int[] tensorValues(int tensor) {
        if (lastRunOnProbeRunner) {
            return probeRunner.tensorValues(tensor);
        }
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
