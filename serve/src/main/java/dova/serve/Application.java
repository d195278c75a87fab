package dova.serve;

import akka.actor.ActorSystem;
import dova.ingest.kafka.KafkaAdmin;
import dova.serve.config.ServeSettings;
import dova.serve.metrics.Endpoints;
import dova.serve.metrics.Metrics;
import dova.serve.pool.Deployment;
import dova.serve.pool.ProcessorPool;
import dova.serve.recal.CalibrationShare;
import dova.serve.recal.Leadership;
import dova.serve.recal.Recalibrator;
import dova.serve.recal.Retrainer;
import dova.serve.registry.FleetRegistry;
import dova.serve.registry.ModelRecord;
import dova.serve.registry.ModelRegistry;
import dova.sim.model.IntegerModel;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Locale;
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
    private FleetRegistry fleet;
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
        Deployment deployment;
        if (s.model().shared()) {
            awaitTopics(topics); // the fleet's versions are on the broker: it must answer first
            deployment = fleetDeployment(s, admin, bootstrap);
        } else {
            deployment = localDeployment(s);
        }
        ready[2] = System.nanoTime();
        pool = new ProcessorPool(s.pool().processors(), deployment, 4 * s.pool().parallelism());
        started.add(pool);
        ProcessorPool p = pool;
        metrics = new Metrics(deployment.model().name(), p::pending);
        metrics.modelVersion(deployment.version(), deployment.layerNames());
        StreamService[] holder = new StreamService[1];
        FleetRegistry f = fleet;
        endpoints = Endpoints.start(s.http().host(), s.http().port(), metrics,
                () -> holder[0] != null && holder[0].running(), () -> holder[0] == null || holder[0].healthy(),
                () -> f == null ? null : f.problem() == null
                        ? String.format(Locale.ROOT, "serving v%04d, the version the fleet's pointer names", p.current().version())
                        : String.format(Locale.ROOT, "serving v%04d; %s", p.current().version(), f.problem()));
        started.add(endpoints);
        Retrainer retrainer = s.recalibration().retrain() && s.model().checkpoint() != null
                ? new Retrainer(s.model().checkpoint()) : null;
        if (retrainer != null && Files.exists(registry.checkpointFile(deployment.version()))) {
            // a restarted replica retrains from the weights of the version it serves, not from the first
            rebase(retrainer, registry.checkpointFile(deployment.version()));
        }
        if (fleet != null) {
            follow(fleet, p, metrics, retrainer);
        }
        recalibrator = new Recalibrator(s.calibration(), s.recalibration(), pool, fleet != null ? fleet : registry, metrics,
                retrainer, outcomes);
        started.add(recalibrator);
        if (fleet != null) {
            FleetRegistry fr = fleet;
            String me = replicaName(s);
            recalibrator.sharedReferences(new Recalibrator.SharedReferences() {
                @Override
                public long[] get(int version) {
                    return fr.reference(version).map(r -> {
                        if (!r.by().equals(me)) {
                            System.err.printf(Locale.ROOT, "dova: drift reference of v%04d: the fleet's (observed by %s)%n",
                                    version, r.by());
                        }
                        return r.pixels();
                    }).orElse(null);
                }

                @Override
                public void offer(int version, long[] pixels) {
                    fr.offerReference(version, pixels);
                }
            });
        }
        awaitTopics(topics);
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
            // every replica shares its windows' ranges; the leader plans on all of them
            String calibrationTopic = calibrationTopic(s);
            admin.prepareTopics(s.kafka().createTopics(), 1, List.of(calibrationTopic));
            CalibrationShare share = new CalibrationShare(bootstrap, calibrationTopic, replicaName(s), Duration.ofMinutes(2));
            started.add(share);
            recalibrator.sharing(share);
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

    /** Waits for the broker check and the stream's topics, reporting the setting at fault. */
    private static void awaitTopics(CompletableFuture<Void> topics) throws Exception {
        try {
            topics.get(60, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            Throwable cause = e.getCause();
            throw cause instanceof IllegalArgumentException
                    ? new IllegalArgumentException("dova.kafka.bootstrap-servers / dova.kafka.create-topics: "
                            + cause.getMessage(), cause)
                    : cause instanceof Exception x ? x : e;
        }
    }

    private Deployment localDeployment(ServeSettings s) throws java.io.IOException {
        int version = registry.seed(s.model().initial());
        return new Deployment(version, registry.load(version));
    }

    /**
     * The version the fleet's topic names (seeding the topic when it has none). A replica that
     * cannot load that version starts on its own folder's current version, if it has one, and says so.
     */
    private Deployment fleetDeployment(ServeSettings s, KafkaAdmin admin, String bootstrap) throws java.io.IOException {
        try {
            admin.prepareCompactedTopic(s.kafka().createTopics(), modelsTopic(s), ModelRecord.MAX_BYTES);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("dova.model.shared (DOVA_MODEL_SHARED): " + e.getMessage(), e);
        }
        fleet = new FleetRegistry(bootstrap, modelsTopic(s), registry, s.model().trust(), replicaName(s),
                Duration.ofSeconds(10));
        started.add(fleet);
        fleet.awaitCaughtUp(Duration.ofSeconds(60));
        int v = fleet.seed(s.model().initial(), s.model().checkpoint());
        if (fleet.problem() == null) {
            return new Deployment(v, fleet.load(v));
        }
        int local = registry.currentVersion();
        if (local <= 0 || local == v) {
            throw new java.io.IOException(fleet.problem() + ", and " + registry.dir() + " has no other version to serve meanwhile"
                    + " (move the pointer with: dova models rollback N --bootstrap-servers ...)");
        }
        System.err.printf(Locale.ROOT, "dova: %s; serving this replica's own v%04d meanwhile%n", fleet.problem(), local);
        return new Deployment(local, registry.load(local));
    }

    /** The pool follows the fleet's pointer: a version another replica published, or a rollback, is swapped in. */
    private static void follow(FleetRegistry fleet, ProcessorPool pool, Metrics metrics, Retrainer retrainer) {
        fleet.follow(new FleetRegistry.Follower() {
            @Override
            public void serve(int version, IntegerModel model, Path checkpoint) {
                if (pool.current().version() != version) {
                    Deployment d = new Deployment(version, model);
                    pool.swap(d);
                    metrics.modelVersion(version, d.layerNames());
                    metrics.swapped();
                    System.err.printf(Locale.ROOT, "dova: now serving v%04d, the version the fleet's pointer names%n", version);
                }
                if (retrainer != null && checkpoint != null) {
                    rebase(retrainer, checkpoint);
                }
            }

            @Override
            public void unservable(int version, String why) {
                metrics.swapFailed();
                System.err.printf(Locale.ROOT, "dova: keeps serving v%04d: %s%n", pool.current().version(), why);
            }

            @Override
            public void rejected(String reason, String message) {
                metrics.modelRecordRejected(reason);
            }
        });
        metrics.fleetPointer(fleet::pointer, () -> fleet.problem() == null ? 0 : 1);
    }

    private static void rebase(Retrainer retrainer, Path checkpoint) {
        try {
            retrainer.rebase(checkpoint);
        } catch (IllegalArgumentException e) {
            System.err.println("dova: the next retraining keeps its base " + retrainer.base() + ": " + e.getMessage());
        }
    }

    /** Who this replica is in the pointers and snapshots it writes: its static member id, else host, process and a count. */
    static String replicaName(ServeSettings s) {
        if (!s.kafka().instanceId().isBlank()) {
            return s.kafka().instanceId();
        }
        String host;
        try {
            host = java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.net.UnknownHostException e) {
            host = "unknown-host";
        }
        return host + "/" + ProcessHandle.current().pid() + "/" + INSTANCES.incrementAndGet();
    }

    /** Services started in this JVM (tests start several): their names differ. */
    private static final java.util.concurrent.atomic.AtomicInteger INSTANCES = new java.util.concurrent.atomic.AtomicInteger();

    /** The topic the replicas share their windows' ranges on: {@code <frames-topic>-calibration}. */
    public static String calibrationTopic(ServeSettings s) {
        return s.kafka().framesTopic() + "-calibration";
    }

    /** The fleet's compacted model topic: {@code <frames-topic>-models}. */
    public static String modelsTopic(ServeSettings s) {
        return s.kafka().framesTopic() + "-models";
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

    /** The fleet's registry, or null when {@code dova.model.shared} is off. */
    public FleetRegistry fleet() {
        return fleet;
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
