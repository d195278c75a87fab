package dova.compress.train;

import java.io.PrintStream;
import java.util.Locale;

/**
 * Training progress: phase, epoch, step, loss, accuracy, rate and ETA. On a terminal a one-line
 * bar redrawn in place; otherwise (a log file, a pipe) a plain line every 15 seconds and at the
 * end of each epoch, never a carriage return.
 */
public final class Progress {
    private final PrintStream out;
    private final String phase;
    private final int total;
    private final long start = System.nanoTime();
    private final boolean terminal;
    private long lastPrint;

    public Progress(PrintStream out, String phase, int total) {
        this(out, phase, total, out == System.err && System.console() != null);
    }

    Progress(PrintStream out, String phase, int total, boolean terminal) {
        this.out = out;
        this.phase = phase;
        this.total = total;
        this.terminal = terminal;
        this.lastPrint = terminal ? 0 : System.nanoTime();
    }

    public void update(int epoch, int epochs, int step, double loss, double accuracy) {
        long now = System.nanoTime();
        if (step < total && now - lastPrint < (terminal ? 250_000_000L : 15_000_000_000L)) {
            return;
        }
        lastPrint = now;
        double seconds = (now - start) / 1e9;
        double eta = step == 0 ? 0 : seconds * (total - step) / step;
        int width = 24;
        int filled = (int) ((long) width * step / Math.max(1, total));
        String line = String.format(Locale.ROOT, "%s epoch %d/%d [%s%s] %d/%d loss %.4f acc %.2f%% %.0f steps/s ETA %d:%02d",
                phase, epoch, epochs, "=".repeat(filled), " ".repeat(width - filled), step, total, loss, 100 * accuracy,
                step / Math.max(seconds, 1e-9), (long) eta / 60, (long) eta % 60);
        if (terminal) {
            out.print("\r" + line + "   ");
            if (step >= total) {
                out.println();
            }
        } else {
            out.println(line);
        }
        out.flush();
    }
}
