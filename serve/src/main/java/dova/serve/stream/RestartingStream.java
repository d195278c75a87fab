package dova.serve.stream;

import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Keeps a stream running: when a run ends without being asked to (a stage failed, the source
 * completed), the cause is reported and a new run starts after a back-off that doubles from
 * {@code minBackoff} to {@code maxBackoff} and resets once a run has lasted {@code maxBackoff}.
 * With at-least-once commits a new run resumes from the last committed offsets, so nothing is
 * lost. {@link #healthy()} turns false when no run has been up for longer than {@code unhealthyAfter},
 * so that an orchestrator restarts the process.
 */
public final class RestartingStream implements AutoCloseable {
    /** One run of the stream. */
    public interface Run {
        /** Completes when the run ends, exceptionally when it failed. */
        CompletionStage<?> completion();

        /** Stops the run, letting work in flight finish; completes when it has. */
        CompletionStage<?> stop();
    }

    private final Supplier<Run> start;
    private final Consumer<Throwable> onFailure;
    private final Duration minBackoff;
    private final Duration maxBackoff;
    private final Duration unhealthyAfter;
    private final LongSupplier clockNanos;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "stream-restart");
        t.setDaemon(true);
        return t;
    });
    private Run current;
    private boolean stopping;
    private long backoffNanos;
    /** When the stream went down, or -1 while a run is up. */
    private long downSinceNanos = -1;
    private long restarts;

    public RestartingStream(Supplier<Run> start, Consumer<Throwable> onFailure, Duration minBackoff, Duration maxBackoff,
                            Duration unhealthyAfter, LongSupplier clockNanos) {
        if (minBackoff.isNegative() || minBackoff.isZero() || maxBackoff.compareTo(minBackoff) < 0) {
            throw new IllegalArgumentException("back-off must satisfy 0 < min <= max, got " + minBackoff + ", " + maxBackoff);
        }
        this.start = start;
        this.onFailure = onFailure;
        this.minBackoff = minBackoff;
        this.maxBackoff = maxBackoff;
        this.unhealthyAfter = unhealthyAfter;
        this.clockNanos = clockNanos;
        this.backoffNanos = minBackoff.toNanos();
    }

    /** Starts the first run (its failure to start propagates). */
    public synchronized void start() {
        launch(start.get());
    }

    private synchronized void launch(Run run) {
        current = run;
        downSinceNanos = -1;
        long startedAt = clockNanos.getAsLong();
        run.completion().whenComplete((ok, err) -> ended(run, startedAt, err));
    }

    private void ended(Run run, long startedAt, Throwable err) {
        synchronized (this) {
            if (stopping || run != current) {
                return;
            }
            downSinceNanos = clockNanos.getAsLong();
            if (downSinceNanos - startedAt >= maxBackoff.toNanos()) {
                backoffNanos = minBackoff.toNanos(); // it had been up a while: start again quickly
            }
        }
        failed(err != null ? err : new IllegalStateException("the stream completed although nothing stopped it"));
    }

    /** Counts and reports a failure, then schedules the next start after the current back-off (which doubles). */
    private void failed(Throwable cause) {
        long delay;
        synchronized (this) {
            restarts++;
            delay = backoffNanos;
            backoffNanos = Math.min(maxBackoff.toNanos(), 2 * backoffNanos);
        }
        onFailure.accept(cause);
        timer.schedule(this::restart, delay, TimeUnit.NANOSECONDS);
    }

    private void restart() {
        synchronized (this) {
            if (stopping) {
                return;
            }
        }
        try {
            launch(start.get());
        } catch (RuntimeException e) {
            failed(e);
        }
    }

    /** True while a run is up, or the stream has been down for at most {@code unhealthyAfter}. */
    public synchronized boolean healthy() {
        return downSinceNanos < 0 || clockNanos.getAsLong() - downSinceNanos <= unhealthyAfter.toNanos();
    }

    /** True while a run is up. */
    public synchronized boolean up() {
        return current != null && downSinceNanos < 0;
    }

    /** Runs that ended unasked, and restarts that failed to start. */
    public synchronized long restarts() {
        return restarts;
    }

    /** Stops restarting and stops the current run; completes when it has stopped. */
    public CompletionStage<?> stop() {
        Run run;
        synchronized (this) {
            stopping = true;
            run = downSinceNanos < 0 ? current : null; // a run that already ended has nothing to drain
        }
        timer.shutdownNow();
        return run == null ? java.util.concurrent.CompletableFuture.completedFuture(null) : run.stop();
    }

    @Override
    public void close() {
        stop().toCompletableFuture().join();
    }
}
