package dova.sim.data;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Multi-object scenes built from labelled 28x28 images, the way multi-digit MNIST benchmarks are
 * built: for detection and segmentation where no such data set can be fetched. Deterministic: the
 * same source images, parameters and seed give the same bytes on every JVM (integer arithmetic
 * and {@link Random} only).
 *
 * <p>Each scene is a {@code size x size} grey canvas with light clutter (faint strokes cut from
 * other source images) and 1 to {@link #MAX_OBJECTS} objects, each a source image scaled by a
 * factor in [0.75, 1.75] (nearest neighbour) and placed entirely inside the canvas at a random
 * position, so that objects may overlap. Pixels combine by maximum. Ground truth per object: its
 * class and its box, the tight box of its scaled pixels at or above {@link #OBJECT_THRESHOLD};
 * per pixel: the mask, 0 for background and {@code class + 1} where an object's scaled pixel is
 * at or above the threshold (where two objects cover a pixel, the brighter one; the later one on
 * a tie).
 */
public final class Scenes {
    public static final int MAX_OBJECTS = 5;
    /** A scaled source pixel at or above this is part of its object (box and mask). */
    public static final int OBJECT_THRESHOLD = 64;
    /** Largest canvas side. */
    public static final int MAX_SIZE = 1024;
    /** Largest number of scenes in one set. */
    public static final int MAX_SCENES = 1_000_000;

    /** One object: its class and its box in pixels ({@code x, y} the top-left corner). */
    public record Box(int label, int x, int y, int w, int h) {
        public int area() {
            return w * h;
        }
    }

    /**
     * A set of scenes: {@code pixels} is {@code count x size x size} row-major, {@code masks} the
     * same shape (0 background, class + 1 objects), {@code boxes.get(i)} the objects of scene i.
     */
    public record SceneSet(String name, int count, int size, int classes, byte[] pixels, byte[] masks, List<List<Box>> boxes) {
        public int pixelsPerScene() {
            return size * size;
        }
    }

    private Scenes() {
    }

    /**
     * {@code count} scenes of {@code size x size} from {@code source} (28x28 or any square size at
     * most {@code size / 2}).
     *
     * @throws IllegalArgumentException for a count or size out of range, or source images too large
     */
    public static SceneSet generate(LabelledImages source, int count, int size, long seed) {
        if (count < 1 || count > MAX_SCENES) {
            throw new IllegalArgumentException("scene count must be in [1, " + MAX_SCENES + "], got " + count);
        }
        if (size < 32 || size > MAX_SIZE) {
            throw new IllegalArgumentException("scene size must be in [32, " + MAX_SIZE + "], got " + size);
        }
        if (source.rows() != source.cols() || source.rows() * 2 > size) {
            throw new IllegalArgumentException("source images must be square and at most half the scene size: "
                    + source.rows() + "x" + source.cols() + " for " + size + "x" + size + " scenes");
        }
        if (source.count() < 2) {
            throw new IllegalArgumentException("scenes need at least 2 source images, got " + source.count());
        }
        int area = size * size;
        byte[] pixels = new byte[Math.multiplyExact(count, area)];
        byte[] masks = new byte[pixels.length];
        List<List<Box>> boxes = new ArrayList<>(count);
        Random rnd = new Random(seed);
        int[] canvas = new int[area];
        int[] owner = new int[area];
        for (int s = 0; s < count; s++) {
            java.util.Arrays.fill(canvas, 0);
            java.util.Arrays.fill(owner, 0);
            clutter(source, rnd, canvas, size);
            int objects = 1 + rnd.nextInt(MAX_OBJECTS);
            List<Box> list = new ArrayList<>(objects);
            for (int o = 0; o < objects; o++) {
                int img = rnd.nextInt(source.count());
                int side = source.rows() * (75 + rnd.nextInt(101)) / 100; // 0.75 .. 1.75 x
                int x0 = rnd.nextInt(size - side + 1);
                int y0 = rnd.nextInt(size - side + 1);
                int label = source.label(img);
                int bx0 = Integer.MAX_VALUE;
                int by0 = Integer.MAX_VALUE;
                int bx1 = -1;
                int by1 = -1;
                for (int y = 0; y < side; y++) {
                    int sy = y * source.rows() / side;
                    for (int x = 0; x < side; x++) {
                        int sx = x * source.cols() / side;
                        int v = source.pixels()[img * source.pixelsPerImage() + sy * source.cols() + sx] & 0xff;
                        int at = (y0 + y) * size + x0 + x;
                        if (v >= OBJECT_THRESHOLD) {
                            bx0 = Math.min(bx0, x0 + x);
                            by0 = Math.min(by0, y0 + y);
                            bx1 = Math.max(bx1, x0 + x);
                            by1 = Math.max(by1, y0 + y);
                            if (v >= canvas[at] || owner[at] == 0) {
                                owner[at] = label + 1;
                            }
                        }
                        canvas[at] = Math.max(canvas[at], v);
                    }
                }
                if (bx1 >= 0) { // an empty source image (all below the threshold) adds no object
                    list.add(new Box(label, bx0, by0, bx1 - bx0 + 1, by1 - by0 + 1));
                }
            }
            for (int i = 0; i < area; i++) {
                pixels[s * area + i] = (byte) canvas[i];
                masks[s * area + i] = (byte) owner[i];
            }
            boxes.add(List.copyOf(list));
        }
        return new SceneSet(source.name() + "-scenes", count, size, Math.max(1, source.classes()), pixels, masks,
                List.copyOf(boxes));
    }

    /** Faint strokes: 3 to 8 random 6x6 to 12x12 crops of source images at a quarter of their brightness (below the object threshold). */
    private static void clutter(LabelledImages source, Random rnd, int[] canvas, int size) {
        int n = 3 + rnd.nextInt(6);
        int side = source.rows();
        for (int k = 0; k < n; k++) {
            int img = rnd.nextInt(source.count());
            int w = 6 + rnd.nextInt(7);
            int cx = rnd.nextInt(side - w + 1);
            int cy = rnd.nextInt(side - w + 1);
            int x0 = rnd.nextInt(size - w + 1);
            int y0 = rnd.nextInt(size - w + 1);
            for (int y = 0; y < w; y++) {
                for (int x = 0; x < w; x++) {
                    int v = (source.pixels()[img * source.pixelsPerImage() + (cy + y) * side + cx + x] & 0xff) / 4;
                    int at = (y0 + y) * size + x0 + x;
                    canvas[at] = Math.max(canvas[at], v);
                }
            }
        }
    }
}
