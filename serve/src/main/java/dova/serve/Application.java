package dova.serve;

import akka.actor.ActorSystem;
import dova.ingest.kafka.EmbeddedKafka;
import dova.serve.config.ServeSettings;
import dova.serve.metrics.Endpoints;
import dova.serve.metrics.Metrics;
import dova.serve.pool.Deployment;
import dova.serve.pool.ProcessorPool;
import dova.serve.recal.Recalibrator;
import dova.serve.recal.Retrainer;
import dova.serve.registry.ModelRegistry;
import dova.serve.stream.ResultListener;
import dova.serve.stream.StreamService;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.kafka.clients.admin.Admin;

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
        registry = new ModelRegistry(registryDir, s.model().trust());
        if (!s.model().trust().signs()) {
            System.err.println("dova: models are neither signed nor verified (no dova.model.trust-key / DOVA_MODEL_TRUST_KEY):"
                    + " a modified model file that re-seals its own checksum would be served");
        }
        int version = registry.seed(s.model().initial());
        Deployment deployment = new Deployment(version, registry.load(version));
        pool = new ProcessorPool(s.pool().processors(), deployment, 4 * s.pool().parallelism());
        started.add(pool);
        ProcessorPool p = pool;
        metrics = new Metrics(p::pending);
        metrics.modelVersion(version);
        metrics.ensureLayers(deployment.layerNames());
        StreamService[] holder = new StreamService[1];
        endpoints = Endpoints.start(s.http().host(), s.http().port(), metrics,
                () -> holder[0] != null && holder[0].running(), () -> holder[0] == null || holder[0].healthy());
        started.add(endpoints);
        checkBroker(bootstrap, s);
        ActorSystem system = ActorSystem.create("dova");
        started.add(() -> {
            system.terminate();
            system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
        });
        Retrainer retrainer = s.recalibration().retrain() && s.model().checkpoint() != null
                ? new Retrainer(s.model().checkpoint()) : null;
        recalibrator = new Recalibrator(s.calibration(), s.recalibration(), pool, registry, metrics, retrainer, outcomes);
        started.add(recalibrator);
        stream = new StreamService(s, system, bootstrap, pool, metrics);
        holder[0] = stream;
        stream.start(recalibrator, listener);
        started.add(stream);
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

    private static void checkBroker(String bootstrap, ServeSettings s) {
        Map<String, Object> c = new HashMap<>();
        c.put("bootstrap.servers", bootstrap);
        c.put("request.timeout.ms", 5000);
        c.put("default.api.timeout.ms", 8000);
        try (Admin admin = Admin.create(c)) {
            admin.describeCluster().nodes().get(10, TimeUnit.SECONDS);
            if (s.kafka().createTopics()) {
                EmbeddedKafka.createTopics(admin, s.kafka().partitions(), s.kafka().framesTopic(),
                        s.kafka().resultsTopic(), s.kafka().deadLetterTopic());
            } else {
                var names = admin.listTopics().names().get(10, TimeUnit.SECONDS);
                for (String t : List.of(s.kafka().framesTopic(), s.kafka().resultsTopic(), s.kafka().deadLetterTopic())) {
                    if (!names.contains(t)) {
                        throw new IllegalArgumentException("topic " + t + " does not exist on " + bootstrap
                                + " and dova.kafka.create-topics is false");
                    }
                }
            }
        } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException e) {
            throw new IllegalArgumentException("dova.kafka.bootstrap-servers: cannot reach a Kafka broker at " + bootstrap
                    + " (" + e.getClass().getSimpleName() + ")");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while contacting Kafka");
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
