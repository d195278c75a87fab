package dova.calibrate.plan;

import dova.calibrate.observe.RangeProfile;
import dova.sim.FixedPoint;
import dova.sim.ProcessorConfig;
import dova.sim.exec.Executor;
import dova.sim.model.Activation;
import dova.sim.model.Conv2d;
import dova.sim.model.Flatten;
import dova.sim.model.IntegerModel;
import dova.sim.model.InvalidModelException;
import dova.sim.model.Layer;
import dova.sim.model.MaxPool;
import dova.sim.model.TensorSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Overflow-aware rescaling without retraining. From a {@link RangeProfile} and a target
 * processor configuration it
 * <ol>
 *   <li>sets the scale of every conv output so that the {@code percentile} of the observed
 *       pre-clamp real values maps to the tensor's largest integer (max pools and flatten
 *       inherit it; residual and pooled tensors keep theirs);</li>
 *   <li>re-expresses every bias in the new units, and predicts each layer's largest
 *       accumulator; where it would exceed 90% of the A-bit range, widens that layer's weight
 *       scales (coarser integer weights) by the missing factor;</li>
 *   <li>re-derives every M-bit multiplier, then runs the planned model on the calibration
 *       images at the target configuration; any layer that still overflows has its weights
 *       coarsened by a further 25%, until no overflow event remains or {@code maxIterations}.</li>
 * </ol>
 * The result's headroom table shows, per layer, how far the largest accumulator stays from the
 * A-bit bound.
 */
public final class RescalingPlanner {
    /** Share of the A-bit range a predicted maximum may use before the weights are coarsened. */
    static final double SAFETY = 0.9;

    private RescalingPlanner() {
    }

