package dova.serve.cli;

import dova.sim.data.DataSet;
import dova.sim.data.LabelledImages;
import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The data-set options shared by the commands that read labelled images. */
public final class DataOptions {
    @Option(names = "--data", defaultValue = "mnist", description = "mnist or fashion-mnist (default: ${DEFAULT-VALUE})")
    String data;

    @Option(names = "--data-dir", defaultValue = "data", description = "data folder (default: ${DEFAULT-VALUE})")
    Path dataDir;

    /** The named split, failing with a message that names the set or the file. */
    LabelledImages load(DataSet.Split split) throws IOException {
        return DataSet.parse(data).load(dataDir, split);
    }

    /** The test split, optionally only its first {@code limit} images (0: all). */
    LabelledImages test(int limit) throws IOException {
        LabelledImages t = load(DataSet.Split.TEST);
        return limit > 0 ? t.head(limit) : t;
    }
}
