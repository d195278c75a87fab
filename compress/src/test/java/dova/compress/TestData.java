package dova.compress;

import static org.junit.jupiter.api.Assertions.fail;

import dova.sim.data.DataSet;
import dova.sim.data.LabelledImages;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The real data sets under data/ (scripts/fetch-data.sh puts them there; scripts/test.sh runs it first). */
public final class TestData {
    private TestData() {
    }

    public static Path dir() {
        return Path.of(System.getProperty("test.data.dir", "data"));
    }

    public static LabelledImages load(DataSet set, DataSet.Split split, int n) {
        Path d = dir();
        if (!Files.isDirectory(d.resolve(set.folder()))) {
            fail("data set " + set.folder() + " missing under " + d.toAbsolutePath() + ": run scripts/fetch-data.sh");
        }
        try {
            return set.load(d, split).head(n);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
