package dova.sim.data;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

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

    /**
     * A stratified random sample of {@code n} images (all, if {@code n >= count}): each label keeps
     * its share of the set (largest remainders round), the images of a label are drawn without
     * replacement with {@code seed}, and the sample keeps the set's order. The same seed gives the
     * same sample.
     */
    public LabelledImages stratifiedSample(int n, long seed) {
        if (n < 1) {
            throw new IllegalArgumentException("a sample needs at least 1 image, got " + n);
        }
        if (n >= count) {
            return this;
        }
        int classes = classes();
        List<List<Integer>> byLabel = new java.util.ArrayList<>();
        for (int c = 0; c < classes; c++) {
            byLabel.add(new java.util.ArrayList<>());
        }
        for (int i = 0; i < count; i++) {
            byLabel.get(label(i)).add(i);
        }
        int[] take = new int[classes];
        double[] remainder = new double[classes];
        int given = 0;
        for (int c = 0; c < classes; c++) {
            double exact = (double) n * byLabel.get(c).size() / count;
            take[c] = (int) Math.floor(exact);
            remainder[c] = exact - take[c];
            given += take[c];
        }
        Integer[] order = new Integer[classes];
        for (int c = 0; c < classes; c++) {
            order[c] = c;
        }
        java.util.Arrays.sort(order, (a, b) -> remainder[a] != remainder[b] ? Double.compare(remainder[b], remainder[a])
                : Integer.compare(a, b));
        for (int k = 0; given < n; k = (k + 1) % classes) {
            int c = order[k];
            if (take[c] < byLabel.get(c).size()) {
                take[c]++;
                given++;
            }
        }
        java.util.Random rng = new java.util.Random(seed);
        List<Integer> chosen = new java.util.ArrayList<>(n);
        for (int c = 0; c < classes; c++) {
            List<Integer> idx = byLabel.get(c);
            java.util.Collections.shuffle(idx, rng);
            chosen.addAll(idx.subList(0, take[c]));
        }
        java.util.Collections.sort(chosen);
        int per = pixelsPerImage();
        byte[] p = new byte[n * per];
        byte[] l = new byte[n];
        for (int k = 0; k < n; k++) {
            int i = chosen.get(k);
            System.arraycopy(pixels, i * per, p, k * per, per);
            l[k] = labels[i];
        }
        return new LabelledImages(name + " (stratified sample of " + n + ", seed " + seed + ")", n, rows, cols, p, l);
    }
}
