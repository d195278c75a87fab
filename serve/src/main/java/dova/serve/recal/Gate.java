package dova.serve.recal;

import dova.sim.ProcessorConfig;
import dova.sim.exec.Executor;
import dova.sim.model.IntegerModel;
import java.util.List;
import java.util.Locale;

/**
 * The validation gate: runs the serving model and a candidate on the same holdout frames on a
 * simulated processor and decides. With labels, the candidate may not be less accurate than
 * the serving model by more than {@code maxRegression}. Without labels but with the FP32
 * teacher's predictions, it may not agree with the teacher's top-1 less than the serving model
 * by more than {@code maxRegression}, nor overflow more; with neither, it may not overflow more.
 */
public final class Gate {
    /**
     * A model on the holdout: accuracy over its labelled frames (NaN if none), overflow events,
     * labelled frames, and agreement with the teacher's top-1 (NaN without teacher predictions).
     */
    public record Score(double accuracy, long overflowEvents, int labelled, double agreement) {
        /** What the gate decides on: the accuracy with labels, else the teacher agreement (NaN if neither). */
        public double measure() {
            return labelled > 0 ? accuracy : agreement;
        }
    }

    /** The gate's decision and the scores it was made on. */
    public record Verdict(boolean accepted, Score serving, Score candidate, String reason) {
    }

    private final double maxRegression;

    public Gate(double maxRegression) {
        if (!(maxRegression >= 0) || Double.isInfinite(maxRegression)) {
            throw new IllegalArgumentException("gate: max regression must be >= 0 and finite, got " + maxRegression);
        }
        this.maxRegression = maxRegression;
    }

    public static Score score(IntegerModel model, ProcessorConfig cfg, List<RecentFrames.Sample> samples) {
        return score(model, cfg, samples, null);
    }

    /** @param teacher the teacher's top-1 per sample, or null */
    public static Score score(IntegerModel model, ProcessorConfig cfg, List<RecentFrames.Sample> samples, int[] teacher) {
        if (teacher != null && teacher.length != samples.size()) {
            throw new IllegalArgumentException("gate: " + teacher.length + " teacher predictions for " + samples.size() + " frames");
        }
        Executor e = Executor.fast(model, cfg);
        int correct = 0;
        int labelled = 0;
        int agree = 0;
        for (int i = 0; i < samples.size(); i++) {
            RecentFrames.Sample s = samples.get(i);
            int cls = e.run(s.pixels(), 0);
            if (s.labelled()) {
                labelled++;
                correct += cls == s.label() ? 1 : 0;
            }
            if (teacher != null) {
                agree += cls == teacher[i] ? 1 : 0;
            }
        }
        return new Score(labelled == 0 ? Double.NaN : (double) correct / labelled, e.totalOverflowEvents(), labelled,
                teacher == null || samples.isEmpty() ? Double.NaN : (double) agree / samples.size());
    }

    public Verdict judge(Score serving, Score candidate) {
        if (serving.labelled() > 0) {
            boolean ok = candidate.accuracy() >= serving.accuracy() - maxRegression;
            return new Verdict(ok, serving, candidate, ok ? "within the allowed regression" : String.format(Locale.ROOT,
                    "candidate regressed beyond %s (%.4f -> %.4f on %d labelled frames)", maxRegression, serving.accuracy(),
                    candidate.accuracy(), serving.labelled()));
        }
        if (!Double.isNaN(serving.agreement()) && !Double.isNaN(candidate.agreement())) {
            boolean agrees = candidate.agreement() >= serving.agreement() - maxRegression;
            boolean overflow = candidate.overflowEvents() <= serving.overflowEvents();
            return new Verdict(agrees && overflow, serving, candidate, agrees && overflow
                    ? "no labels; teacher agreement within the allowed regression, no more overflow events"
                    : !agrees ? String.format(Locale.ROOT, "no labels, and the candidate agrees with the FP32 teacher less"
                            + " than the serving model beyond %s (%.4f -> %.4f)", maxRegression, serving.agreement(),
                            candidate.agreement())
                    : "no labels, and the candidate overflows more (" + serving.overflowEvents() + " -> "
                            + candidate.overflowEvents() + " events)");
        }
        boolean ok = candidate.overflowEvents() <= serving.overflowEvents();
        return new Verdict(ok, serving, candidate, ok ? "no labels; no more overflow events than the serving model"
                : "no labels, and the candidate overflows more (" + serving.overflowEvents() + " -> "
                        + candidate.overflowEvents() + " events)");
    }
}
