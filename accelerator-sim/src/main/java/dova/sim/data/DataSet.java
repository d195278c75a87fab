package dova.sim.data;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** The data sets that {@code scripts/fetch-data.sh} places under {@code data/}. */
public enum DataSet {
    MNIST("mnist", java.util.List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9")),
    FASHION_MNIST("fashion-mnist", java.util.List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
            "Shirt", "Sneaker", "Bag", "Ankle boot"));

    /** The two standard splits. */
    public enum Split { TRAIN, TEST }

    private final String folder;
    private final java.util.List<String> classNames;

    DataSet(String folder, java.util.List<String> classNames) {
        this.folder = folder;
        this.classNames = classNames;
    }

    /** The names of the set's classes, in label order. */
    public java.util.List<String> classNames() {
        return classNames;
    }

    public String folder() {
        return folder;
    }

    /** Parses "mnist" / "fashion-mnist" (case-insensitive); the error lists the valid names. */
    public static DataSet parse(String name) {
        for (DataSet d : values()) {
            if (d.folder.equalsIgnoreCase(name) || d.name().equalsIgnoreCase(name)) {
                return d;
            }
        }
        throw new IllegalArgumentException("unknown data set '" + name + "'; known: "
                + Arrays.stream(values()).map(DataSet::folder).collect(Collectors.joining(", ")));
    }

    /** Loads a split from {@code dataDir/<folder>/}. */
    public LabelledImages load(Path dataDir, Split split) throws IOException {
        String prefix = split == Split.TRAIN ? "train" : "t10k";
        Path dir = dataDir.resolve(folder);
        return LabelledImages.load(folder + "/" + split.name().toLowerCase(Locale.ROOT),
                dir.resolve(prefix + "-images-idx3-ubyte"), dir.resolve(prefix + "-labels-idx1-ubyte"));
    }
}
