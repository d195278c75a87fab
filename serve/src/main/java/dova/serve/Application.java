package dova.serve;

import akka.actor.ActorSystem;
import dova.ingest.kafka.KafkaAdmin;
import dova.serve.config.ServeSettings;
import dova.serve.metrics.Endpoints;
import dova.serve.metrics.Metrics;
import dova.serve.pool.Deployment;
import dova.serve.pool.ProcessorPool;
import dova.serve.recal.Leadership;
import dova.serve.recal.Recalibrator;
import dova.serve.recal.Retrainer;
import dova.serve.registry.ModelRegistry;
import dova.serve.stream.ResultListener;
import dova.serve.stream.StreamService;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The running service: registry, processor pool, metrics and endpoints, recalibrator and stream,
 * started in dependency order. Start-up checks every resource it needs (model, HTTP port,
 * broker) and, if one fails, closes what it had started and reports the setting at fault:
 * nothing half-starts.
 */
public final class Application implements AutoCloseable {
    private final List<AutoCloseable> started = new ArrayList<>();
    private ModelRegistry registry;
    private Metrics metrics;
    private ProcessorPool pool;
    private Recalibrator recalibrator;
    private StreamService stream;
    private Endpoints endpoints;

    private Application() {
    }

    private void startAll(ServeSettings s, Path registryDir, String bootstrap, ResultListener listener,
                          Consumer<Recalibrator.Outcome> outcomes) throws Exception {
        long t0 = System.nanoTime();
        // the actor system and the broker check are independent of the model and take seconds each
        // (class loading, connections): they start at once, beside the rest, so a restarted replica
        // serves again sooner
        long[] ready = new long[3]; // when the actor system, the topics and the model were ready
        CompletableFuture<ActorSystem> actors = CompletableFuture.supplyAsync(() -> {
            ActorSystem a = ActorSystem.create("dova");
            ready[0] = System.nanoTime();
            return a;
        }, Application::startupThread);
        started.add(() -> {
            ActorSystem system = actors.get(60, TimeUnit.SECONDS);
            system.terminate();
            system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
        });
        KafkaAdmin admin = new KafkaAdmin(bootstrap, java.time.Duration.ofSeconds(5));
        started.add(admin);
        CompletableFuture<Void> topics = CompletableFuture.runAsync(() -> {
            admin.prepareTopics(s.kafka().createTopics(), s.kafka().partitions(),
                    List.of(s.kafka().framesTopic(), s.kafka().resultsTopic(), s.kafka().deadLetterTopic()));
            ready[1] = System.nanoTime();
        }, Application::startupThread);
        registry = new ModelRegistry(registryDir, s.model().trust());
        if (!s.model().trust().signs()) {
            System.err.println("dova: models are neither signed nor verified (no dova.model.trust-key / DOVA_MODEL_TRUST_KEY):"
                    + " a modified model file that re-seals its own checksum would be served");
        }
        int version = registry.seed(s.model().initial());
        Deployment deployment = new Deployment(version, registry.load(version));
        ready[2] = System.nanoTime();
        pool = new ProcessorPool(s.pool().processors(), deployment, 4 * s.pool().parallelism());
        started.add(pool);
        ProcessorPool p = pool;
        metrics = new Metrics(deployment.model().name(), p::pending);
        metrics.modelVersion(version, deployment.layerNames());
        StreamService[] holder = new StreamService[1];
        endpoints = Endpoints.start(s.http().host(), s.http().port(), metrics,
                () -> holder[0] != null && holder[0].running(), () -> holder[0] == null || holder[0].healthy());
        started.add(endpoints);
        Retrainer retrainer = s.recalibration().retrain() && s.model().checkpoint() != null
                ? new Retrainer(s.model().checkpoint()) : null;
        recalibrator = new Recalibrator(s.calibration(), s.recalibration(), pool, registry, metrics, retrainer, outcomes);
        started.add(recalibrator);
        try {
            topics.get(60, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            Throwable cause = e.getCause();
            throw cause instanceof IllegalArgumentException
                    ? new IllegalArgumentException("dova.kafka.bootstrap-servers / dova.kafka.create-topics: "
                            + cause.getMessage(), cause)
                    : cause instanceof Exception x ? x : e;
        }
        ActorSystem system;
        try {
            system = actors.get(60, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException("cannot start the actor system: " + e.getCause(), e.getCause());
        }
        // one replica of the consumer group recalibrates: the member Kafka assigns partition 0 of <frames>-control
        if (s.recalibration().enabled()) {
            String control = controlTopic(s);
            admin.prepareTopics(s.kafka().createTopics(), 1, List.of(control));
            Leadership leadership = new Leadership(bootstrap, s.kafka().groupId(), s.kafka().instanceId(), control,
                    java.time.Duration.ofSeconds(10));
            started.add(leadership);
            recalibrator.leadership(leadership::isLeader);
            metrics.recalibrationLeader(() -> leadership.isLeader() ? 1 : 0);
        }
        stream = new StreamService(s, system, admin, pool, metrics);
        holder[0] = stream;
        stream.start(recalibrator, listener);
        started.add(stream);
        System.err.printf(java.util.Locale.ROOT, "dova: started in %.1f s (model %.1f s, broker and topics %.1f s, actor"
                + " system %.1f s, side by side)%n", (System.nanoTime() - t0) / 1e9, (ready[2] - t0) / 1e9,
                (ready[1] - t0) / 1e9, (ready[0] - t0) / 1e9);
    }

    /** The topic whose partition 0 elects the recalibrating replica: {@code <frames-topic>-control}. */
    public static String controlTopic(ServeSettings s) {
        return s.kafka().framesTopic() + "-control";
    }

    private static void startupThread(Runnable r) {
        Thread t = new Thread(r, "dova-startup");
        t.setDaemon(true);
        t.start();
    }

    /** Starts everything, or nothing. */
    public static Application start(ServeSettings s, Path registryDir, String bootstrap, ResultListener listener,
                                    Consumer<Recalibrator.Outcome> outcomes) throws Exception {
        Application app = new Application();
        try {
            app.startAll(s, registryDir, bootstrap, listener, outcomes);
            return app;
        } catch (Exception | Error e) {
            try {
                app.close();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    public ModelRegistry registry() {
        return registry;
    }

    public Metrics metrics() {
        return metrics;
    }

    public ProcessorPool pool() {
        return pool;
    }

    public Recalibrator recalibrator() {
        return recalibrator;
    }

    public Endpoints endpoints() {
        return endpoints;
    }

    public StreamService stream() {
        return stream;
    }

    /** Drains the stream (every frame in flight finishes and commits), then closes in reverse order. */
    @Override
    public void close() {
        RuntimeException first = null;
        for (int i = started.size() - 1; i >= 0; i--) {
            try {
                started.get(i).close();
            } catch (Exception e) {
                if (first == null) {
                    first = new IllegalStateException("shutdown: " + e.getMessage(), e);
                }
            }
        }
        started.clear();
        if (first != null) {
            throw first;
        }
    }
}
