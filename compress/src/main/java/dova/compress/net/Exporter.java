package dova.compress.net;

import dova.sim.FixedPoint;
import dova.sim.model.IntegerModel;
import dova.sim.model.InvalidModelException;
import dova.sim.model.ModelBuilder;
import java.util.HashMap;
import java.util.Map;

/**
 * Exports a trained {@link QuantNet} to accelerator-sim's integer model, computing every
 * integer exactly as the quantized forward pass does (same float32 scales, same
 * half-to-even rounding), so that the simulator reproduces the training-side simulation.
 */
public final class Exporter {
    private Exporter() {
    }

    /**
     * @throws InvalidModelException naming the layer and channel whose bias does not fit
     *     {@code accumulatorBits}, or whose multiplier cannot be represented in {@code multiplierBits}
     */
    public static IntegerModel export(QuantNet net, String name, int accumulatorBits, int multiplierBits) {
        return export(net, name, accumulatorBits, multiplierBits, false, null);
    }

    /**
     * As {@link #export(QuantNet, String, int, int)}; with {@code clampBiases}, a bias outside
     * the A-bit range is clamped to it instead of refused. Quantization-aware training at A bits
     * simulates exactly that clamp, so a model trained at this width is exported as it was
     * trained; a model that was not must not be clamped silently. {@code clamped}, when
     * non-null, receives "layer/channel" for every clamped bias.
     */
    public static IntegerModel export(QuantNet net, String name, int accumulatorBits, int multiplierBits,
                                      boolean clampBiases, java.util.List<String> clamped) {
        if (net.hasBatchNorm()) {
            throw new IllegalStateException("network " + name + " still has batch norm: fold it (BatchNormFolding) before export");
        }
        if (net.state().activationScales.isEmpty()) {
            throw new IllegalStateException("network " + name + " is not calibrated: run calibration before export");
        }
        QuantPlan plan = net.plan();
        int[] in = {(int) net.inputShape().get(0), (int) net.inputShape().get(1), (int) net.inputShape().get(2)};
        ModelBuilder b = new ModelBuilder(name, 8, 8, accumulatorBits, multiplierBits);
        int t = b.input("image", in[0], in[1], in[2], QuantPlan.Tensor.IMAGE.scale());
        Map<String, Integer> saved = new HashMap<>();
        for (QuantPlan.Step step : plan.steps()) {
            if (step instanceof QuantPlan.Weighted layer) {
                t = weighted(net, b, t, layer, accumulatorBits, clampBiases, clamped);
            } else if (step instanceof QuantPlan.PassThrough pass && pass.op() instanceof Op.MaxPool p) {
                t = b.maxPool(p.name(), t, p.kernel(), p.stride(), 0);
            } else if (step instanceof QuantPlan.PassThrough pass && pass.op() instanceof Op.Flatten f) {
                t = b.flatten(f.name(), t);
            } else if (step instanceof QuantPlan.GlobalPool g) {
                t = b.globalAvgPool(g.name(), t, g.outScale());
            } else if (step instanceof QuantPlan.Save s) {
                saved.put(s.tag(), t);
            } else if (step instanceof QuantPlan.Residual r) {
                t = b.add(r.name(), t, saved.get(r.tag()), r.outScale(), r.activation());
            } else {
                throw new IllegalStateException("no export for " + step);
            }
        }
        return b.build(t);
    }

    /** One conv or dense layer: its integers computed as the quantized forward computes them. */
    private static int weighted(QuantNet net, ModelBuilder b, int t, QuantPlan.Weighted layer, int accumulatorBits,
                                boolean clampBiases, java.util.List<String> clamped) {
        String name = layer.name();
        float[] w = net.weight(name).getArray().toFloatArray();
        float[] bias = net.bias(name).getArray().toFloatArray();
        int oc = bias.length;
        int limit = layer.weightLimit();
        int per = w.length / oc;
        // the width the scales are bounded for in guaranteed mode is the export's own
        QuantTarget target = net.target() == null ? null : net.target().withAccumulatorBits(accumulatorBits);
        float[] sw = layer.weightScales(WeightScales.channelMaxima(w, oc), () -> w, () -> bias, target);
        byte[] wq = new byte[w.length];
        for (int i = 0; i < w.length; i++) {
            int lim = layer.limit(i / per);
            wq[i] = (byte) Math.max(-lim, Math.min(lim, Math.rint(w[i] / sw[i / per])));
        }
        double[] sxw = layer.biasScales(sw);
        int[] bq = new int[oc];
        double[] swd = new double[oc];
        for (int c = 0; c < oc; c++) {
            swd[c] = sw[c];
            double v = Math.rint(bias[c] / (float) sxw[c]);
            if (!FixedPoint.fitsSigned((long) v, accumulatorBits) && clampBiases) {
                v = Math.max(FixedPoint.minSigned(accumulatorBits), Math.min(FixedPoint.maxSigned(accumulatorBits), v));
                if (clamped != null) {
                    clamped.add(name + "/" + c);
                }
            }
            if (!FixedPoint.fitsSigned((long) v, accumulatorBits)) {
                throw new InvalidModelException("layer " + name + ", channel " + c + ": bias " + (long) v
                        + " does not fit a " + accumulatorBits + "-bit accumulator (use more accumulator bits"
                        + " or retrain with overflow-aware training at this width)");
            }
            bq[c] = (int) v;
        }
        int out = layer.op() instanceof Op.Conv c
                ? b.conv(name, t, oc, c.kernel(), c.stride(), c.pad(), c.groups(), wq, bq, swd, layer.outScale(),
                        layer.activation())
                : b.dense(name, t, oc, wq, bq, swd, layer.outScale(), layer.activation());
        if (layer.bits() != 8) {
            b.narrow(out, layer.bits());
        }
        return out;
    }
}
