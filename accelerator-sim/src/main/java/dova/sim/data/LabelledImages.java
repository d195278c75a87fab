package dova.sim.data;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A labelled image set: {@code count} grey-scale images of {@code rows x cols} unsigned
 * 8-bit pixels, stored image after image in row-major order, and one label per image.
 */
public record LabelledImages(String name, int count, int rows, int cols, byte[] pixels, byte[] labels) {
    public LabelledImages {
        if ((long) count * rows * cols != pixels.length) {
            throw new IllegalArgumentException(name + ": " + count + " images of " + rows + "x" + cols
                    + " need " + (long) count * rows * cols + " pixel bytes, got " + pixels.length);
        }
        if (labels.length != count) {
            throw new IllegalArgumentException(name + ": " + count + " images but " + labels.length + " labels");
        }
    }

    /** Loads an image file (3-D IDX) and its label file (1-D IDX), raw or gzipped. */
    public static LabelledImages load(String name, Path imageFile, Path labelFile) throws IOException {
        IdxArray images = IdxReader.read(imageFile);
        IdxArray labels = IdxReader.read(labelFile);
        int[] d = images.dims();
        if (d.length != 3) {
            throw new IdxFormatException(imageFile.toString(), "an image file must have 3 dimensions (count, rows, cols), has " + d.length);
        }
        if (labels.dims().length != 1) {
            throw new IdxFormatException(labelFile.toString(), "a label file must have 1 dimension, has " + labels.dims().length);
        }
        if (labels.count() != images.count()) {
            throw new IdxFormatException(labelFile.toString(), "label/image count mismatch: " + labels.count()
                    + " labels for " + images.count() + " images in " + imageFile);
        }
        return new LabelledImages(name, d[0], d[1], d[2], images.data(), labels.data());
    }

    public int pixelsPerImage() {
        return rows * cols;
    }

    /** Label of image {@code i}, in [0, 255]. */
    public int label(int i) {
        return labels[i] & 0xff;
    }

    /** Largest label + 1. */
    public int classes() {
        int max = 0;
        for (byte b : labels) {
            max = Math.max(max, b & 0xff);
        }
        return max + 1;
    }

    /** The first {@code n} images (or all, if fewer). */
    public LabelledImages head(int n) {
        int k = Math.min(n, count);
        byte[] p = java.util.Arrays.copyOf(pixels, k * pixelsPerImage());
        byte[] l = java.util.Arrays.copyOf(labels, k);
        return new LabelledImages(name, k, rows, cols, p, l);
    }
}
