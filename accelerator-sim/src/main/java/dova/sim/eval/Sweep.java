package dova.sim.eval;

import dova.sim.FixedPoint;
import dova.sim.Overflow;
import dova.sim.ProcessorConfig;
import dova.sim.data.LabelledImages;
import dova.sim.model.Conv2d;
import dova.sim.model.IntegerModel;
import dova.sim.model.InvalidModelException;
import dova.sim.model.Layer;
import dova.sim.plot.LinePlot;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Models measured on accelerator-sim over a grid of processor widths: one row per (model,
 * processor) with accuracy, overflow events and cost, rendered as a markdown table, and the
 * rows grouped into accuracy-against-A and accuracy-against-M curves.
 */
public final class Sweep {
    /**
     * What a compress run's file name says it was trained for: {@code <name>-a<A>m<M>-<mode><variant>.dova};
     * the variant is empty for the paper's method, else e.g. {@code -no-downscaling}, {@code -guaranteed}.
     */
    public record Trained(String base, int accumulatorBits, int multiplierBits, Overflow overflow, String variant) {
        private static final Pattern NAME = Pattern.compile("(.+)-a(\\d+)m(\\d+)-(wrap|saturate)((?:-[a-z0-9]+)*)\\.dova");

        /** The widths in a file name, or empty when it is not a compress run's model (or is its naive export). */
        public static Optional<Trained> parse(String fileName) {
            Matcher m = NAME.matcher(fileName);
            if (!m.matches() || m.group(5).endsWith("-naive")) {
                return Optional.empty();
            }
            return Optional.of(new Trained(m.group(1), Integer.parseInt(m.group(2)), Integer.parseInt(m.group(3)),
                    Overflow.parse(m.group(4)), m.group(5)));
        }

        public ProcessorConfig processor() {
            return ProcessorConfig.baseline().withAccumulator(accumulatorBits, overflow).withMultiplierBits(multiplierBits);
        }
    }

    /**
     * One measurement; {@code group} names what kind of model it is (naive, a training variant),
     * {@code result} is null when the model cannot run there ({@code error} says why).
     */
    public record Row(String label, String group, ProcessorConfig config, SimulationResult result, String error) {
        public double accuracy() {
            return result == null ? Double.NaN : result.accuracy();
        }
    }

    public static final String HEADER = "| model | A | M | overflow | accuracy | overflow events | images with overflow"
            + " | MACs/img | energy nJ/img | area um^2 |\n|---|---|---|---|---|---|---|---|---|---|\n";

    private final LabelledImages test;
    private final int threads;
    private final List<Row> rows = new ArrayList<>();

    public Sweep(LabelledImages test, int threads) {
        this.test = test;
        this.threads = threads;
    }

    /**
     * Measures {@code model} on {@code cfg}. With {@code clampBiases}, a model whose biases do not
     * fit the accumulator runs with them clamped to A bits (what a processor given a naive model
     * does), and the label says so; without, the row records why it cannot run.
     *
     * @param group what kind of model this is, for the plots' series
     */
    public Row measure(String label, String group, IntegerModel model, ProcessorConfig cfg, boolean clampBiases) {
        Row row;
        try {
            row = new Row(label, group, cfg, Simulation.run(model, cfg, test.pixels(), test.labels(), test.count(), threads,
                    null), null);
        } catch (InvalidModelException e) {
            if (clampBiases) {
                return measure(label + ", biases clamped to A bits", group, withBiasesClamped(model, cfg.accumulatorBits()),
                        cfg, false);
            }
            row = new Row(label, group, cfg, null, e.getMessage());
        }
        rows.add(row);
        return row;
    }

    public List<Row> rows() {
        return List.copyOf(rows);
    }

    public static String markdown(Row r) {
        ProcessorConfig c = r.config();
        String head = String.format(Locale.ROOT, "| %s | %d | %d | %s | ", r.label(), c.accumulatorBits(), c.multiplierBits(),
                c.overflow().name().toLowerCase(Locale.ROOT));
        if (r.result() == null) {
            return head + "cannot run: " + r.error().replace("|", "/") + " | | | | | |";
        }
        SimulationResult s = r.result();
        return head + String.format(Locale.ROOT, "%.2f%% | %d | %d | %d | %.1f | %.0f |", 100 * s.accuracy(),
                s.overflowEvents(), s.imagesWithOverflow(), s.cost().macs(), s.cost().energyPicojoules() / 1000,
                s.cost().areaSquareMicrometres());
    }

    /**
     * Plots accuracy against accumulator or multiplier bits, one line per series that
     * {@code seriesOf} names for a row (null: not on this plot); with a finite {@code fp32}, a
     * flat FP32 line across the axis.
     */
    public void plot(String title, boolean againstAccumulator, java.util.function.Function<Row, String> seriesOf, double fp32,
                     Path png) throws java.io.IOException {
        Map<String, TreeMap<Integer, Double>> curves = new LinkedHashMap<>();
        for (Row r : rows) {
            String series = seriesOf.apply(r);
            if (series == null || !Double.isFinite(r.accuracy())) {
                continue;
            }
            int x = againstAccumulator ? r.config().accumulatorBits() : r.config().multiplierBits();
            curves.computeIfAbsent(series, k -> new TreeMap<>()).put(x, 100 * r.accuracy());
        }
        LinePlot plot = new LinePlot(title, againstAccumulator ? "accumulator bits A" : "multiplier bits M", "accuracy %")
                .percentAxis().categoricalX();
        int lo = Integer.MAX_VALUE;
        int hi = Integer.MIN_VALUE;
        for (var e : curves.entrySet()) {
            plot.add(e.getKey(), e.getValue().keySet().stream().mapToDouble(Integer::doubleValue).toArray(),
                    e.getValue().values().stream().mapToDouble(Double::doubleValue).toArray());
            lo = Math.min(lo, e.getValue().firstKey());
            hi = Math.max(hi, e.getValue().lastKey());
        }
        if (Double.isFinite(fp32) && lo <= hi) {
            plot.reference(String.format(Locale.ROOT, "FP32 (%.2f%%)", 100 * fp32), 100 * fp32);
        }
        int classes = test.classes();
        if (classes > 1) {
            plot.reference("chance (" + classes + " classes)", 100.0 / classes);
        }
        plot.write(png);
    }

    /** {@code m} with every conv bias clamped to {@code accBits} (a processor that saturates what does not fit). */
    public static IntegerModel withBiasesClamped(IntegerModel m, int accBits) {
        List<Layer> layers = new ArrayList<>();
        long lo = FixedPoint.minSigned(accBits);
        long hi = FixedPoint.maxSigned(accBits);
        for (Layer l : m.layers()) {
            if (l instanceof Conv2d c) {
                int[] b = c.bias().clone();
                for (int i = 0; i < b.length; i++) {
                    b[i] = (int) Math.max(lo, Math.min(hi, b[i]));
                }
                layers.add(new Conv2d(c.name(), c.input(), c.output(), c.outChannels(), c.inChannels(), c.kernelH(),
                        c.kernelW(), c.strideH(), c.strideW(), c.padH(), c.padW(), c.groups(), c.weights(), b,
                        c.weightScales(), c.multipliers(), c.shifts(), c.activation()));
            } else {
                layers.add(l);
            }
        }
        return new IntegerModel(m.name(), m.weightBits(), m.activationBits(), accBits, m.multiplierBits(), m.tensors(),
                m.input(), m.output(), layers);
    }
}
