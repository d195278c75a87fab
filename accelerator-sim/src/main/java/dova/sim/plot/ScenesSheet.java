package dova.sim.plot;

import dova.sim.data.Scenes;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * A PNG sheet of sample scenes: each scene as its grey image with the ground-truth boxes and
 * class names drawn on it, and beside it its mask (one colour per class, black background).
 */
public final class ScenesSheet {
    /** Ten well-separated colours, then repeated (classes 0-9 of MNIST and Fashion-MNIST). */
    private static final int[] PALETTE = {0x1f77b4, 0xff7f0e, 0x2ca02c, 0xd62728, 0x9467bd, 0x8c564b, 0xe377c2,
        0x7f7f7f, 0xbcbd22, 0x17becf};

    private ScenesSheet() {
    }

    static Color colour(int label) {
        return new Color(PALETTE[Math.floorMod(label, PALETTE.length)]);
    }

    /** The first {@code n} scenes of {@code set}, {@code columns} pairs per row, each drawn at {@code zoom} x. */
    public static void write(Path png, String title, Scenes.SceneSet set, List<String> classNames, int n, int columns,
                             int zoom) throws IOException {
        System.setProperty("java.awt.headless", "true");
        n = Math.min(n, set.count());
        int rows = (n + columns - 1) / columns;
        int cell = set.size() * zoom;
        int gap = 12;
        int top = 52;
        int w = gap + columns * (2 * cell + 3 * gap);
        int h = top + rows * (cell + 2 * gap + 14);
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, w, h);
            g.setColor(Color.BLACK);
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
            g.drawString(title, gap, 22);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            g.drawString("left: scene with its ground-truth boxes; right: its mask (colour = class, black = background)",
                    gap, 40);
            Font label = new Font(Font.SANS_SERIF, Font.BOLD, Math.max(10, 4 * zoom));
            for (int i = 0; i < n; i++) {
                int x0 = gap + (i % columns) * (2 * cell + 3 * gap);
                int y0 = top + (i / columns) * (cell + 2 * gap + 14);
                int base = i * set.pixelsPerScene();
                for (int y = 0; y < set.size(); y++) {
                    for (int x = 0; x < set.size(); x++) {
                        int v = set.pixels()[base + y * set.size() + x] & 0xff;
                        int m = set.masks()[base + y * set.size() + x] & 0xff;
                        int grey = 0xff000000 | v << 16 | v << 8 | v;
                        int mask = m == 0 ? 0xff000000 : 0xff000000 | PALETTE[(m - 1) % PALETTE.length];
                        for (int dy = 0; dy < zoom; dy++) {
                            for (int dx = 0; dx < zoom; dx++) {
                                img.setRGB(x0 + x * zoom + dx, y0 + y * zoom + dy, grey);
                                img.setRGB(x0 + cell + gap + x * zoom + dx, y0 + y * zoom + dy, mask);
                            }
                        }
                    }
                }
                g.setStroke(new BasicStroke(2f));
                g.setFont(label);
                for (Scenes.Box b : set.boxes().get(i)) {
                    g.setColor(colour(b.label()));
                    g.drawRect(x0 + b.x() * zoom, y0 + b.y() * zoom, b.w() * zoom - 1, b.h() * zoom - 1);
                    String name = b.label() < classNames.size() ? classNames.get(b.label()) : Integer.toString(b.label());
                    g.drawString(name, x0 + b.x() * zoom + 2, y0 + b.y() * zoom + label.getSize());
                }
                g.setColor(Color.DARK_GRAY);
                g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
                int k = set.boxes().get(i).size();
                g.drawString("scene " + i + ": " + k + (k == 1 ? " object" : " objects"), x0, y0 + cell + 14);
            }
        } finally {
            g.dispose();
        }
        Png.write(img, png);
    }
}
