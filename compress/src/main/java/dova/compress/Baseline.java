package dova.compress;

import dova.compress.net.Architecture;
import dova.compress.net.Checkpoint;
import dova.compress.net.QuantNet;
import dova.compress.train.EpochStats;
import dova.compress.train.Recipe;
import dova.compress.train.TrainingLoop;
import dova.sim.data.DataSet;
import dova.sim.data.LabelledImages;
import dova.sim.data.TrainingData;
import dova.sim.plot.LinePlot;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A converged FP32 baseline: trains a network by a {@link Recipe}, measuring the full test set
 * after every epoch, and keeps a checkpoint and a history file that a later run resumes from.
 * The files in {@code outDir}, named {@code <architecture>-<data>-fp32}:
 * {@code .ckpt} (the last finished epoch), {@code -history.csv} (one row per epoch, headed by
 * the recipe) and {@code -curves.png}.
 */
public final class Baseline {
    private static final String HEADER = "epoch,loss,train_accuracy,test_accuracy,learning_rate_end,seconds";

    /**
     * @param resume continue from the checkpoint in {@code outDir} if there is one (its recipe
     *     must be this one); without it an existing checkpoint is an error, never overwritten
     * @param trainLimit use only the first N training images (0: all)
     */
    public record Options(Architecture architecture, TrainingData data, Path outDir, Recipe recipe, long seed,
                          boolean resume, int trainLimit) {
        public Options {
            if (trainLimit < 0) {
                throw new IllegalArgumentException("--train-limit must be >= 0, got " + trainLimit);
            }
        }

        public String name() {
            return architecture.id() + "-" + data.name() + "-fp32";
        }
    }

    /** One finished epoch as recorded in the history file. */
    public record Row(int epoch, double loss, double trainAccuracy, double testAccuracy, double learningRate, double seconds) {
        String csv() {
            return String.format(Locale.ROOT, "%d,%.6f,%.6f,%.6f,%.8f,%.1f", epoch, loss, trainAccuracy, testAccuracy,
                    learningRate, seconds);
        }

        static Row parse(String line, Path file) {
            String[] f = line.split(",");
            try {
                if (f.length != 6) {
                    throw new NumberFormatException(f.length + " fields, not 6");
                }
                return new Row(Integer.parseInt(f[0]), Double.parseDouble(f[1]), Double.parseDouble(f[2]),
                        Double.parseDouble(f[3]), Double.parseDouble(f[4]), Double.parseDouble(f[5]));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(file + ": bad history row '" + line + "' (" + e.getMessage() + ")");
            }
        }
    }

    /** The outcome: every epoch's row (resumed ones included), the checkpoint and the plot. */
    public record Result(List<Row> history, Path checkpoint, Path curves) {
        public double finalTestAccuracy() {
            return history.isEmpty() ? Double.NaN : history.get(history.size() - 1).testAccuracy();
        }
    }

    private Baseline() {
    }

    public static Path checkpoint(Options o) {
        return o.outDir().resolve(o.name() + ".ckpt");
    }

