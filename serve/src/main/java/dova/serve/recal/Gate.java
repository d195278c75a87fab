package dova.serve.recal;

import dova.sim.ProcessorConfig;
import dova.sim.exec.Executor;
import dova.sim.model.IntegerModel;
import java.util.List;
import java.util.Locale;

/**
 * The validation gate: runs the serving model and a candidate on the same holdout frames on a
 * simulated processor and decides. With labels, the candidate may not be less accurate than
 * the serving model by more than {@code maxRegression}; without, it may not overflow more.
 */
public final class Gate {
    /** A model on the holdout: accuracy over its labelled frames (NaN if none), overflow events, labelled frames. */
    public record Score(double accuracy, long overflowEvents, int labelled) {
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
        Executor e = Executor.fast(model, cfg);
        int correct = 0;
        int labelled = 0;
        for (RecentFrames.Sample s : samples) {
            int cls = e.run(s.pixels(), 0);
            if (s.labelled()) {
                labelled++;
                correct += cls == s.label() ? 1 : 0;
            }
        }
        return new Score(labelled == 0 ? Double.NaN : (double) correct / labelled, e.totalOverflowEvents(), labelled);
    }

    public Verdict judge(Score serving, Score candidate) {
        if (serving.labelled() > 0) {
            boolean ok = candidate.accuracy() >= serving.accuracy() - maxRegression;
            return new Verdict(ok, serving, candidate, ok ? "within the allowed regression" : String.format(Locale.ROOT,
                    "candidate regressed beyond %s (%.4f -> %.4f on %d labelled frames)", maxRegression, serving.accuracy(),
                    candidate.accuracy(), serving.labelled()));
        }
        boolean ok = candidate.overflowEvents() <= serving.overflowEvents();
        return new Verdict(ok, serving, candidate, ok ? "no labels; no more overflow events than the serving model"
                : "no labels, and the candidate overflows more (" + serving.overflowEvents() + " -> "
                        + candidate.overflowEvents() + " events)");
    }
}
