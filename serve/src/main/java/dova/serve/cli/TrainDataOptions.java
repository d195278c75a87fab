package dova.serve.cli;

import dova.sim.data.DataSet;
import dova.sim.data.TrainingData;
import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The data options of the commands that train (train, compress, baseline): a named set (--data,
 * --data-dir), or your own images: IDX files for both splits (--train-images, --train-labels,
 * --test-images, --test-labels), or an image folder with train/ and test/ sub-folders
 * (--image-folder). Your own data replaces --data.
 */
public final class TrainDataOptions {
    @Mixin
    DataOptions named = new DataOptions();

    @Option(names = "--train-images", description = "your own IDX training images (3-D, count x rows x cols, raw or"
            + " gzipped); needs --train-labels, --test-images and --test-labels")
    Path trainImages;

    @Option(names = "--train-labels", description = "the IDX label file of --train-images")
    Path trainLabels;

    @Option(names = "--test-images", description = "your own IDX test images (same size as the training images)")
    Path testImages;

    @Option(names = "--test-labels", description = "the IDX label file of --test-images")
    Path testLabels;

    @Option(names = "--image-folder", description = "your own labelled images for training: a folder with train/ and"
            + " test/ sub-folders, each with one sub-folder of PNG or JPEG files per class (the same classes in both),"
            + " read as grey at --image-size")
    Path imageFolder;

    @Option(names = "--image-size", defaultValue = "28", description = "side of the square images that --image-folder"
            + " is resized to, 8 to 512 (default: ${DEFAULT-VALUE})")
    int imageSize;

    @Option(names = "--data-name", description = "name of your own data set in file names and in the model file"
            + " (default: the folder that holds it)")
    String dataName;

    /** The images to train and test on; every file and folder is checked here, before any work. */
    TrainingData data() throws IOException {
        boolean anyIdx = trainImages != null || trainLabels != null || testImages != null || testLabels != null;
        if (anyIdx && (trainImages == null || trainLabels == null || testImages == null || testLabels == null)) {
            throw new IllegalArgumentException("--train-images, --train-labels, --test-images and --test-labels go"
                    + " together: give all four IDX files");
        }
        if (anyIdx && imageFolder != null) {
            throw new IllegalArgumentException("give the four IDX files or --image-folder, not both");
        }
        if (dataName != null && !anyIdx && imageFolder == null) {
            throw new IllegalArgumentException("--data-name names your own data: give it with --image-folder or the IDX"
                    + " files (the named sets keep their names)");
        }
        if (anyIdx) {
            return TrainingData.idx(dataName, trainImages, trainLabels, testImages, testLabels);
        }
        if (imageFolder != null) {
            Options.range("--image-size", imageSize, 8, 512);
            return TrainingData.folder(dataName, imageFolder, imageSize, imageSize);
        }
        return TrainingData.named(DataSet.parse(named.data), named.dataDir);
    }
}