    public static Result run(Options o, PrintStream log) throws IOException {
        LabelledImages train = o.data().load(DataSet.Split.TRAIN);
        LabelledImages test = o.data().load(DataSet.Split.TEST);
        if (o.trainLimit() > 0) {
            train = train.head(o.trainLimit());
        }
        Files.createDirectories(o.outDir());
        Path ckpt = checkpoint(o);
        Path historyFile = o.outDir().resolve(o.name() + "-history.csv");
        Path png = o.outDir().resolve(o.name() + "-curves.png");
        String recipeLine = "# recipe: " + o.recipe().describe() + "; seed " + o.seed()
                + (o.trainLimit() > 0 ? "; first " + o.trainLimit() + " training images" : "");
        int classes = Math.max(train.classes(), test.classes());
        QuantNet net = new QuantNet(o.architecture(), o.architecture().ops(classes, 1), classes, 1, train.rows(), train.cols());
        TrainingLoop loop = TrainingLoop.create(net, o.seed());
        try {
            List<Row> history = new ArrayList<>();
            int done = 0;
            if (Files.exists(ckpt)) {
                if (!o.resume()) {
                    throw new IllegalArgumentException(ckpt + " exists: pass --resume to continue it, or choose another --out");
                }
                history.addAll(readHistory(historyFile, recipeLine));
                done = Checkpoint.load(net, ckpt);
                int d = done;
                history.removeIf(r -> r.epoch() > d);
                if (history.size() != done) {
                    throw new IllegalArgumentException(historyFile + " has " + history.size() + " rows for the " + done
                            + " epochs of " + ckpt + ": the two files do not belong together");
                }
                log.printf("resuming %s after epoch %d of %d%n", ckpt, done, o.recipe().epochs());
            }
            log.println("recipe: " + o.recipe().describe());
            int stepsPerEpoch = train.count() / o.recipe().batchSize();
            if (done < o.recipe().epochs()) {
                loop.fit("fp32", train, o.recipe(), o.seed(), done + 1, log, (epoch, stats) -> {
                    double acc = TrainingLoop.accuracy(loop.predict(test, 250), test);
                    Row row = new Row(epoch, stats.loss(), stats.trainAccuracy(), acc,
                            o.recipe().rateAt((long) epoch * stepsPerEpoch - 1, stepsPerEpoch), stats.seconds());
                    history.add(Row.parse(row.csv(), historyFile)); // as a resumed run will read it
                    log.printf(Locale.ROOT, "fp32 epoch %d: test accuracy %.2f%%%n", epoch, 100 * acc);
                    try {
                        Checkpoint.save(net, epoch, ckpt);
                        writeHistory(historyFile, recipeLine, history);
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException("cannot write " + ckpt + " or " + historyFile, e);
                    }
                }, null);
            }
            plot(history, o, png);
            log.printf(Locale.ROOT, "FP32 test accuracy after %d epochs: %.2f%%; checkpoint %s, curves %s%n", history.size(),
                    100 * (history.isEmpty() ? Double.NaN : history.get(history.size() - 1).testAccuracy()), ckpt, png);
            return new Result(List.copyOf(history), ckpt, png);
        } finally {
            loop.model().close();
        }
    }

    static List<Row> readHistory(Path file, String recipeLine) throws IOException {
        if (!Files.exists(file)) {
            throw new IllegalArgumentException(file + " is missing: the checkpoint beside it cannot be resumed without its history");
        }
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        if (lines.size() < 2 || !lines.get(0).equals(recipeLine) || !lines.get(1).equals(HEADER)) {
            throw new IllegalArgumentException(file + " was written by another recipe ("
                    + (lines.isEmpty() ? "empty" : lines.get(0)) + "), not '" + recipeLine
                    + "': resume with the same options or choose another --out");
        }
        List<Row> rows = new ArrayList<>();
        for (String line : lines.subList(2, lines.size())) {
            if (!line.isBlank()) {
                rows.add(Row.parse(line, file));
            }
        }
        return rows;
    }

    static void writeHistory(Path file, String recipeLine, List<Row> rows) throws IOException {
        StringBuilder sb = new StringBuilder(recipeLine).append('\n').append(HEADER).append('\n');
        for (Row r : rows) {
            sb.append(r.csv()).append('\n');
        }
        Path tmp = file.resolveSibling(file.getFileName() + ".part");
        Files.writeString(tmp, sb, StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static void plot(List<Row> history, Options o, Path png) throws IOException {
        int n = history.size();
        double[] x = new double[n];
        double[] trainErr = new double[n];
        double[] testErr = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = history.get(i).epoch();
            trainErr[i] = 100 * (1 - history.get(i).trainAccuracy());
            testErr[i] = 100 * (1 - history.get(i).testAccuracy());
        }
        new LinePlot(o.name() + ": FP32 error per epoch", "epoch", "error %").subtitle(o.recipe().describe())
                .add("train error % (augmented images)", x, trainErr).add("test error % (full test set)", x, testErr).write(png);
    }
}
