package dova.serve.cli;

import dova.sim.data.DataSet;
import dova.sim.data.LabelledImages;
import dova.sim.data.Scenes;
import dova.sim.plot.ScenesSheet;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Multi-object scenes for detection and segmentation, built from a named set's split (Scenes). */
@Command(name = "scenes", mixinStandardHelpOptions = true,
        description = "Build multi-object scenes (1-5 objects from --data's --split on a grey canvas, boxes and per-pixel"
                + " masks as ground truth) and draw a sheet of samples. Same seed, same bytes: the SHA-256 printed names them.")
public final class ScenesCommand implements Callable<Integer> {
    @Mixin
    DataOptions data = new DataOptions();

    @Option(names = "--split", defaultValue = "test", description = "train or test: the source images (default: ${DEFAULT-VALUE})")
    String split;

    @Option(names = "--count", defaultValue = "2000", description = "scenes, 1 to 1000000 (default: ${DEFAULT-VALUE})")
    int count;

    @Option(names = "--size", defaultValue = "96", description = "canvas side in pixels, 56 to 1024 (default: ${DEFAULT-VALUE})")
    int size;

    @Option(names = "--seed", defaultValue = "1", description = "seed (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--sheet", description = "write a PNG sheet of the first --sheet-count scenes with boxes and masks")
    Path sheet;

    @Option(names = "--sheet-count", defaultValue = "12", description = "scenes on the sheet, 1 to 64 (default: ${DEFAULT-VALUE})")
    int sheetCount;

    @Override
    public Integer call() throws Exception {
        Options.range("--count", count, 1, Scenes.MAX_SCENES);
        Options.range("--size", size, 56, Scenes.MAX_SIZE);
        Options.range("--sheet-count", sheetCount, 1, 64);
        DataSet.Split s = switch (split.toLowerCase(Locale.ROOT)) {
            case "train" -> DataSet.Split.TRAIN;
            case "test" -> DataSet.Split.TEST;
            default -> throw new IllegalArgumentException("--split must be train or test, got '" + split + "'");
        };
        Options.output("--sheet", sheet);
        DataSet set = DataSet.parse(data.data);
        LabelledImages source = data.load(s);
        Scenes.SceneSet scenes = Scenes.generate(source, count, size, seed);
        long objects = scenes.boxes().stream().mapToLong(java.util.List::size).sum();
        MessageDigest d = MessageDigest.getInstance("SHA-256");
        d.update(scenes.pixels());
        d.update(scenes.masks());
        System.out.printf(Locale.ROOT, "%d scenes of %dx%d from %s %s (seed %d): %d objects, %.2f per scene; pixels and"
                        + " masks SHA-256 %s%n", count, size, size, set.folder(), s.name().toLowerCase(Locale.ROOT), seed, objects,
                (double) objects / count, java.util.HexFormat.of().formatHex(d.digest()));
        if (sheet != null) {
            ScenesSheet.write(sheet, String.format(Locale.ROOT, "%s %s scenes (seed %d, %dx%d)", set.folder(),
                    s.name().toLowerCase(Locale.ROOT), seed, size, size), scenes, set.classNames(), sheetCount, 4, 2);
            System.out.println("sheet: " + sheet);
        }
        return 0;
    }
}
