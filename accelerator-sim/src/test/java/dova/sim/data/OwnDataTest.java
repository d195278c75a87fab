package dova.sim.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.CRC32;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OwnDataTest {
    /** 10 classes, 100 + 10 * c images of class c, each image's pixels = its index (mod 256). */
    static LabelledImages unbalanced() {
        int n = 0;
        for (int c = 0; c < 10; c++) {
            n += 100 + 10 * c;
        }
        byte[] px = new byte[n * 4];
        byte[] lab = new byte[n];
        int i = 0;
        for (int c = 0; c < 10; c++) {
            for (int k = 0; k < 100 + 10 * c; k++, i++) {
                lab[i] = (byte) c;
                java.util.Arrays.fill(px, i * 4, i * 4 + 4, (byte) i);
            }
        }
        return new LabelledImages("set", n, 2, 2, px, lab);
    }

    @Test
    void aStratifiedSampleKeepsEachClassShareAndIsReproducible() {
        LabelledImages set = unbalanced(); // 1,450 images
        LabelledImages s = set.stratifiedSample(145, 7);
        assertEquals(145, s.count());
        int[] perClass = new int[10];
        for (int i = 0; i < s.count(); i++) {
            perClass[s.label(i)]++;
        }
        for (int c = 0; c < 10; c++) {
            assertEquals(10 + c, perClass[c], "class " + c + " keeps its tenth"); // exact: 145/1450 of 100+10c
        }
        assertArrayEquals(s.pixels(), set.stratifiedSample(145, 7).pixels(), "same seed, same sample");
        assertNotEquals(java.util.Arrays.toString(s.pixels()), java.util.Arrays.toString(set.stratifiedSample(145, 8).pixels()));
        // labels stay sorted as in the set: the sample keeps its order
        for (int i = 1; i < s.count(); i++) {
            assertTrue(s.label(i) >= s.label(i - 1));
        }
        // a sample that does not divide evenly still has exactly n images, every class represented
        LabelledImages odd = set.stratifiedSample(13, 1);
        assertEquals(13, odd.count());
        assertEquals(10, odd.classes());
        assertEquals(set, set.stratifiedSample(5000, 1));
        assertThrows(IllegalArgumentException.class, () -> set.stratifiedSample(0, 1));
    }

    private static void png(Path file, int w, int h, int grey) throws Exception {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(x, y, (grey << 16) | (grey << 8) | grey);
            }
        }
        Files.createDirectories(file.getParent());
        ImageIO.write(img, file.toString().endsWith(".png") ? "png" : "jpeg", file.toFile());
    }

    @Test
    void anImageFolderGivesOneLabelPerSubFolderSortedByName(@TempDir Path dir) throws Exception {
        png(dir.resolve("cat/a.png"), 56, 56, 200);
        png(dir.resolve("cat/b.PNG"), 10, 20, 100);
        png(dir.resolve("ant/x.jpg"), 28, 28, 50);
        Files.writeString(dir.resolve("ant/readme.txt"), "not an image");
        Files.createDirectories(dir.resolve(".hidden"));
        ImageFolder.Loaded l = ImageFolder.load(dir, 28, 28);
        assertEquals(List.of("ant", "cat"), l.classNames());
        LabelledImages set = l.images();
        assertEquals(3, set.count());
        assertEquals(0, set.label(0));
        assertEquals(1, set.label(1));
        assertEquals(28, set.rows());
        // a uniform grey image stays that grey whatever its size (JPEG within its rounding)
        assertTrue(Math.abs((set.pixels()[0] & 0xff) - 50) <= 2, "ant: " + (set.pixels()[0] & 0xff));
        assertEquals(200, set.pixels()[28 * 28 + 400] & 0xff);
        assertEquals(100, set.pixels()[2 * 28 * 28 + 5] & 0xff);
    }

    @Test
    void aFolderWithoutClassesOrImagesIsNamed(@TempDir Path dir) throws Exception {
        String m = assertThrows(java.io.IOException.class, () -> ImageFolder.load(dir, 28, 28)).getMessage();
        assertTrue(m.contains("no class sub-folders"), m);
        Files.createDirectories(dir.resolve("a"));
        m = assertThrows(java.io.IOException.class, () -> ImageFolder.load(dir, 28, 28)).getMessage();
        assertTrue(m.contains("no PNG or JPEG files"), m);
        Files.writeString(dir.resolve("a/broken.png"), "not a png at all");
        m = assertThrows(java.io.IOException.class, () -> ImageFolder.load(dir, 28, 28)).getMessage();
        assertTrue(m.contains("broken.png"), m);
    }

    /** A 100-byte PNG whose header claims 100,000 x 100,000 pixels is refused from its header, before decoding. */
    @Test
    void aDecompressionBombIsRefusedBeforeAnyPixelIsAllocated(@TempDir Path dir) throws Exception {
        Path small = dir.resolve("a/small.png");
        png(small, 4, 4, 10);
        byte[] b = Files.readAllBytes(small);
        // IHDR follows the 8-byte signature: length (4), "IHDR" (4), width (4), height (4), ..., CRC over type+data
        ByteBuffer bb = ByteBuffer.wrap(b);
        bb.putInt(16, 100_000).putInt(20, 100_000);
        CRC32 crc = new CRC32();
        crc.update(b, 12, 4 + 13);
        bb.putInt(12 + 4 + 13, (int) crc.getValue());
        Files.write(dir.resolve("a/bomb.png"), b);
        Files.delete(small);
        long before = Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory();
        String m = assertThrows(java.io.IOException.class, () -> ImageFolder.load(dir, 28, 28)).getMessage();
        assertTrue(m.contains("bomb.png") && m.contains("100000x100000"), m);
        long after = Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory();
        assertTrue(after - before < 1L << 30, "nothing near 10 G pixels was allocated");
    }
}
