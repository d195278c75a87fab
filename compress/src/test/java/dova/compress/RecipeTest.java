package dova.compress;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dova.compress.net.Architecture;
import dova.compress.train.Augmentation;
import dova.compress.train.Recipe;
import java.util.Random;
import org.junit.jupiter.api.Test;

class RecipeTest {
    private static byte[] image(int rows, int cols, long seed) {
        byte[] b = new byte[rows * cols];
        new Random(seed).nextBytes(b);
        return b;
    }

    /** The (flip, dy, dx) that {@code out} is of {@code src}, or null when it is no such transform. */
    private static int[] transformOf(byte[] src, float[] out, int rows, int cols, boolean flips) {
        for (int flip = 0; flip <= (flips ? 1 : 0); flip++) {
            for (int dy = -2; dy <= 2; dy++) {
                for (int dx = -2; dx <= 2; dx++) {
                    boolean ok = true;
                    for (int y = 0; y < rows && ok; y++) {
                        for (int x = 0; x < cols && ok; x++) {
                            int sy = y + dy;
                            int sx = x + dx;
                            float want = sy < 0 || sy >= rows || sx < 0 || sx >= cols ? 0
                                    : src[sy * cols + (flip == 1 ? cols - 1 - sx : sx)] & 0xff;
                            ok = out[y * cols + x] == want;
                        }
                    }
                    if (ok) {
                        return new int[] {flip, dy, dx};
                    }
                }
            }
        }
        return null;
    }

    @Test
    void augmentationsAreTheDocumentedTransformsAndSeeded() {
        int rows = 9;
        int cols = 7;
        float[] out = new float[rows * cols + 3];
        byte[] src = image(rows, cols, 5);
        Augmentation.NONE.apply(src, 0, rows, cols, out, 3, null);
        for (int i = 0; i < src.length; i++) {
            assertEquals(src[i] & 0xff, out[3 + i]);
        }
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (Augmentation a : new Augmentation[] {Augmentation.SHIFT, Augmentation.FLIP_CROP}) {
            Random rnd = new Random(11);
            for (int trial = 0; trial < 300; trial++) {
                float[] o = new float[rows * cols];
                a.apply(src, 0, rows, cols, o, 0, rnd);
                int[] t = transformOf(src, o, rows, cols, a == Augmentation.FLIP_CROP);
                assertTrue(t != null, a + " trial " + trial + ": not a shift by at most 2 pixels"
                        + (a == Augmentation.FLIP_CROP ? " of the image or its mirror" : ""));
                seen.add(a + "" + t[0] + t[1] + t[2]);
            }
            float[] x = new float[rows * cols];
            float[] y = new float[rows * cols];
            a.apply(src, 0, rows, cols, x, 0, new Random(3));
            a.apply(src, 0, rows, cols, y, 0, new Random(3));
            assertArrayEquals(x, y, "same seed, same image");
        }
        assertEquals(25 + 50, seen.size(), "every shift (and, for flip-crop, every mirrored shift) is drawn");
        Random f = new Random(2);
        int flipped = 0;
        for (int trial = 0; trial < 200; trial++) {
            float[] o = new float[rows * cols];
            Augmentation.FLIP.apply(src, 0, rows, cols, o, 0, f);
            int[] t = transformOf(src, o, rows, cols, true);
            assertTrue(t != null && t[1] == 0 && t[2] == 0, "flip only, no shift");
            flipped += t[0];
        }
        assertTrue(flipped > 60 && flipped < 140, flipped + " of 200 flipped");
        assertEquals(Augmentation.FLIP_CROP, Augmentation.parse("flip-crop"));
        assertThrows(IllegalArgumentException.class, () -> Augmentation.parse("rotate"));
    }

    @Test
    void cosineWarmsUpLinearlyThenDecaysToZero() {
        Recipe r = Recipe.builder().optimizer(Recipe.Optimizer.ADAMW).epochs(5).learningRate(0.01f)
                .schedule(Recipe.LrSchedule.COSINE).warmupEpochs(1).weightDecay(1e-4f).build();
        int steps = 100;
        assertEquals(0.01f / 100, r.rateAt(0, steps), 1e-9);
        assertEquals(0.005f, r.rateAt(49, steps), 1e-7);
        assertEquals(0.01f, r.rateAt(99, steps), 1e-7, "the peak at the end of the warm-up");
        assertEquals(0.01f, r.rateAt(100, steps), 1e-7, "the cosine starts at the peak");
        assertEquals(0.005f, r.rateAt(300, steps), 1e-6, "half-way through the cosine: half the peak");
        assertTrue(r.rateAt(499, steps) < 1e-6f, "close to 0 at the last step");
        for (int s = 101; s < 500; s++) {
            assertTrue(r.rateAt(s, steps) <= r.rateAt(s - 1, steps), "decreasing after the warm-up, step " + s);
        }
        Recipe fixed = Recipe.quick(3, 32, 0.002f);
        assertEquals(0.002f, fixed.rateAt(0, 10));
        assertEquals(0.002f, fixed.rateAt(29, 10));
    }

    @Test
    void impossibleRecipesAreRefusedNamingTheSetting() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Recipe.builder().weightDecay(0.1f).build())
                .getMessage().contains("ADAMW"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Recipe.builder().epochs(2).warmupEpochs(2)
                .schedule(Recipe.LrSchedule.COSINE).build()).getMessage().contains("warm-up"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Recipe.builder().learningRate(0).build())
                .getMessage().contains("learning rate"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Recipe.builder().batchSize(0).build())
                .getMessage().contains("batch"));
        for (Architecture a : Architecture.values()) {
            Recipe r = Recipe.converged(a);
            assertEquals(r, r.toBuilder().build(), "toBuilder keeps every setting");
            assertTrue(r.epochs() >= 16 && r.weightDecay() > 0 && r.augmentation() != Augmentation.NONE, a + ": " + r);
        }
    }
}