    public static RescalingPlan plan(IntegerModel model, RangeProfile profile, ProcessorConfig target, double percentile,
                                     byte[] calibration, int images, int maxIterations) {
        if (!(percentile > 0 && percentile <= 1)) {
            throw new IllegalArgumentException("percentile must be in (0, 1], got " + percentile);
        }
        int size = model.inputSpec().size();
        if ((long) images * size > calibration.length || images < 1) {
            throw new IllegalArgumentException(images + " calibration images of " + size + " pixels need "
                    + (long) images * size + " bytes, got " + calibration.length);
        }
        List<TensorSpec> tensors = new ArrayList<>(model.tensors());
        for (Layer l : model.layers()) {
            if (l instanceof Conv2d c) {
                RangeProfile.LayerRange r = profile.layers().get(c.name());
                if (r != null && r.realOutput.count() > 0) {
                    TensorSpec t = tensors.get(c.output());
                    double top = r.realOutput.percentile(percentile);
                    int qmax = c.activation() == Activation.RELU6 ? t.qmax() : c.activation().qmax(t);
                    if (top > 0 && Double.isFinite(top)) {
                        tensors.set(c.output(), withScale(t, top / qmax));
                    }
                }
            } else if (l instanceof MaxPool || l instanceof Flatten) {
                tensors.set(l.output(), withScale(tensors.get(l.output()), tensors.get(l.inputs().get(0)).scale()));
            }
        }
        int n = model.layers().size();
        double[] coarsen = new double[n];
        Arrays.fill(coarsen, 1.0);
        long accMax = FixedPoint.maxSigned(target.accumulatorBits());
        for (int i = 0; i < n; i++) {
            if (model.layers().get(i) instanceof Conv2d c) {
                RangeProfile.LayerRange r = profile.layers().get(c.name());
                if (r == null || r.accumulator.count() == 0) {
                    continue;
                }
                double maxAbs = Math.max(Math.abs(r.accumulator.min()), Math.abs(r.accumulator.max()));
                double predicted = maxAbs * model.tensor(c.input()).scale() / tensors.get(c.input()).scale();
                coarsen[i] = Math.max(1.0, predicted / (SAFETY * accMax));
            }
        }
        IntegerModel planned = null;
        long[] events = null;
        double[] maxAcc = new double[n];
        int iteration = 0;
        for (; iteration < Math.max(1, maxIterations); iteration++) {
            planned = build(model, tensors, coarsen, target);
            Executor e = Executor.fast(planned, target);
            Arrays.fill(maxAcc, 0);
            e.setProbe((layerIndex, layer, channel, acc, count) -> {
                for (int k = 0; k < count; k++) {
                    maxAcc[layerIndex] = Math.max(maxAcc[layerIndex], Math.abs((double) acc[k]));
                }
            });
            for (int img = 0; img < images; img++) {
                e.run(calibration, img * size);
            }
            events = e.overflowEvents();
            if (Arrays.stream(events).sum() == 0) {
                break;
            }
            for (int i = 0; i < n; i++) {
                if (events[i] > 0) {
                    coarsen[i] *= 1.25;
                }
            }
        }
        List<LayerHeadroom> headroom = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            if (planned.layers().get(i) instanceof Conv2d c) {
                double m = Math.max(1, maxAcc[i]);
                headroom.add(new LayerHeadroom(c.name(), maxAcc[i], Math.log(accMax / m) / Math.log(2), coarsen[i],
                        events[i]));
            }
        }
        return new RescalingPlan(planned, headroom, iteration + 1, Arrays.stream(events).sum());
    }

    private static TensorSpec withScale(TensorSpec t, double scale) {
        return new TensorSpec(t.name(), t.channels(), t.height(), t.width(), scale, t.signed(), t.bits());
    }

    /** The model with new tensor scales, weights coarsened per layer, biases re-expressed, multipliers for M. */
    private static IntegerModel build(IntegerModel model, List<TensorSpec> tensors, double[] coarsen,
                                      ProcessorConfig target) {
        int wmax = (1 << (model.weightBits() - 1)) - 1;
        long accMax = FixedPoint.maxSigned(target.accumulatorBits());
        List<Layer> layers = new ArrayList<>();
        for (int i = 0; i < model.layers().size(); i++) {
            Layer l = model.layers().get(i);
            if (!(l instanceof Conv2d c)) {
                layers.add(l);
                continue;
            }
            double sxOld = model.tensor(c.input()).scale();
            double sxNew = tensors.get(c.input()).scale();
            int oc = c.outChannels();
            int per = c.weights().length / oc;
            double f = coarsen[i];
            byte[] w = c.weights().clone();
            double[] sw = c.weightScales().clone();
            int[] bias = new int[oc];
            for (int ch = 0; ch < oc; ch++) {
                double biasReal = c.bias()[ch] * sxOld * c.weightScales()[ch];
                double fc = f;
                while (true) {
                    double b = Math.rint(biasReal / (sxNew * c.weightScales()[ch] * fc));
                    if (Math.abs(b) <= accMax * SAFETY || fc > 1e6) {
                        bias[ch] = (int) b;
                        break;
                    }
                    fc *= 2; // the bias alone needs coarser units
                }
                sw[ch] = c.weightScales()[ch] * fc;
                if (fc != 1.0) {
                    for (int k = ch * per; k < (ch + 1) * per; k++) {
                        w[k] = (byte) Math.max(-wmax, Math.min(wmax, Math.rint(c.weights()[k] / fc)));
                    }
                }
            }
            layers.add(new Conv2d(c.name(), c.input(), c.output(), oc, c.inChannels(), c.kernelH(), c.kernelW(), c.strideH(),
                    c.strideW(), c.padH(), c.padW(), c.groups(), w, bias, sw, c.multipliers(), c.shifts(), c.activation()));
        }
        IntegerModel m = new IntegerModel(model.name(), model.weightBits(), model.activationBits(),
                target.accumulatorBits(), model.multiplierBits(), tensors, model.input(), model.output(), layers);
        try {
            return m.withMultiplierBits(target.multiplierBits()).validate();
        } catch (InvalidModelException e) {
            throw new InvalidModelException("rescaling plan failed: " + e.getMessage(), e);
        }
    }
}
