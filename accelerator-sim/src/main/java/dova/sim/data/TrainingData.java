package dova.sim.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Where a training command's labelled images come from: a named set under {@code data/}, your own
 * IDX image and label files for the two splits, or your own image folder with {@code train/} and
 * {@code test/} sub-folders (one sub-folder of PNG or JPEG files per class in each, the ImageFolder
 * convention). {@link #name} goes into the file names of checkpoints and models and into the model
 * file's record of what it was trained on.
 */
public final class TrainingData {
    @FunctionalInterface
    private interface Loader {
        LabelledImages load(DataSet.Split split) throws IOException;
    }

    private final String name;
    private final List<String> classNames;
    private final Loader loader;
    private final DataSet named;

    private TrainingData(String name, List<String> classNames, Loader loader, DataSet named) {
        this.name = name;
        this.classNames = List.copyOf(classNames);
        this.loader = loader;
        this.named = named;
    }

    /** A named set, read from {@code dataDir/<folder>/}. */
    public static TrainingData named(DataSet set, Path dataDir) {
        return new TrainingData(set.folder(), set.classNames(), split -> set.load(dataDir, split), set);
    }

    /**
     * Your own IDX pairs. Every file must exist (checked here, before any work); the classes are
     * named by their labels ("0", "1", ...), as many as the largest label of either split needs.
     *
     * @param name the set's name in file names; null: the folder that holds the training images
     */
    public static TrainingData idx(String name, Path trainImages, Path trainLabels, Path testImages, Path testLabels)
            throws IOException {
        for (Path p : List.of(trainImages, trainLabels, testImages, testLabels)) {
            if (!Files.isRegularFile(p)) {
                throw new java.nio.file.NoSuchFileException(p.toString(), null, "no such IDX file");
            }
        }
        String n = safeName(name != null ? name : folderName(trainImages.toAbsolutePath().getParent()));
        // the labels decide the class count: read the two label files now (small), the images when asked
        int classes = 0;
        for (Path labels : List.of(trainLabels, testLabels)) {
            IdxArray a = IdxReader.read(labels);
            for (byte b : a.data()) {
                classes = Math.max(classes, (b & 0xff) + 1);
            }
        }
        List<String> names = new ArrayList<>();
        for (int c = 0; c < classes; c++) {
            names.add(Integer.toString(c));
        }
        return new TrainingData(n, names, split -> split == DataSet.Split.TRAIN
                ? LabelledImages.load(n + "/train", trainImages, trainLabels)
                : LabelledImages.load(n + "/test", testImages, testLabels), null);
    }

    /**
     * Your own image folder: {@code root/train/<class>/...} and {@code root/test/<class>/...}, with
     * the same class sub-folders in both (sorted by name, they give the labels); images are resized
     * to {@code rows x cols} and read as grey.
     *
     * @param name the set's name in file names; null: the root folder's name
     */
    public static TrainingData folder(String name, Path root, int rows, int cols) throws IOException {
        Path train = root.resolve("train");
        Path test = root.resolve("test");
        if (!Files.isDirectory(train) || !Files.isDirectory(test)) {
            throw new IllegalArgumentException(root + ": an image folder for training needs train/ and test/ sub-folders,"
                    + " each with one sub-folder of images per class");
        }
        List<String> trainClasses = names(ImageFolder.classes(train));
        List<String> testClasses = names(ImageFolder.classes(test));
        if (!trainClasses.equals(testClasses)) {
            throw new IllegalArgumentException(root + ": train/ and test/ must have the same class sub-folders; train/ has "
                    + trainClasses + ", test/ has " + testClasses);
        }
        String n = safeName(name != null ? name : folderName(root.toAbsolutePath()));
        return new TrainingData(n, trainClasses, split -> ImageFolder.load(split == DataSet.Split.TRAIN ? train : test,
                rows, cols).images(), null);
    }

    private static List<String> names(List<Path> dirs) {
        return dirs.stream().map(p -> p.getFileName().toString()).toList();
    }

    private static String folderName(Path p) {
        return p == null || p.getFileName() == null ? "own" : p.getFileName().toString();
    }

    /** A name fit for file names: letters, digits, '.', '_' and '-' kept, anything else '-'. */
    static String safeName(String s) {
        String t = s.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9._-]", "-").replaceAll("^[.-]+", "");
        if (t.isEmpty()) {
            throw new IllegalArgumentException("data set name '" + s + "' has nothing usable in a file name");
        }
        return t;
    }

    public String name() {
        return name;
    }

    /** The class names in label order. */
    public List<String> classNames() {
        return classNames;
    }

    /** The named set this is, or null for your own data. */
    public DataSet named() {
        return named;
    }

    public LabelledImages load(DataSet.Split split) throws IOException {
        return loader.load(split);
    }

    @Override
    public String toString() {
        return named != null ? name : name + " (own data)";
    }
}
