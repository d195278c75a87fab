package dova.sim.eval;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dova.sim.ProcessorConfig;
import dova.sim.cost.CostReport;
import dova.sim.cost.LayerCost;
import java.util.List;
import java.util.Locale;

/** Text tables and JSON for simulation results; the first result is the baseline of the ratios. */
public final class Reports {
    private Reports() {
    }

    private static String f(String fmt, Object... args) {
        return String.format(Locale.ROOT, fmt, args);
    }

    /** A side-by-side table of several configurations, ratios against the first. */
    public static String table(List<SimulationResult> results) {
        StringBuilder sb = new StringBuilder();
        SimulationResult base = results.get(0);
        sb.append(f("model %s, %d images, cost table %s%n%n", base.model(), base.images(), base.cost().costTable()));
        sb.append(f("%-22s %9s %12s %12s %12s %11s %12s %9s %9s%n", "configuration", "accuracy", "overflow ev.",
                "imgs w/ ovf", "cycles/img", "energy nJ", "area um^2", "energy x", "area x"));
        for (SimulationResult r : results) {
            CostReport c = r.cost();
            sb.append(f("%-22s %8.2f%% %12d %12d %12d %11.2f %12.0f %9.3f %9.3f%n", r.config().label(), 100 * r.accuracy(),
                    r.overflowEvents(), r.imagesWithOverflow(), c.cycles(), c.energyPicojoules() / 1000,
                    c.areaSquareMicrometres(), c.energyPicojoules() / base.cost().energyPicojoules(),
                    c.areaSquareMicrometres() / base.cost().areaSquareMicrometres()));
        }
        sb.append('\n');
        for (SimulationResult r : results) {
            sb.append(layerTable(r));
        }
        return sb.toString();
    }

    /** Per-layer table of one configuration. */
    public static String layerTable(SimulationResult r) {
        StringBuilder sb = new StringBuilder();
        ProcessorConfig cfg = r.config();
        CostReport c = r.cost();
        sb.append(f("%s: accuracy %.2f%% (%d/%d), %.1f images/s simulated, PE utilisation %.1f%%%n", cfg.label(),
                100 * r.accuracy(), r.correct(), r.images(), r.imagesPerSecond(), 100 * c.utilisation(cfg.rows(), cfg.lanes())));
        sb.append(f("  %-16s %-8s %12s %12s %7s %14s %11s%n", "layer", "kind", "MACs", "cycles", "util", "overflow ev.",
                "energy pJ"));
        for (int i = 0; i < c.layers().size(); i++) {
            LayerCost l = c.layers().get(i);
            sb.append(f("  %-16s %-8s %12d %12d %6.1f%% %14d %11.1f%n", l.name(), l.kind(), l.macs(), l.cycles(),
                    100 * l.utilisation(), r.overflowEventsPerLayer()[i], l.energyPicojoules()));
        }
        sb.append(f("  %-16s %-8s %12d %12d %7s %14d %11.1f%n%n", "total", "", c.macs(), c.cycles(), "",
                r.overflowEvents(), c.energyPicojoules()));
        return sb.toString();
    }

    /** Per-class accuracy and the confusion matrix (rows: label, columns: predicted class), as text. */
    public static String confusion(SimulationResult r) {
        return confusion(r, List.of());
    }

    /** The same, rows named by {@code classNames} (label order) where given. */
    public static String confusion(SimulationResult r, List<String> classNames) {
        long[][] m = r.confusion();
        int width = 5;
        for (int a = 0; a < m.length && a < classNames.size(); a++) {
            width = Math.max(width, Math.min(24, (a + " " + classNames.get(a)).length()));
        }
        StringBuilder sb = new StringBuilder(f("%s on %s: per-class accuracy and confusion (rows: label, columns:"
                + " predicted)%n", r.model(), r.config().label()));
        sb.append(f("  %-" + width + "s %8s  ", "class", "accuracy"));
        for (int c = 0; c < m.length; c++) {
            sb.append(f("%6d", c));
        }
        sb.append('\n');
        for (int a = 0; a < m.length; a++) {
            double acc = r.classAccuracy(a);
            String name = a < classNames.size() ? a + " " + classNames.get(a) : Integer.toString(a);
            sb.append(f("  %-" + width + "s %8s  ", name.length() > 24 ? name.substring(0, 24) : name,
                    Double.isNaN(acc) ? "-" : f("%.2f%%", 100 * acc)));
            for (long v : m[a]) {
                sb.append(f("%6d", v));
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    /** The same content as JSON. */
    public static String json(List<SimulationResult> results) {
        ObjectMapper om = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ArrayNode arr = om.createArrayNode();
        SimulationResult base = results.get(0);
        for (SimulationResult r : results) {
            ObjectNode o = arr.addObject();
            ProcessorConfig cfg = r.config();
            o.put("model", r.model());
            o.put("configuration", cfg.label());
            o.put("accumulatorBits", cfg.accumulatorBits());
            o.put("multiplierBits", cfg.multiplierBits());
            o.put("overflow", cfg.overflow().name());
            o.put("requantMode", cfg.requantMode().name());
            o.put("lanes", cfg.lanes());
            o.put("rows", cfg.rows());
            o.put("images", r.images());
            o.put("correct", r.correct());
            o.put("accuracy", r.accuracy());
            o.put("overflowEvents", r.overflowEvents());
            o.put("imagesWithOverflow", r.imagesWithOverflow());
            o.put("costTable", r.cost().costTable());
            o.put("macsPerImage", r.cost().macs());
            o.put("cyclesPerImage", r.cost().cycles());
            o.put("energyPicojoulesPerImage", r.cost().energyPicojoules());
            o.put("areaSquareMicrometres", r.cost().areaSquareMicrometres());
            o.put("energyRatioToFirst", r.cost().energyPicojoules() / base.cost().energyPicojoules());
            o.put("areaRatioToFirst", r.cost().areaSquareMicrometres() / base.cost().areaSquareMicrometres());
            o.put("imagesPerSecond", r.imagesPerSecond());
            ArrayNode perClass = o.putArray("classAccuracy");
            ArrayNode matrix = o.putArray("confusion");
            for (int c = 0; c < r.confusion().length; c++) {
                perClass.add(r.classAccuracy(c));
                ArrayNode row = matrix.addArray();
                for (long v : r.confusion()[c]) {
                    row.add(v);
                }
            }
            ArrayNode layers = o.putArray("layers");
            for (int i = 0; i < r.cost().layers().size(); i++) {
                LayerCost l = r.cost().layers().get(i);
                ObjectNode ln = layers.addObject();
                ln.put("name", l.name());
                ln.put("kind", l.kind().label());
                ln.put("macs", l.macs());
                ln.put("cycles", l.cycles());
                ln.put("utilisation", l.utilisation());
                ln.put("overflowEvents", r.overflowEventsPerLayer()[i]);
                ln.put("bufferReadBytes", l.bufferReadBytes());
                ln.put("bufferWriteBytes", l.bufferWriteBytes());
                ln.put("energyPicojoules", l.energyPicojoules());
            }
        }
        try {
            return om.writeValueAsString(arr);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
