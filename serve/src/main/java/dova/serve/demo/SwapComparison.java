package dova.serve.demo;

import dova.serve.recal.Recalibrator;
import dova.sim.ProcessorConfig;
import dova.sim.data.LabelledImages;
import dova.sim.exec.Executor;
import dova.sim.model.IntegerModel;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The question the demo answers on an unlabelled drifted stream: is the model swapped in as good
 * as the FP32 teacher it was distilled from, and better than recalibration alone? The drifted
 * frames each new version answered are kept (with the labels the service never saw, at most
 * {@link #MAX_FRAMES} per version), and at the end the swapped-in model, the rescaling planner's
 * model of the same attempt (recalibration alone) and the FP32 teacher are measured on exactly
 * those frames: the two integer models on accelerator-sim with the serving processor's
 * configuration, the teacher by DJL.
 */
final class SwapComparison {
    static final int MAX_FRAMES = 5000;

    /** Frames of one version: pixels back to back, and their withheld labels. */
    private static final class Kept {
        final List<byte[]> pixels = new ArrayList<>();
        final List<Integer> labels = new ArrayList<>();
    }

    private final Map<Integer, Kept> byVersion = new ConcurrentHashMap<>();

    /** Keeps a drifted frame that {@code version} answered (beyond the first version), up to the cap. */
    void add(int version, byte[] pixels, int label) {
        Kept k = byVersion.computeIfAbsent(version, v -> new Kept());
        synchronized (k) {
            if (k.labels.size() < MAX_FRAMES) {
                k.pixels.add(pixels.clone());
                k.labels.add(label);
            }
        }
    }

    /** Drifted frames kept for {@code version}. */
    int frames(int version) {
        Kept k = byVersion.get(version);
        if (k == null) {
            return 0;
        }
        synchronized (k) {
            return k.labels.size();
        }
    }

    /** The three accuracies, as measured; NaN where one could not be. */
    record Figures(int frames, double original, double swappedIn, double recalibrationAlone, double teacher) {
        boolean withinTeacher() {
            return swappedIn >= teacher - 0.01;
        }

        boolean aboveRecalibration() {
            return swappedIn > recalibrationAlone;
        }
    }

    /**
     * Measures {@code outcome}'s model (the accepted one, {@code swappedIn}) against the model it
     * replaced ({@code original}), its attempt's recalibrated model and the teacher on the frames
     * that version answered; null when it answered none.
     */
    Figures measure(Recalibrator.Outcome outcome, IntegerModel original, IntegerModel swappedIn, ProcessorConfig processor,
                    Path teacher, LabelledImages like) throws IOException {
        Kept k = byVersion.get(outcome.toVersion());
        if (k == null) {
            return null;
        }
        LabelledImages frames;
        synchronized (k) {
            if (k.labels.isEmpty()) {
                return null;
            }
            int size = like.pixelsPerImage();
            byte[] px = new byte[k.labels.size() * size];
            byte[] labels = new byte[k.labels.size()];
            for (int i = 0; i < labels.length; i++) {
                System.arraycopy(k.pixels.get(i), 0, px, i * size, size);
                labels[i] = (byte) (int) k.labels.get(i);
            }
            frames = new LabelledImages("drifted frames v" + outcome.toVersion() + " answered", labels.length, like.rows(),
                    like.cols(), px, labels);
        }
        double recalibrated = outcome.recalibrated() == null ? Double.NaN : accuracy(outcome.recalibrated(), processor, frames);
        double fp32 = teacher == null ? Double.NaN
                : dova.compress.CheckpointEval.run(teacher, frames, Math.max(10, like.classes())).accuracy();
        return new Figures(frames.count(), accuracy(original, processor, frames), accuracy(swappedIn, processor, frames),
                recalibrated, fp32);
    }

    private static double accuracy(IntegerModel model, ProcessorConfig processor, LabelledImages frames) {
        Executor e = Executor.fast(model, processor);
        int size = frames.pixelsPerImage();
        int right = 0;
        for (int i = 0; i < frames.count(); i++) {
            right += e.run(frames.pixels(), i * size) == frames.label(i) ? 1 : 0;
        }
        return (double) right / frames.count();
    }

    /** The summary's lines for {@code f}. */
    static void print(PrintStream out, Recalibrator.Outcome o, Figures f, ProcessorConfig processor, Path teacher) {
        out.printf(Locale.ROOT, "on the %d drifted frames v%d answered (labels withheld from the service; all three on"
                + " the same frames):%n", f.frames(), o.toVersion());
        out.printf(Locale.ROOT, "  %-44s %7s  (accelerator-sim, %s)%n", "v" + o.fromVersion() + ", the model it replaced",
                percent(f.original()), processor.label());
        out.printf(Locale.ROOT, "  %-44s %7s  (accelerator-sim, %s)%n", "v" + o.toVersion() + ", the swapped-in model (" + o.method() + ")",
                percent(f.swappedIn()), processor.label());
        out.printf(Locale.ROOT, "  %-44s %7s  (accelerator-sim, %s)%n", "recalibration alone (the planner's model)",
                percent(f.recalibrationAlone()), processor.label());
        out.printf(Locale.ROOT, "  %-44s %7s  (DJL)%n", "FP32 teacher (" + (teacher == null ? "none configured"
                : teacher.getFileName()) + ")", percent(f.teacher()));
        if (!Double.isNaN(f.teacher()) && !Double.isNaN(f.recalibrationAlone())) {
            out.printf(Locale.ROOT, "  at least the teacher minus 1 point (%s): %s; above recalibration alone: %s%n",
                    percent(f.teacher() - 0.01), f.withinTeacher() ? "yes" : "NO", f.aboveRecalibration() ? "yes" : "NO");
        }
    }

    private static String percent(double v) {
        return Double.isNaN(v) ? "  -   " : String.format(Locale.ROOT, "%.2f%%", 100 * v);
    }
}
