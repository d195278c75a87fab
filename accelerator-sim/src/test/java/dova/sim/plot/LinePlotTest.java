package dova.sim.plot;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Series that share every point stay visible on a categorical axis (drawn side by side). */
class LinePlotTest {
    /** Pixels of exactly {@code rgb} in the plot area (the top 80%, above the legend). */
    static int pixels(BufferedImage img, int rgb) {
        int n = 0;
        for (int y = 0; y < img.getHeight() * 8 / 10; y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                n += (img.getRGB(x, y) & 0xffffff) == rgb ? 1 : 0;
            }
        }
        return n;
    }

    static BufferedImage draw(Path png, boolean categorical) throws Exception {
        double[] x = {12, 14, 16, 32};
        double[] y = {97.1, 98.0, 98.5, 98.6};
        LinePlot p = new LinePlot("two identical series", "accumulator bits A", "accuracy %").percentAxis();
        if (categorical) {
            p.categoricalX();
        }
        p.add("first", x, y).add("second", x, y).reference("FP32", 98.7);
        p.write(png);
        return ImageIO.read(png.toFile());
    }

    @Test
    void coincidingSeriesAreBothVisible(@TempDir Path dir) throws Exception {
        int second = 0xd62728; // JFreeChart draws the series in reverse order: the first covers the second
        int hiddenWithoutDodge = pixels(draw(dir.resolve("plain.png"), false), second);
        int visible = pixels(draw(dir.resolve("categorical.png"), true), second);
        assertTrue(visible > 200, "the second series shows on the categorical plot: " + visible + " pixels");
        assertTrue(visible > 3 * hiddenWithoutDodge, "and far more of it than when the first is drawn over it: " + visible
                + " against " + hiddenWithoutDodge);
    }

    @Test
    void zoomedPercentAxisHugsTheData() {
        org.junit.jupiter.api.Assertions.assertArrayEquals(new double[] {98.0, 99.5}, LinePlot.zoom(98.71, 99.03));
        org.junit.jupiter.api.Assertions.assertArrayEquals(new double[] {89.5, 91.5}, LinePlot.zoom(90.12, 91.22));
        org.junit.jupiter.api.Assertions.assertArrayEquals(new double[] {98.5, 100}, LinePlot.zoom(99.2, 99.9));
        org.junit.jupiter.api.Assertions.assertArrayEquals(new double[] {91.0, 92.0}, LinePlot.zoom(91.5, 91.5));
    }
}
