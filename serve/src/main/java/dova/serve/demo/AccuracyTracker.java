package dova.serve.demo;

import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLongArray;

/** Accuracy of labelled results per phase of the demo (before drift, drifted on the old model, after a swap). */
final class AccuracyTracker {
    enum Phase {
        BEFORE_DRIFT("before the drift"), DRIFTED_ORIGINAL_MODEL("drifted, original model"),
        DRIFTED_NEW_MODEL("drifted, swapped-in model");

        final String words;

        Phase(String words) {
            this.words = words;
        }
    }

    private final Map<Phase, long[]> counts = new ConcurrentHashMap<>();
    private final AtomicLongArray recent = new AtomicLongArray(512);
    private final java.util.concurrent.atomic.AtomicLong seen = new java.util.concurrent.atomic.AtomicLong();

    void add(Phase phase, boolean correct) {
        long[] c = counts.computeIfAbsent(phase, p -> new long[2]);
        synchronized (c) {
            c[0] += correct ? 1 : 0;
            c[1]++;
        }
        long i = seen.getAndIncrement();
        recent.set((int) (i % recent.length()), correct ? 1 : 2);
    }

    /** Accuracy over the last 512 labelled results. */
    double recentAccuracy() {
        long ok = 0;
        long all = 0;
        for (int i = 0; i < recent.length(); i++) {
            long v = recent.get(i);
            if (v != 0) {
                all++;
                ok += v == 1 ? 1 : 0;
            }
        }
        return all == 0 ? Double.NaN : (double) ok / all;
    }

    double accuracy(Phase p) {
        long[] c = counts.get(p);
        return c == null || c[1] == 0 ? Double.NaN : (double) c[0] / c[1];
    }

    long count(Phase p) {
        long[] c = counts.get(p);
        return c == null ? 0 : c[1];
    }

    String summary() {
        StringBuilder sb = new StringBuilder();
        for (Phase p : Phase.values()) {
            sb.append(String.format(Locale.ROOT, "  %-28s %8d frames  accuracy %s%n", p.words,
                    count(p), Double.isNaN(accuracy(p)) ? "-" : String.format(Locale.ROOT, "%.2f%%", 100 * accuracy(p))));
        }
        return sb.toString();
    }
}
