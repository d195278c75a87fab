package dova.sim.plot;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.geom.Ellipse2D;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.TextTitle;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * A line chart written as PNG (JFreeChart, headless): a marker at every measured point and
 * lines only between measured points of one series (a missing value breaks the line), round
 * ticks, integer ticks where the x values are integers (epochs, bit widths), an optional
 * 0-100 percent axis, and dashed horizontal reference lines (FP32, chance).
 */
public final class LinePlot {
    private static final Color[] COLOURS = {new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c),
        new Color(0xff7f0e), new Color(0x9467bd), new Color(0x8c564b), new Color(0xe377c2), new Color(0x17becf),
        new Color(0xbcbd22), new Color(0x7f7f7f), new Color(0x000080), new Color(0x808000)};
    /** One marker shape per series as well as a colour, so that series stay apart in grey print and beyond 12. */
    private static final java.awt.Shape[] SHAPES = org.jfree.chart.plot.DefaultDrawingSupplier.createStandardSeriesShapes();

    private record Series(String name, double[] x, double[] y, boolean reference) {
    }

    private final String title;
    private final String xLabel;
    private final String yLabel;
    private final List<Series> series = new ArrayList<>();
    private boolean percent;
    private boolean categorical;
    private String subtitle;

    public LinePlot(String title, String xLabel, String yLabel) {
        this.title = title;
        this.xLabel = xLabel;
        this.yLabel = yLabel;
    }

    public LinePlot add(String name, double[] x, double[] y) {
        if (x.length != y.length) {
            throw new IllegalArgumentException("series " + name + ": " + x.length + " x values, " + y.length + " y values");
        }
        series.add(new Series(name, x.clone(), y.clone(), false));
        return this;
    }

    /** A dashed horizontal line at {@code y} across the plot (for example the FP32 accuracy). */
    public LinePlot reference(String name, double y) {
        series.add(new Series(name, new double[0], new double[] {y}, true));
        return this;
    }

    /** The y axis is a percentage: 0 to 100. */
    public LinePlot percentAxis() {
        percent = true;
        return this;
    }

    /**
     * The x values are categories (bit widths): equally spaced in their order, labelled with their
     * values, lines joining neighbouring measured categories only; series that share a point are
     * drawn side by side (a small horizontal offset each) so that none hides another.
     */
    public LinePlot categoricalX() {
        categorical = true;
        return this;
    }

    /** A second, smaller line under the title (long titles are split here rather than cut). */
    public LinePlot subtitle(String text) {
        subtitle = text;
        return this;
    }

    /**
     * The zoomed range of a percent axis whose values lie in {@code [lo, hi]} (all above 90): from
     * the half point at least half a point below {@code lo} to the next half point above {@code hi},
     * at most 100.
     */
    static double[] zoom(double lo, double hi) {
        return new double[] {Math.floor(lo * 2 - 1) / 2, Math.min(100, Math.floor(hi * 2 + 1) / 2)};
    }

    public void write(Path png) throws IOException {
        System.setProperty("java.awt.headless", "true");
        XYSeriesCollection data = new XYSeriesCollection();
        double xmin = Double.POSITIVE_INFINITY;
        double xmax = Double.NEGATIVE_INFINITY;
        boolean integerX = true;
        for (Series s : series) {
            for (double x : s.x) {
                xmin = Math.min(xmin, x);
                xmax = Math.max(xmax, x);
                integerX &= x == Math.rint(x);
            }
        }
        if (!(xmax >= xmin)) {
            xmin = 0;
            xmax = 1;
        }
        // a percent axis is 0-100, unless every measured value lies above 90: then zoomed to them, and
        // reference lines below the zoomed range (chance) are left out rather than drawn off the plot
        double zoomFrom = Double.NaN;
        double zoomTo = 100;
        if (percent) {
            double lo = Double.POSITIVE_INFINITY;
            double hi = Double.NEGATIVE_INFINITY;
            for (Series s : series) {
                for (double v : s.y) {
                    if (Double.isFinite(v)) {
                        hi = Math.max(hi, v); // reference lines too: FP32 stays on the plot
                        lo = s.reference ? lo : Math.min(lo, v);
                    }
                }
            }
            if (lo > 90 && Double.isFinite(lo)) {
                double[] z = zoom(lo, hi);
                zoomFrom = z[0];
                zoomTo = z[1];
            }
        }
        List<Series> drawn = new ArrayList<>();
        for (Series s : series) {
            if (!(s.reference && s.y[0] < zoomFrom)) {
                drawn.add(s);
            }
        }
        java.util.TreeSet<Double> categories = new java.util.TreeSet<>();
        int measured = 0;
        for (Series s : drawn) {
            if (!s.reference) {
                for (double v : s.x) {
                    categories.add(v);
                }
                measured++;
            }
        }
        List<Double> cats = new ArrayList<>(categories);
        double spread = Math.min(0.36, 0.07 * Math.max(0, measured - 1));
        List<Boolean> isReference = new ArrayList<>();
        int k = 0;
        for (Series s : drawn) {
            XYSeries xy = new XYSeries(s.name, false, true);
            if (s.reference) {
                xy.add(categorical ? -0.5 : xmin, s.y[0]);
                xy.add(categorical ? cats.size() - 0.5 : xmax, s.y[0]);
            } else {
                double dodge = measured <= 1 ? 0 : -spread / 2 + spread * k / (measured - 1);
                for (int i = 0; i < s.x.length; i++) {
                    double x = categorical ? cats.indexOf(s.x[i]) + dodge : s.x[i];
                    xy.add(x, Double.isFinite(s.y[i]) ? Double.valueOf(s.y[i]) : null); // null breaks the line
                }
                k++;
            }
            data.addSeries(xy);
            isReference.add(s.reference);
        }
        JFreeChart chart = ChartFactory.createXYLineChart(title, xLabel, yLabel, data, PlotOrientation.VERTICAL, true, false,
                false);
        chart.getTitle().setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
        if (subtitle != null) {
            chart.addSubtitle(new TextTitle(subtitle, new Font(Font.SANS_SERIF, Font.PLAIN, 12)));
        }
        chart.setBackgroundPaint(Color.WHITE);
        XYPlot plot = chart.getXYPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(new Color(0xdddddd));
        plot.setRangeGridlinePaint(new Color(0xdddddd));
        XYLineAndShapeRenderer r = new XYLineAndShapeRenderer(true, true);
        for (int i = 0; i < drawn.size(); i++) {
            Color c = COLOURS[i % COLOURS.length];
            r.setSeriesPaint(i, isReference.get(i) ? Color.DARK_GRAY : c);
            if (isReference.get(i)) {
                r.setSeriesShapesVisible(i, false);
                r.setSeriesStroke(i, new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f,
                        new float[] {6f, 4f}, 0f));
            } else {
                // a marker shape of its own for every series (and the colour): coinciding series stay apart
                r.setSeriesShape(i, categorical || i >= COLOURS.length ? SHAPES[i % SHAPES.length]
                        : new Ellipse2D.Double(-3.5, -3.5, 7, 7));
                if (i >= COLOURS.length) {
                    r.setSeriesStroke(i, new BasicStroke(2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f,
                            new float[] {8f, 3f}, 0f));
                    continue;
                }
                r.setSeriesStroke(i, new BasicStroke(2f));
            }
        }
        plot.setRenderer(r);
        if (categorical && !cats.isEmpty()) {
            String[] labels = new String[cats.size()];
            for (int i = 0; i < labels.length; i++) {
                double v = cats.get(i);
                labels[i] = v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
            }
            org.jfree.chart.axis.SymbolAxis sx = new org.jfree.chart.axis.SymbolAxis(xLabel + " (measured widths)", labels);
            sx.setRange(-0.5, labels.length - 0.5);
            sx.setGridBandsVisible(false);
            plot.setDomainAxis(sx);
        }
        NumberAxis x = (NumberAxis) plot.getDomainAxis();
        if (categorical) {
            // set above
        } else if (integerX) {
            x.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
            if (xmax - xmin <= 40) {
                x.setTickUnit(new NumberTickUnit(xmax - xmin <= 12 ? 1 : xmax - xmin <= 24 ? 2 : 5));
            }
        }
        if (!categorical) {
            x.setRange(xmin - Math.max(0.5, (xmax - xmin) * 0.03), xmax + Math.max(0.5, (xmax - xmin) * 0.03));
        }
        NumberAxis y = (NumberAxis) plot.getRangeAxis();
        y.setAutoRangeIncludesZero(false);
        if (percent) {
            if (!Double.isNaN(zoomFrom)) {
                y.setRange(zoomFrom, zoomTo);
                y.setLabel(yLabel + " (zoomed: " + zoomFrom + " to " + zoomTo + ")");
            } else {
                y.setRange(0, 100);
                y.setTickUnit(new NumberTickUnit(10));
            }
        }
        Files.createDirectories(png.toAbsolutePath().getParent());
        ChartUtils.saveChartAsPNG(png.toFile(), chart, 960, 560);
    }
}
