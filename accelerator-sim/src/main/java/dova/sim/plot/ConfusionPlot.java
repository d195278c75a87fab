package dova.sim.plot;

import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * A confusion matrix as PNG: one cell per (label, predicted) pair, shaded by the share of the
 * label's images, with the count written in each non-empty cell, the class names on both axes
 * and each label's accuracy at the row's end. Drawn with Java2D (headless), since a chart
 * library's heat map has no per-cell text or per-row annotation.
 */
public final class ConfusionPlot {
    private ConfusionPlot() {
    }

    public static void write(Path png, String title, long[][] m, List<String> classNames) throws IOException {
        System.setProperty("java.awt.headless", "true");
        int n = m.length;
        int cell = n <= 12 ? 48 : Math.max(14, 576 / n);
        int left = 150;
        int top = 70;
        int right = 110;
        int bottom = 120;
        int w = left + n * cell + right;
        int h = top + n * cell + bottom;
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, w, h);
            g.setColor(Color.BLACK);
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
            g.drawString(title, 10, 24);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            g.drawString("rows: true class; columns: predicted class; shade: share of the row", 10, 44);
            Font cellFont = new Font(Font.SANS_SERIF, Font.PLAIN, Math.min(12, Math.max(8, cell / 4)));
            for (int a = 0; a < n; a++) {
                long row = 0;
                for (long v : m[a]) {
                    row += v;
                }
                for (int p = 0; p < n; p++) {
                    double share = row == 0 ? 0 : (double) m[a][p] / row;
                    // white to blue on the diagonal, white to red off it: errors stand out
                    Color full = a == p ? new Color(0x1f77b4) : new Color(0xd62728);
                    double t = a == p ? share : Math.min(1, Math.sqrt(share));
                    g.setColor(mix(Color.WHITE, full, t));
                    int x = left + p * cell;
                    int y = top + a * cell;
                    g.fillRect(x, y, cell, cell);
                    g.setColor(new Color(0xdddddd));
                    g.drawRect(x, y, cell, cell);
                    if (m[a][p] > 0 && cell >= 24) {
                        g.setFont(cellFont);
                        g.setColor(t > 0.55 ? Color.WHITE : Color.BLACK);
                        String s = Long.toString(m[a][p]);
                        int sw = g.getFontMetrics().stringWidth(s);
                        g.drawString(s, x + (cell - sw) / 2, y + cell / 2 + 4);
                    }
                }
                g.setColor(Color.BLACK);
                g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
                String name = label(classNames, a);
                int nw = g.getFontMetrics().stringWidth(name);
                g.drawString(name, left - nw - 8, top + a * cell + cell / 2 + 4);
                String acc = row == 0 ? "-" : String.format(Locale.ROOT, "%.1f%%", 100.0 * m[a][a] / row);
                g.drawString(acc, left + n * cell + 8, top + a * cell + cell / 2 + 4);
            }
            g.drawString("accuracy", left + n * cell + 8, top - 8);
            // predicted-class names, rotated
            for (int p = 0; p < n; p++) {
                Graphics2D r = (Graphics2D) g.create();
                r.translate(left + p * cell + cell / 2 + 4, top + n * cell + 8);
                r.rotate(Math.PI / 2);
                r.drawString(label(classNames, p), 0, 0);
                r.dispose();
            }
        } finally {
            g.dispose();
        }
        Png.write(img, png);
    }

    private static String label(List<String> names, int i) {
        String s = i < names.size() ? i + " " + names.get(i) : Integer.toString(i);
        return s.length() > 18 ? s.substring(0, 17) + "…" : s;
    }

    private static Color mix(Color a, Color b, double t) {
        return new Color((int) Math.round(a.getRed() + (b.getRed() - a.getRed()) * t),
                (int) Math.round(a.getGreen() + (b.getGreen() - a.getGreen()) * t),
                (int) Math.round(a.getBlue() + (b.getBlue() - a.getBlue()) * t));
    }
}
