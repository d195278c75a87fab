package dova.sim.data;

import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * Labelled images from a folder with one sub-folder per class (the ImageFolder convention): the
 * sub-folders, sorted by name, are the classes in label order; every PNG or JPEG file in one is an
 * image of that class. Images are converted to grey (luma) and resized (bilinear) to the size the
 * model takes. Sizes come from each file's header and are checked before any pixel is decoded, so
 * that a small file claiming a huge image (a decompression bomb) is refused, not allocated.
 */
public final class ImageFolder {
    /** Largest image accepted, in pixels (a 40-megapixel photograph). */
    public static final long MAX_PIXELS = 40_000_000L;
    /** At most this many images in one folder. */
    public static final int MAX_IMAGES = 1_000_000;
    /** Labels are bytes. */
    public static final int MAX_CLASSES = 256;

    /** The images and the class names (the sub-folders' names, in label order). */
    public record Loaded(LabelledImages images, List<String> classNames) {
    }

    private ImageFolder() {
    }

    /** The class sub-folders of {@code dir}, sorted by name; fails naming the folder when there are none. */
    static List<Path> classes(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new IOException(dir + ": not a folder (an image folder has one sub-folder of PNG or JPEG files per class)");
        }
        List<Path> classes;
        try (Stream<Path> s = Files.list(dir)) {
            classes = s.filter(Files::isDirectory).filter(p -> !p.getFileName().toString().startsWith("."))
                    .sorted().toList();
        }
        if (classes.isEmpty()) {
            throw new IOException(dir + ": no class sub-folders (an image folder has one sub-folder of PNG or JPEG files"
                    + " per class, named after the class)");
        }
        if (classes.size() > MAX_CLASSES) {
            throw new IOException(dir + ": " + classes.size() + " class sub-folders; at most " + MAX_CLASSES + " are supported");
        }
        return classes;
    }

    private static boolean isImage(Path p) {
        String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
        return Files.isRegularFile(p) && (n.endsWith(".png") || n.endsWith(".jpg") || n.endsWith(".jpeg"));
    }

    /** Loads every image under {@code dir}'s class sub-folders at {@code rows x cols}. */
    public static Loaded load(Path dir, int rows, int cols) throws IOException {
        if (rows < 1 || cols < 1 || (long) rows * cols > MAX_PIXELS) {
            throw new IllegalArgumentException("image size " + rows + "x" + cols + " out of range");
        }
        List<Path> classes = classes(dir);
        List<Path> files = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (int c = 0; c < classes.size(); c++) {
            names.add(classes.get(c).getFileName().toString());
            List<Path> images;
            try (Stream<Path> s = Files.list(classes.get(c))) {
                images = s.filter(ImageFolder::isImage).sorted().toList();
            }
            if (files.size() + images.size() > MAX_IMAGES) {
                throw new IOException(dir + ": more than " + MAX_IMAGES + " images");
            }
            for (Path p : images) {
                files.add(p);
                labels.add(c);
            }
        }
        if (files.isEmpty()) {
            throw new IOException(dir + ": no PNG or JPEG files in its class sub-folders " + names);
        }
        byte[] pixels = new byte[Math.multiplyExact(files.size(), rows * cols)];
        byte[] lab = new byte[files.size()];
        for (int i = 0; i < files.size(); i++) {
            grey(read(files.get(i)), rows, cols, pixels, i * rows * cols);
            lab[i] = (byte) (int) labels.get(i);
        }
        return new Loaded(new LabelledImages(dir.getFileName() + "", files.size(), rows, cols, pixels, lab), names);
    }

    /** Decodes one file after checking the size its header declares. */
    static BufferedImage read(Path file) throws IOException {
        try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            if (in == null) {
                throw new IOException(file + ": cannot be opened");
            }
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                throw new IOException(file + ": not a PNG or JPEG image");
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                long w = reader.getWidth(0);
                long h = reader.getHeight(0);
                if (w < 1 || h < 1 || w * h > MAX_PIXELS) {
                    throw new IOException(file + ": declares a " + w + "x" + h + " image; at most " + MAX_PIXELS
                            + " pixels are accepted");
                }
                return reader.read(0);
            } catch (IOException e) {
                throw e.getMessage() != null && e.getMessage().startsWith(file.toString()) ? e
                        : new IOException(file + ": " + e.getMessage(), e);
            } finally {
                reader.dispose();
            }
        }
    }

    /** Grey (ITU-R 601 luma), resized bilinearly to {@code rows x cols}, into {@code out} at {@code offset}. */
    static void grey(BufferedImage src, int rows, int cols, byte[] out, int offset) {
        BufferedImage g = new BufferedImage(cols, rows, BufferedImage.TYPE_BYTE_GRAY);
        Graphics2D gr = g.createGraphics();
        try {
            gr.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
            gr.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
            gr.drawImage(src, 0, 0, cols, rows, null);
        } finally {
            gr.dispose();
        }
        byte[] px = (byte[]) g.getRaster().getDataElements(0, 0, cols, rows, null);
        System.arraycopy(px, 0, out, offset, rows * cols);
    }
}
