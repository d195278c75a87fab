package dova.compress.train;

import java.io.PrintStream;
import java.util.Locale;

/** A one-line progress bar on a terminal stream: phase, epoch, step, loss, accuracy, rate and ETA. */
public final class Progress {
    private final PrintStream out;
    private final String phase;
    private final int total;
    private final long start = System.nanoTime();
    private long lastPrint;

    public Progress(PrintStream out, String phase, int total) {
        this.out = out;
        this.phase = phase;
        this.total = total;
    }

    public void update(int epoch, int epochs, int step, double loss, double accuracy) {
        long now = System.nanoTime();
        if (step < total && now - lastPrint < 250_000_000L) {
            return;
        }
        lastPrint = now;
        double seconds = (now - start) / 1e9;
        double eta = step == 0 ? 0 : seconds * (total - step) / step;
        int width = 24;
        int filled = (int) ((long) width * step / Math.max(1, total));
        out.printf(Locale.ROOT, "\r%s epoch %d/%d [%s%s] %d/%d loss %.4f acc %.2f%% %.0f steps/s ETA %d:%02d   ",
                phase, epoch, epochs, "=".repeat(filled), " ".repeat(width - filled), step, total, loss, 100 * accuracy,
                step / Math.max(seconds, 1e-9), (long) eta / 60, (long) eta % 60);
        if (step >= total) {
            out.println();
        }
        out.flush();
    }
}
