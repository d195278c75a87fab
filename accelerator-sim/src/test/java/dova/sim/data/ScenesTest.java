package dova.sim.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dova.sim.plot.ScenesSheet;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The multi-object scene generator: deterministic, ground truth consistent with the pixels, splits kept apart. */
class ScenesTest {
    /** Synthetic 28x28 sources: image i is a filled square of side 8 + i % 12, brightness 100-255, labelled i % 10. */
    static LabelledImages squares(int n, int offset) {
        byte[] px = new byte[n * 784];
        byte[] labels = new byte[n];
        Random r = new Random(offset);
        for (int i = 0; i < n; i++) {
            int side = 8 + (i + offset) % 12;
            int v = 100 + r.nextInt(156);
            int o = (28 - side) / 2;
            for (int y = o; y < o + side; y++) {
                for (int x = o; x < o + side; x++) {
                    px[i * 784 + y * 28 + x] = (byte) v;
                }
            }
            labels[i] = (byte) ((i + offset) % 10);
        }
        return new LabelledImages("squares", n, 28, 28, px, labels);
    }

    static String sha(Scenes.SceneSet s) throws Exception {
        MessageDigest d = MessageDigest.getInstance("SHA-256");
        d.update(s.pixels());
        d.update(s.masks());
        d.update(s.boxes().toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        return java.util.HexFormat.of().formatHex(d.digest());
    }

    @Test
    void sameSeedSameBytesOtherSeedOtherBytes() throws Exception {
        LabelledImages src = squares(50, 0);
        Scenes.SceneSet a = Scenes.generate(src, 40, 96, 7);
        Scenes.SceneSet b = Scenes.generate(src, 40, 96, 7);
        assertArrayEquals(a.pixels(), b.pixels());
        assertArrayEquals(a.masks(), b.masks());
        assertEquals(a.boxes(), b.boxes());
        assertEquals(sha(a), sha(b));
        assertFalse(sha(a).equals(sha(Scenes.generate(src, 40, 96, 8))), "another seed, other scenes");
        // the first scenes of a longer set are the same scenes: a set can be grown without changing its head
        Scenes.SceneSet longer = Scenes.generate(src, 60, 96, 7);
        assertArrayEquals(a.pixels(), java.util.Arrays.copyOf(longer.pixels(), a.pixels().length));
    }

    @Test
    void boxesAndMasksDescribeThePixels() {
        LabelledImages src = squares(50, 0);
        Scenes.SceneSet s = Scenes.generate(src, 200, 96, 3);
        int[] objectsPerCount = new int[Scenes.MAX_OBJECTS + 1];
        for (int i = 0; i < s.count(); i++) {
            var boxes = s.boxes().get(i);
            assertTrue(boxes.size() >= 1 && boxes.size() <= Scenes.MAX_OBJECTS, "1-5 objects: " + boxes.size());
            objectsPerCount[boxes.size()]++;
            for (int y = 0; y < 96; y++) {
                for (int x = 0; x < 96; x++) {
                    int v = s.pixels()[i * 9216 + y * 96 + x] & 0xff;
                    int m = s.masks()[i * 9216 + y * 96 + x] & 0xff;
                    if (m == 0) {
                        continue;
                    }
                    assertTrue(v >= Scenes.OBJECT_THRESHOLD, "a mask pixel is an object pixel");
                    int fx = x;
                    int fy = y;
                    assertTrue(boxes.stream().anyMatch(b -> b.label() == m - 1 && fx >= b.x() && fx < b.x() + b.w()
                            && fy >= b.y() && fy < b.y() + b.h()), "scene " + i + ": mask class " + (m - 1) + " at (" + x + ", "
                            + y + ") lies in a box of that class");
                }
            }
            for (Scenes.Box b : boxes) {
                assertTrue(b.x() >= 0 && b.y() >= 0 && b.x() + b.w() <= 96 && b.y() + b.h() <= 96, "inside the canvas: " + b);
                // a square source scaled by 0.75-1.75: its box is a square of 6-36 pixels
                assertEquals(b.w(), b.h(), 1, "squares stay square (nearest neighbour): " + b);
                assertTrue(b.w() >= 6 && b.w() <= 34, b.toString());
            }
        }
        for (int k = 1; k <= Scenes.MAX_OBJECTS; k++) {
            assertTrue(objectsPerCount[k] > 20, "every object count occurs: " + java.util.Arrays.toString(objectsPerCount));
        }
        // clutter stays below the object threshold: background pixels are never part of the mask
        int clutter = 0;
        for (int i = 0; i < s.pixels().length; i++) {
            if (s.masks()[i] == 0 && (s.pixels()[i] & 0xff) > 0) {
                clutter++;
                assertTrue((s.pixels()[i] & 0xff) < Scenes.OBJECT_THRESHOLD || s.masks()[i] != 0);
            }
        }
        assertTrue(clutter > 0, "there is background clutter");
    }

    @Test
    void scenesUseOnlyTheirSplitsImages() {
        // two disjoint sources (labels 0-9 from offset 0 vs brightness/sides from offset 5): a scene's
        // object pixels come from its own source's values only
        LabelledImages train = squares(30, 0);
        LabelledImages test = squares(30, 5);
        Set<Integer> trainValues = new HashSet<>();
        for (byte b : train.pixels()) {
            trainValues.add(b & 0xff);
        }
        Set<Integer> testValues = new HashSet<>();
        for (byte b : test.pixels()) {
            testValues.add(b & 0xff);
        }
        Scenes.SceneSet s = Scenes.generate(test, 50, 96, 11);
        for (int i = 0; i < s.pixels().length; i++) {
            int v = s.pixels()[i] & 0xff;
            if (v >= Scenes.OBJECT_THRESHOLD) {
                assertTrue(testValues.contains(v), "object pixel " + v + " comes from the test source");
            }
        }
        assertFalse(trainValues.equals(testValues), "the two sources differ, so the check can fail");
    }

    @Test
    void badParametersAreRejectedBeforeAllocating() {
        LabelledImages src = squares(10, 0);
        assertThrows(IllegalArgumentException.class, () -> Scenes.generate(src, 0, 96, 1));
        assertThrows(IllegalArgumentException.class, () -> Scenes.generate(src, Scenes.MAX_SCENES + 1, 96, 1));
        assertThrows(IllegalArgumentException.class, () -> Scenes.generate(src, 10, 40, 1), "sources over half the size");
        assertThrows(IllegalArgumentException.class, () -> Scenes.generate(src, 10, 4096, 1));
    }

    @Test
    void sheetIsDrawn(@TempDir Path dir) throws Exception {
        Scenes.SceneSet s = Scenes.generate(squares(50, 0), 8, 96, 3);
        Path png = dir.resolve("sheet.png");
        ScenesSheet.write(png, "scenes", s, DataSet.MNIST.classNames(), 8, 4, 2);
        var img = javax.imageio.ImageIO.read(png.toFile());
        assertTrue(img.getWidth() > 4 * 2 * 192 && img.getHeight() > 2 * 192, img.getWidth() + "x" + img.getHeight());
        assertTrue(Files.size(png) > 5000);
    }
}
