package dova.serve.cli;

import dova.sim.data.DataSet;
import dova.sim.data.ImageFolder;
import dova.sim.data.LabelledImages;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The data options of the commands that evaluate (simulate, eval, sweep): a named set (--data,
 * --data-dir), or your own images: an IDX image file and its label file (--images, --labels), or
 * an image folder with one sub-folder per class (--image-folder); optionally a stratified seeded
 * sample of them (--sample, --sample-seed).
 */
public final class EvalDataOptions {
    @Mixin
    DataOptions named = new DataOptions();

    @Option(names = "--images", description = "your own IDX image file (3-D, count x rows x cols, raw or gzipped);"
            + " needs --labels")
    Path images;

    @Option(names = "--labels", description = "the IDX label file of --images (1-D, one label per image)")
    Path labels;

    @Option(names = "--image-folder", description = "your own labelled images: a folder with one sub-folder of PNG or"
            + " JPEG files per class (sub-folders sorted by name give the labels), resized to the model's input and read"
            + " as grey; a test/ sub-folder, where there is one, is the test split")
    Path imageFolder;

    @Option(names = "--sample", description = "a stratified random sample of N images (each class keeps its share),"
            + " N >= 1 (default: all)")
    Integer sample;

    @Option(names = "--sample-seed", defaultValue = "1", description = "seed of --sample (default: ${DEFAULT-VALUE})")
    long sampleSeed;

    /** Labelled test images, where they came from, and their class names where known. */
    public record Data(LabelledImages images, String source, DataSet named, List<String> classNames) {
    }

    /** Checks the combination of options before any work. */
    void check() {
        if ((images == null) != (labels == null)) {
            throw new IllegalArgumentException("--images and --labels go together: give both files of the IDX pair");
        }
        if (images != null && imageFolder != null) {
            throw new IllegalArgumentException("give one of --images/--labels or --image-folder, not both");
        }
        if (sample != null) {
            Options.range("--sample", sample, 1, Integer.MAX_VALUE);
        }
    }

    boolean own() {
        return images != null || imageFolder != null;
    }

    /** The test images (a folder's at {@code rows x cols}), sampled if asked; the first {@code limit} only if {@code limit > 0}. */
    Data test(int limit, int rows, int cols) throws IOException {
        check();
        Data d;
        if (images != null) {
            LabelledImages set = LabelledImages.load(images.getFileName().toString(), images, labels);
            d = new Data(set, images + " / " + labels, null, List.of());
        } else if (imageFolder != null) {
            Path dir = Files.isDirectory(imageFolder.resolve("test")) ? imageFolder.resolve("test") : imageFolder;
            ImageFolder.Loaded l = ImageFolder.load(dir, rows, cols);
            d = new Data(l.images(), dir.toString(), null, l.classNames());
        } else {
            DataSet set = DataSet.parse(named.data);
            d = new Data(named.load(DataSet.Split.TEST), set.folder(), set, set.classNames());
        }
        LabelledImages t = d.images();
        if (sample != null) {
            t = t.stratifiedSample(sample, sampleSeed);
        }
        if (limit > 0) {
            t = t.head(limit);
        }
        return new Data(t, d.source(), d.named(), d.classNames());
    }
}
