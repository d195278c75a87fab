package dova.compress.net;

import dova.sim.FixedPoint;
import dova.sim.model.Activation;
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
        QuantSettings st = net.settings();
        if (net.hasBatchNorm()) {
            throw new IllegalStateException("network " + name + " still has batch norm: fold it (BatchNormFolding) before export");
        }
        if (st.activationScales.isEmpty()) {
            throw new IllegalStateException("network " + name + " is not calibrated: run calibration before export");
        }
        int[] in = {(int) net.inputShape().get(0), (int) net.inputShape().get(1), (int) net.inputShape().get(2)};
        ModelBuilder b = new ModelBuilder(name, 8, 8, accumulatorBits, multiplierBits);
        int t = b.input("image", in[0], in[1], in[2], 1 / 255.0);
        double sx = 1 / 255.0;
        boolean xUnsigned = true;
        int xMax = 255; // largest |integer| of the current tensor
        Map<String, Integer> saved = new HashMap<>();
        for (Op op : net.ops()) {
            if (op instanceof Op.Conv || op instanceof Op.Dense) {
                String layer = op instanceof Op.Conv c ? c.name() : ((Op.Dense) op).name();
                boolean relu = op instanceof Op.Conv c ? c.relu() : ((Op.Dense) op).relu();
                float[] w = net.weight(layer).getArray().toFloatArray();
                float[] bias = net.bias(layer).getArray().toFloatArray();
                int oc = bias.length;
                int limit = st.weightLimits.get(layer);
                float[] sw = QuantNet.weightScales(w, oc, limit);
                if (st.guaranteed) {
                    sw = QuantNet.guaranteedScales(w, bias, sw, sx, xMax, accumulatorBits);
                }
                int per = w.length / oc;
                byte[] wq = new byte[w.length];
                for (int i = 0; i < w.length; i++) {
                    wq[i] = (byte) Math.max(-limit, Math.min(limit, Math.rint(w[i] / sw[i / per])));
                }
                int[] bq = new int[oc];
                double[] swd = new double[oc];
                for (int c = 0; c < oc; c++) {
                    swd[c] = sw[c];
                    double v = Math.rint(bias[c] / (float) (sx * sw[c]));
                    if (!FixedPoint.fitsSigned((long) v, accumulatorBits) && clampBiases) {
                        v = Math.max(FixedPoint.minSigned(accumulatorBits), Math.min(FixedPoint.maxSigned(accumulatorBits), v));
                        if (clamped != null) {
                            clamped.add(layer + "/" + c);
                        }
                    }
                    if (!FixedPoint.fitsSigned((long) v, accumulatorBits)) {
                        throw new InvalidModelException("layer " + layer + ", channel " + c + ": bias " + (long) v
                                + " does not fit a " + accumulatorBits + "-bit accumulator (use more accumulator bits"
                                + " or retrain with overflow-aware training at this width)");
                    }
                    bq[c] = (int) v;
                }
                double sy = st.activationScales.get(layer);
                Activation act = relu ? Activation.RELU : Activation.NONE;
                if (op instanceof Op.Conv c) {
                    t = b.conv(layer, t, oc, c.kernel(), c.stride(), c.pad(), c.groups(), wq, bq, swd, sy, act);
                } else {
                    t = b.dense(layer, t, oc, wq, bq, swd, sy, act);
                }
                int bits = st.activationBits.getOrDefault(layer, 8);
                if (bits != 8) {
                    b.narrow(t, bits);
                }
                sx = sy;
                xUnsigned = relu;
                xMax = relu ? (1 << bits) - 1 : 1 << (bits - 1);
            } else if (op instanceof Op.MaxPool p) {
                t = b.maxPool(p.name(), t, p.kernel(), p.stride(), 0);
            } else if (op instanceof Op.GlobalAvgPool g) {
                double sy = st.activationScales.get(g.name());
                t = b.globalAvgPool(g.name(), t, sy);
                sx = sy;
                xMax = xUnsigned ? 255 : 128;
            } else if (op instanceof Op.Flatten f) {
                t = b.flatten(f.name(), t);
            } else if (op instanceof Op.Save s) {
                saved.put(s.tag(), t);
            } else if (op instanceof Op.Residual r) {
                double sy = st.activationScales.get(r.name());
                t = b.add(r.name(), t, saved.get(r.tag()), sy, r.relu() ? Activation.RELU : Activation.NONE);
                sx = sy;
                xUnsigned = r.relu();
                xMax = xUnsigned ? 255 : 128;
            }
        }
        return b.build(t);
    }
}
