package dova.serve.pool;

import dova.sim.ProcessorConfig;
import dova.sim.exec.Executor;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A pool of simulated processors, one thread each, each with its own processor configuration,
 * fed from one bounded queue (so the least busy processor takes the next frame). The stream
 * bounds the frames in flight, so the queue never fills; if it does, {@link #submit} fails
 * the frame rather than grow memory.
 *
 * <p>Hot swap: {@link #swap} first builds an executor of the new model for every processor
 * configuration (so a model that cannot run on one of them is refused and nothing changes),
 * then publishes it atomically. Each worker picks the new deployment up before its next frame;
 * a frame already running finishes on the old model and says so in its result.
 */
public final class ProcessorPool implements AutoCloseable {
    private record Task(byte[] pixels, long enqueuedNanos, CompletableFuture<Inference> result) {
    }

    private final List<ProcessorConfig> configs;
    private final AtomicReference<Deployment> deployment;
    private final BlockingQueue<Task> queue;
    private final List<Thread> workers = new ArrayList<>();
    private final AtomicInteger busy = new AtomicInteger();
    private volatile boolean running = true;

    public ProcessorPool(List<ProcessorConfig> configs, Deployment initial, int queueCapacity) {
        if (configs.isEmpty()) {
            throw new IllegalArgumentException("the pool needs at least one processor");
        }
        this.configs = List.copyOf(configs);
        check(initial);
        this.deployment = new AtomicReference<>(initial);
        this.queue = new ArrayBlockingQueue<>(queueCapacity);
        for (int i = 0; i < configs.size(); i++) {
            int index = i;
            Thread t = new Thread(() -> work(index), "processor-" + i);
            t.setDaemon(true);
            workers.add(t);
            t.start();
        }
    }

    private void check(Deployment d) {
        for (ProcessorConfig c : configs) {
            Executor.fast(d.model(), c); // throws, naming the layer, if the model cannot run on c
        }
    }

    public List<ProcessorConfig> configs() {
        return configs;
    }

    public Deployment current() {
        return deployment.get();
    }

    /** Frames queued or running. */
    public int pending() {
        return queue.size() + busy.get();
    }

    /** Validates on every processor configuration, then swaps atomically. */
    public void swap(Deployment next) {
        check(next);
        deployment.set(next);
    }

    public CompletableFuture<Inference> submit(byte[] pixels) {
        CompletableFuture<Inference> f = new CompletableFuture<>();
        if (!running) {
            f.completeExceptionally(new IllegalStateException("processor pool is closed"));
        } else if (!queue.offer(new Task(pixels, System.nanoTime(), f))) {
            f.completeExceptionally(new IllegalStateException("processor pool queue full (" + queue.size() + " frames)"));
        }
        return f;
    }

    private void work(int index) {
        ProcessorConfig config = configs.get(index);
        Deployment mine = null;
        Executor executor = null;
        long cycles = 0;
        while (running) {
            Task t;
            try {
                t = queue.poll(100, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                return;
            }
            if (t == null) {
                continue;
            }
            busy.incrementAndGet();
            try {
                Deployment d = deployment.get();
                if (d != mine) {
                    executor = Executor.fast(d.model(), config);
                    cycles = dova.sim.cost.CostModel.evaluate(executor.model(), config).cycles();
                    mine = d;
                }
                long start = System.nanoTime();
                long[] before = executor.overflowEvents();
                int cls = executor.run(t.pixels(), 0);
                long[] after = executor.overflowEvents();
                long total = 0;
                for (int i = 0; i < after.length; i++) {
                    after[i] -= before[i];
                    total += after[i];
                }
                long done = System.nanoTime();
                t.result().complete(new Inference(cls, executor.logits().clone(), executor.model().outputSpec().scale(),
                        mine.version(), total, after, index, start - t.enqueuedNanos(), done - start, cycles));
            } catch (RuntimeException e) {
                t.result().completeExceptionally(e);
            } finally {
                busy.decrementAndGet();
            }
        }
    }

    @Override
    public void close() {
        running = false;
        for (Thread t : workers) {
            try {
                t.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        Task t;
        while ((t = queue.poll()) != null) {
            t.result().completeExceptionally(new IllegalStateException("processor pool closed"));
        }
    }
}
