package dova.sim.cost;

import dova.sim.ProcessorConfig;
import dova.sim.model.Add;
import dova.sim.model.AvgPool;
import dova.sim.model.Conv2d;
import dova.sim.model.GlobalAvgPool;
import dova.sim.model.IntegerModel;
import dova.sim.model.Layer;
import dova.sim.model.MaxPool;
import dova.sim.model.TensorSpec;
import java.util.ArrayList;
import java.util.List;

/**
 * Analytical cost of a model on a {@code rows x lanes} PE array (docs/datapath.md section 5).
 * Modelling assumptions, each stated where it is used:
 * <ul>
 *   <li>a dense conv maps output channels onto rows and input channels of a group onto lanes;
 *       one cycle processes one kernel tap of one output pixel for a rows x lanes tile, so a
 *       layer with channel counts that are not multiples of 16 leaves lanes idle;</li>
 *   <li>a depthwise conv maps channels onto rows and uses one lane per row;</li>
 *   <li>element-wise layers (add, pools) use one ALU per row, one element per cycle;</li>
 *   <li>weights are read from the buffer once per inference, input activations once per
 *       cycle per lane (broadcast across rows), outputs written once;</li>
 *   <li>area counts the datapath (multipliers and adders), not SRAM or registers, for which
 *       the cost table has no figures.</li>
 * </ul>
 */
public final class CostModel {
    private CostModel() {
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }

    private static int log2Ceil(int v) {
        return 32 - Integer.numberOfLeadingZeros(Math.max(1, v - 1));
    }

    public static CostReport evaluate(IntegerModel model, ProcessorConfig cfg) {
        CostTable t = cfg.costTable();
        int rows = cfg.rows();
        int lanes = cfg.lanes();
        int wb = cfg.weightBits();
        int ab = cfg.activationBits();
        int acc = cfg.accumulatorBits();
        int mul = cfg.multiplierBits();
        // adder-tree width: a product is wb+ab bits, a sum of L products log2(L) more
        int treeBits = wb + ab + log2Ceil(lanes);
        double macPj = t.multEnergyPicojoules(wb, ab) + t.addEnergyPicojoules(treeBits);
        double requantPj = t.multEnergyPicojoules(acc, mul) + t.addEnergyPicojoules(Math.min(64, acc + mul));
        double sramPj = t.sramEnergyPicojoulesPerByte();
        List<LayerCost> costs = new ArrayList<>();
        for (Layer l : model.layers()) {
            TensorSpec out = model.tensor(l.output());
            long outElements = out.size();
            long writeBytes = ceilDiv(outElements * ab, 8);
            if (l instanceof Conv2d c) {
                long area = (long) out.height() * out.width();
                long taps = (long) c.kernelH() * c.kernelW();
                long macs = outElements * c.inChannelsPerGroup() * taps;
                long cycles;
                long activationReads;
                if (c.inChannelsPerGroup() == 1 && c.outChannelsPerGroup() == 1) {
                    cycles = ceilDiv(c.groups(), rows) * area * taps;      // depthwise: channels on rows, one lane
                    activationReads = cycles * Math.min(rows, c.groups());
                } else {
                    cycles = c.groups() * ceilDiv(c.outChannelsPerGroup(), rows) * ceilDiv(c.inChannelsPerGroup(), lanes)
                            * area * taps;
                    activationReads = cycles * Math.min(lanes, c.inChannelsPerGroup());
                }
                long groupUpdates = outElements * taps * ceilDiv(c.inChannelsPerGroup(), lanes);
                long readBytes = ceilDiv((long) c.weights().length * wb, 8) + ceilDiv(activationReads * ab, 8);
                costs.add(new LayerCost(l.name(), c.depthwise() ? LayerCost.Kind.DEPTHWISE_CONV : LayerCost.Kind.CONV, macs, cycles,
                        (double) macs / ((double) cycles * rows * lanes), readBytes, writeBytes, macs * macPj,
                        groupUpdates * t.addEnergyPicojoules(acc) + outElements * requantPj,
                        (readBytes + writeBytes) * sramPj));
            } else if (l instanceof Add) {
                long readBytes = 2 * ceilDiv(outElements * ab, 8);
                double pj = outElements * (2 * t.multEnergyPicojoules(ab, mul) + t.addEnergyPicojoules(Math.min(64, acc + mul)));
                costs.add(new LayerCost(l.name(), LayerCost.Kind.ADD, 0, ceilDiv(outElements, rows), 0, readBytes, writeBytes, 0, pj,
                        (readBytes + writeBytes) * sramPj));
            } else if (l instanceof MaxPool p) {
                long window = (long) p.kernel() * p.kernel();
                long readBytes = ceilDiv(outElements * window * ab, 8);
                costs.add(new LayerCost(l.name(), LayerCost.Kind.MAX_POOL, 0, ceilDiv(outElements * window, rows), 0, readBytes,
                        writeBytes, outElements * window * t.addEnergyPicojoules(ab), 0, (readBytes + writeBytes) * sramPj));
            } else if (l instanceof AvgPool || l instanceof GlobalAvgPool) {
                TensorSpec in = model.tensor(l.inputs().get(0));
                long window = l instanceof AvgPool p ? (long) p.kernel() * p.kernel() : (long) in.height() * in.width();
                long readBytes = ceilDiv(outElements * window * ab, 8);
                costs.add(new LayerCost(l.name(), l instanceof AvgPool ? LayerCost.Kind.AVG_POOL : LayerCost.Kind.GLOBAL_AVG_POOL, 0,
                        ceilDiv(outElements * window, rows), 0, readBytes, writeBytes, 0,
                        outElements * (window * t.addEnergyPicojoules(acc) + requantPj), (readBytes + writeBytes) * sramPj));
            } else {
                costs.add(new LayerCost(l.name(), LayerCost.Kind.FLATTEN, 0, 0, 0, 0, 0, 0, 0, 0));
            }
        }
        double macArea = (double) rows * lanes * t.multAreaSquareMicrometres(wb, ab)
                + (double) rows * (lanes - 1) * t.addAreaSquareMicrometres(treeBits);
        double accArea = rows * (t.addAreaSquareMicrometres(acc) + t.multAreaSquareMicrometres(acc, mul)
                + t.addAreaSquareMicrometres(Math.min(64, acc + mul)));
        return new CostReport(cfg.label(), t.name(), costs, macArea, accArea);
    }
}
