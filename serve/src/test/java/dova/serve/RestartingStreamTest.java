package dova.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dova.serve.stream.RestartingStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** A failing stage restarts the stream with back-off, is reported, and health turns false only after a long outage. */
class RestartingStreamTest {
    static final class FakeRun implements RestartingStream.Run {
        final CompletableFuture<Object> done = new CompletableFuture<>();

        @Override
        public CompletionStage<?> completion() {
            return done;
        }

        @Override
        public CompletionStage<?> stop() {
            done.complete("stopped");
            return done;
        }
    }

    private static void await(java.util.function.BooleanSupplier c) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 5000;
        while (!c.getAsBoolean() && System.currentTimeMillis() < deadline) {
            Thread.sleep(5);
        }
        assertTrue(c.getAsBoolean(), "condition not reached in 5 s");
    }

    @Test
    void failuresAreReportedAndTheStreamComesBack() throws Exception {
        List<FakeRun> runs = new ArrayList<>();
        List<Throwable> reported = new ArrayList<>();
        RestartingStream s = new RestartingStream(() -> {
            FakeRun r = new FakeRun();
            synchronized (runs) {
                runs.add(r);
            }
            return r;
        }, e -> {
            synchronized (reported) {
                reported.add(e);
            }
        }, Duration.ofMillis(10), Duration.ofMillis(40), Duration.ofSeconds(60), System::nanoTime);
        s.start();
        assertTrue(s.up());
        runs.get(0).done.completeExceptionally(new RuntimeException("RecordTooLargeException"));
        await(() -> runs.size() == 2 && s.up());
        runs.get(1).done.complete("source completed");
        await(() -> runs.size() == 3 && s.up());
        assertEquals(2, s.restarts());
        assertEquals("RecordTooLargeException", reported.get(0).getMessage());
        assertTrue(reported.get(1).getMessage().contains("completed although nothing stopped it"));
        s.stop().toCompletableFuture().get();
        Thread.sleep(60);
        assertEquals(3, runs.size(), "no restart after stop");
    }

    @Test
    void healthTurnsFalseOnlyWhenDownLongerThanTheThreshold() throws Exception {
        AtomicLong now = new AtomicLong(0);
        List<FakeRun> runs = new ArrayList<>();
        RestartingStream s = new RestartingStream(() -> {
            if (!runs.isEmpty()) {
                throw new IllegalStateException("broker unreachable");
            }
            FakeRun r = new FakeRun();
            runs.add(r);
            return r;
        }, e -> { }, Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofSeconds(30), now::get);
        s.start();
        runs.get(0).done.completeExceptionally(new RuntimeException("boom"));
        await(() -> s.restarts() >= 3); // the restarts keep failing to start
        assertFalse(s.up());
        now.set(Duration.ofSeconds(29).toNanos());
        assertTrue(s.healthy(), "down for 29 s of a 30 s threshold");
        now.set(Duration.ofSeconds(31).toNanos());
        assertFalse(s.healthy(), "down for 31 s");
        s.close();
    }
}
