package dova.sim.plot;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/** A small line chart written as PNG with java2d (headless): axes, ticks, a legend, one colour per series. */
public final class LinePlot {
    private static final Color[] COLOURS = {new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c),
        new Color(0xff7f0e), new Color(0x9467bd), new Color(0x8c564b)};

    private record Series(String name, double[] x, double[] y) {
    }

    private final String title;
    private final String xLabel;
    private final String yLabel;
    private final List<Series> series = new ArrayList<>();

    public LinePlot(String title, String xLabel, String yLabel) {
        this.title = title;
        this.xLabel = xLabel;
        this.yLabel = yLabel;
    }

    public LinePlot add(String name, double[] x, double[] y) {
        if (x.length != y.length) {
            throw new IllegalArgumentException("series " + name + ": " + x.length + " x values, " + y.length + " y values");
        }
        series.add(new Series(name, x.clone(), y.clone()));
        return this;
    }

    public void write(Path png) throws IOException {
        System.setProperty("java.awt.headless", "true");
        int w = 900;
        int h = 540;
        int left = 80;
        int right = 220;
        int top = 50;
        int bottom = 60;
        double xmin = Double.POSITIVE_INFINITY;
        double xmax = Double.NEGATIVE_INFINITY;
        double ymin = Double.POSITIVE_INFINITY;
        double ymax = Double.NEGATIVE_INFINITY;
        for (Series s : series) {
            for (int i = 0; i < s.x.length; i++) {
                if (Double.isFinite(s.y[i])) {
                    xmin = Math.min(xmin, s.x[i]);
                    xmax = Math.max(xmax, s.x[i]);
                    ymin = Math.min(ymin, s.y[i]);
                    ymax = Math.max(ymax, s.y[i]);
                }
            }
        }
        if (!(xmax > xmin)) {
            xmax = xmin + 1;
        }
        if (!(ymax > ymin)) {
            ymax = ymin + 1;
        }
        double pad = (ymax - ymin) * 0.05;
        ymin -= pad;
        ymax += pad;
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, w, h);
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
        g.drawString(title, left, 30);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        int pw = w - left - right;
        int ph = h - top - bottom;
        g.drawRect(left, top, pw, ph);
        for (int i = 0; i <= 5; i++) {
            double yv = ymin + (ymax - ymin) * i / 5;
            int py = top + ph - (int) Math.round(ph * (double) i / 5);
            g.setColor(new Color(0xe0e0e0));
            g.drawLine(left + 1, py, left + pw - 1, py);
            g.setColor(Color.BLACK);
            g.drawString(String.format(Locale.ROOT, "%.3g", yv), 10, py + 4);
            double xv = xmin + (xmax - xmin) * i / 5;
            int px = left + (int) Math.round(pw * (double) i / 5);
            g.drawString(String.format(Locale.ROOT, "%.3g", xv), px - 10, top + ph + 18);
        }
        g.drawString(xLabel, left + pw / 2 - 40, h - 15);
        g.drawString(yLabel, 10, top - 10);
        g.setStroke(new BasicStroke(2f));
        for (int k = 0; k < series.size(); k++) {
            Series s = series.get(k);
            g.setColor(COLOURS[k % COLOURS.length]);
            int prevX = -1;
            int prevY = -1;
            for (int i = 0; i < s.x.length; i++) {
                if (!Double.isFinite(s.y[i])) {
                    prevX = -1;
                    continue;
                }
                int px = left + (int) Math.round(pw * (s.x[i] - xmin) / (xmax - xmin));
                int py = top + ph - (int) Math.round(ph * (s.y[i] - ymin) / (ymax - ymin));
                g.fillOval(px - 3, py - 3, 7, 7);
                if (prevX >= 0) {
                    g.drawLine(prevX, prevY, px, py);
                }
                prevX = px;
                prevY = py;
            }
            g.fillRect(left + pw + 15, top + 10 + 20 * k, 14, 4);
            g.setColor(Color.BLACK);
            g.drawString(s.name, left + pw + 35, top + 16 + 20 * k);
        }
        g.dispose();
        Files.createDirectories(png.toAbsolutePath().getParent());
        ImageIO.write(img, "png", png.toFile());
    }
}
