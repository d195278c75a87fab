package dova.sim.eval;

import dova.sim.ProcessorConfig;
import dova.sim.cost.CostModel;
import dova.sim.exec.Executor;
import dova.sim.model.IntegerModel;
import dova.sim.model.Layer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;

/** Runs a model over a labelled image set on the fast executor, in parallel, and collects a {@link SimulationResult}. */
public final class Simulation {
    private Simulation() {
    }

    /**
     * @param pixels {@code count} images of the model's input size, back to back
     * @param labels one label per image
     * @param threads worker threads, each with its own executor
     * @param progress called with the number of images done so far (from worker threads), or null
     */
    public static SimulationResult run(IntegerModel model, ProcessorConfig config, byte[] pixels, byte[] labels, int count,
                                       int threads, IntConsumer progress) {
        int size = model.inputSpec().size();
        if ((long) count * size > pixels.length || count > labels.length) {
            throw new IllegalArgumentException(count + " images of " + size + " pixels need " + (long) count * size
                    + " pixel bytes and " + count + " labels; got " + pixels.length + " and " + labels.length);
        }
        int workers = Math.max(1, Math.min(threads, count));
        List<Executor> executors = new ArrayList<>();
        for (int i = 0; i < workers; i++) {
            executors.add(Executor.fast(model, config));
        }
        AtomicInteger done = new AtomicInteger();
        int[] correct = new int[workers];
        int classes = model.outputSpec().channels();
        long[][][] confusion = new long[workers][classes][classes];
        long[] withOverflow = new long[workers];
        int[] predictions = new int[count];
        long start = System.nanoTime();
        ExecutorService pool = Executors.newFixedThreadPool(workers, r -> {
            Thread t = new Thread(r, "simulate");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int w = 0; w < workers; w++) {
                int worker = w;
                futures.add(pool.submit(() -> {
                    Executor e = executors.get(worker);
                    for (int i = worker; i < count; i += workers) {
                        long before = e.totalOverflowEvents();
                        int predicted = e.run(pixels, i * size);
                        predictions[i] = predicted;
                        int label = labels[i] & 0xff;
                        if (predicted == label) {
                            correct[worker]++;
                        }
                        if (label < classes) {
                            confusion[worker][label][predicted]++;
                        }
                        if (e.totalOverflowEvents() != before) {
                            withOverflow[worker]++;
                        }
                        int n = done.incrementAndGet();
                        if (progress != null) {
                            progress.accept(n);
                        }
                    }
                }));
            }
            for (Future<?> f : futures) {
                f.get();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("simulation interrupted", e);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException("simulation failed: " + e.getCause(), e.getCause());
        } finally {
            pool.shutdownNow();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        IntegerModel fitted = executors.get(0).model();
        long[] events = new long[fitted.layers().size()];
        int totalCorrect = 0;
        long totalWithOverflow = 0;
        for (int w = 0; w < workers; w++) {
            long[] e = executors.get(w).overflowEvents();
            for (int i = 0; i < events.length; i++) {
                events[i] += e[i];
            }
            totalCorrect += correct[w];
            totalWithOverflow += withOverflow[w];
        }
        long[][] matrix = new long[classes][classes];
        for (long[][] c : confusion) {
            for (int a = 0; a < classes; a++) {
                for (int b = 0; b < classes; b++) {
                    matrix[a][b] += c[a][b];
                }
            }
        }
        List<String> names = fitted.layers().stream().map(Layer::name).toList();
        return new SimulationResult(model.name(), config, count, totalCorrect, names, events, totalWithOverflow,
                CostModel.evaluate(fitted, config), count / Math.max(seconds, 1e-9), matrix, predictions);
    }
}
