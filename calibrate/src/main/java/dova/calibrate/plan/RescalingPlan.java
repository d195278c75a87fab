package dova.calibrate.plan;

import dova.sim.model.IntegerModel;
import java.util.List;
import java.util.Locale;

/** A recalibrated model and the per-layer headroom that justifies it. */
public record RescalingPlan(IntegerModel model, List<LayerHeadroom> layers, int iterations, long overflowEvents) {
    public String table() {
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%-16s %16s %10s %10s %10s%n", "layer",
                "max |acc|", "headroom", "w-coarsen", "overflows"));
        for (LayerHeadroom h : layers) {
            sb.append(String.format(Locale.ROOT, "%-16s %16.0f %9.2fb %10.3f %10d%n", h.layer(),
                    h.observedMaxAbsAccumulator(), h.headroomBits(), h.weightCoarsening(), h.overflowEvents()));
        }
        return sb.toString();
    }
}
