package dova.serve.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * Every measurement the service exports, in one place, all named {@code dova_*} (Micrometer
 * appends {@code _total} to counters and {@code _seconds} to timers in the Prometheus output).
 * As Triton labels its per-model metrics, everything a result measures (results, latencies,
 * simulated cycles, overflow events) carries {@code model} (the served network's name) and
 * {@code version} (the registry version that computed it), so a swap shows as a new series.
 */
public final class Metrics {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Counter framesIn;
    private final String model;
    private final Map<Integer, ModelMeters> byVersion = new ConcurrentHashMap<>();
    /** The meters of the version that computed the last result (almost always the next one's too). */
    private volatile ModelMeters last;
    private final Counter swaps;
    private final Counter swapFailures;
    private final Counter driftEvents;
    private final Timer retraining;
    private final AtomicLong modelVersion = new AtomicLong();
    private final AtomicReference<Double> driftScore = new AtomicReference<>(0.0);
    private final AtomicReference<Double> accuracy = new AtomicReference<>(Double.NaN);
    private final AtomicLong consumerLag = new AtomicLong();
    private final Map<String, Counter> failures = new ConcurrentHashMap<>();
    private final Map<String, AtomicReference<Double>> ranges = new ConcurrentHashMap<>();
    private final Map<String, Counter> attempts = new ConcurrentHashMap<>();

    /** The meters of one model version. */
    private final class ModelMeters {
        final int version;
        final Counter results;
        final Timer endToEnd;
        final Timer queue;
        final Timer compute;
        final Counter cycles;
        final Map<String, Counter> overflow = new ConcurrentHashMap<>();

        ModelMeters(int version) {
            this.version = version;
            results = Counter.builder("dova_results_out").tags(tags()).description("results written to Kafka")
                    .register(registry);
            endToEnd = timer("dova_latency_end_to_end", "capture to result");
            queue = timer("dova_latency_queue", "waiting for a processor");
            compute = timer("dova_latency_compute",
                    "host wall time of the bit-exact simulation of one frame (not processor time)");
            cycles = Counter.builder("dova_simulated_cycles").tags(tags()).description("cycles of the simulated processors"
                    + " (cost model of their PE arrays), summed over results").register(registry);
        }

        private io.micrometer.core.instrument.Tags tags() {
            return io.micrometer.core.instrument.Tags.of("model", model, "version", Integer.toString(version));
        }

        private Timer timer(String name, String description) {
            return Timer.builder(name).tags(tags()).description(description).serviceLevelObjectives(LATENCY_BUCKETS)
                    .register(registry);
        }

        Counter overflow(String layer) {
            return overflow.computeIfAbsent(layer, l -> Counter.builder("dova_overflow_events").tags(tags()).tag("layer", l)
                    .description("accumulator overflow events").register(registry));
        }
    }

    private ModelMeters meters(int version) {
        ModelMeters m = last;
        if (m == null || m.version != version) {
            m = byVersion.computeIfAbsent(version, ModelMeters::new);
            last = m;
        }
        return m;
    }

    /**
     * @param model the served network's name (the {@code model} label)
     * @param pendingFrames frames queued or running in the pool
     */
    public Metrics(String model, Supplier<Number> pendingFrames) {
        if (model == null || model.isBlank()) {
            throw new IllegalArgumentException("a model name is needed for the metrics' model label");
        }
        this.model = model;
        framesIn = Counter.builder("dova_frames_in").description("frames consumed from Kafka").register(registry);
        swaps = Counter.builder("dova_model_swaps").description("models swapped into the pool").register(registry);
        swapFailures = Counter.builder("dova_model_swap_failures").description("swaps refused or failed").register(registry);
        driftEvents = Counter.builder("dova_drift_events").description("drift events detected").register(registry);
        retraining = timer("dova_retraining_duration", "recalibration / retraining attempts", ATTEMPT_BUCKETS);
        Gauge.builder("dova_pending_frames", pendingFrames).description("frames queued or running in the pool")
                .register(registry);
        Gauge.builder("dova_model_version", modelVersion, AtomicLong::get).tag("model", model)
                .description("serving model version").register(registry);
        Gauge.builder("dova_drift_score", driftScore, AtomicReference::get).description("PSI of the last window")
                .register(registry);
        Gauge.builder("dova_accuracy", accuracy, AtomicReference::get)
                .description("accuracy over the last labelled results").register(registry);
        Gauge.builder("dova_kafka_consumer_lag", consumerLag, AtomicLong::get)
                .description("frames not yet committed, summed over partitions").register(registry);
        // created up front so that dashboards and alerts see them before the first event
        for (dova.ingest.frame.RejectReason r : dova.ingest.frame.RejectReason.values()) {
            failure(r.name());
        }
        new io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics().bindTo(registry);
        new io.micrometer.core.instrument.binder.jvm.JvmGcMetrics().bindTo(registry);
        new io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics().bindTo(registry);
        new io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics().bindTo(registry);
        new io.micrometer.core.instrument.binder.system.ProcessorMetrics().bindTo(registry);
        new io.micrometer.core.instrument.binder.system.UptimeMetrics().bindTo(registry);
        new io.micrometer.core.instrument.binder.system.FileDescriptorMetrics().bindTo(registry);
        for (dova.serve.recal.Recalibrator.Result r : dova.serve.recal.Recalibrator.Result.values()) {
            attempt(r.label());
        }
    }

    /** Latency buckets for the service's objectives (p99 under 500 ms): a dozen, from 1 ms to 30 s. */
    static final Duration[] LATENCY_BUCKETS = {Duration.ofMillis(1), Duration.ofMillis(2), Duration.ofMillis(5),
        Duration.ofMillis(10), Duration.ofMillis(20), Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(200),
        Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofSeconds(5), Duration.ofSeconds(30)};
    /** Recalibration attempts take seconds to minutes. */
    static final Duration[] ATTEMPT_BUCKETS = {Duration.ofSeconds(1), Duration.ofSeconds(5), Duration.ofSeconds(15),
        Duration.ofSeconds(30), Duration.ofMinutes(1), Duration.ofMinutes(2), Duration.ofMinutes(5), Duration.ofMinutes(15)};

    private Timer timer(String name, String description, Duration[] buckets) {
        return Timer.builder(name).description(description).serviceLevelObjectives(buckets).register(registry);
    }

    public PrometheusMeterRegistry registry() {
        return registry;
    }

    public String scrape() {
        return registry.scrape();
    }

    /** The stream ended without being asked to and is being restarted. */
    public void streamRestart(String cause) {
        Counter.builder("dova_stream_restarts").tag("cause", cause).description("stream runs that failed and were restarted")
                .register(registry).increment();
    }

    public void frameIn() {
        framesIn.increment();
    }

    /** A result of model version {@code version}, written. */
    public void resultOut(int version, long endToEndNanos, long queueNanos, long computeNanos, long cycles) {
        ModelMeters m = meters(version);
        m.results.increment();
        m.cycles.increment(cycles);
        m.endToEnd.record(Duration.ofNanos(Math.max(0, endToEndNanos)));
        long micros = Math.min(3_600_000_000L, Math.max(1, endToEndNanos / 1000));
        allLatency.recordValue(micros);
        recentLatency.recordValue(micros);
        m.queue.record(Duration.ofNanos(queueNanos));
        m.compute.record(Duration.ofNanos(computeNanos));
    }

    private Counter failure(String reason) {
        return failures.computeIfAbsent(reason, r -> Counter.builder("dova_frames_failed").tag("reason", r)
                .description("frames sent to the dead-letter topic").register(registry));
    }

    public void failed(dova.ingest.frame.RejectReason reason) {
        failure(reason.name()).increment();
    }

    /** Overflow events of one result of model version {@code version}, per layer. */
    public void overflow(int version, List<String> layers, long[] perLayer) {
        ModelMeters m = meters(version);
        for (int i = 0; i < perLayer.length; i++) {
            if (perLayer[i] > 0) {
                m.overflow(layers.get(i)).increment(perLayer[i]);
            }
        }
    }

    /**
     * Version {@code v}, whose layers are {@code layers}, now serves: the gauge shows it, and its
     * meters exist (at zero) before its first result, so that dashboards and alerts see them.
     */
    public void modelVersion(int v, List<String> layers) {
        ModelMeters m = meters(v);
        layers.forEach(m::overflow);
        modelVersion.set(v);
    }

    public void swapped() {
        swaps.increment();
    }

    public void swapFailed() {
        swapFailures.increment();
    }

    public void drift(double psi, boolean event) {
        driftScore.set(psi);
        if (event) {
            driftEvents.increment();
        }
    }

    public void accuracy(double a) {
        accuracy.set(a);
    }

    /** Labelled results the accuracy gauge averages over (the most recent). */
    public static final int ACCURACY_WINDOW = 1000;
    private final boolean[] lastCorrect = new boolean[ACCURACY_WINDOW];
    private int lastCount;
    private int lastNext;
    private int lastCorrectCount;

    /** One labelled result: the accuracy gauge becomes the share correct over the last {@link #ACCURACY_WINDOW}. */
    public synchronized void labelledResult(boolean correct) {
        if (lastCount == ACCURACY_WINDOW) {
            lastCorrectCount -= lastCorrect[lastNext] ? 1 : 0;
        } else {
            lastCount++;
        }
        lastCorrect[lastNext] = correct;
        lastCorrectCount += correct ? 1 : 0;
        lastNext = (lastNext + 1) % ACCURACY_WINDOW;
        accuracy.set((double) lastCorrectCount / lastCount);
    }

    public void consumerLag(long lag) {
        consumerLag.set(lag);
    }

    /** The lag could not be measured (broker unreachable, group unknown); the gauge keeps its last value. */
    /** Registers the gauge of partitions this replica holds. */
    public void assignedPartitions(Supplier<Number> held) {
        Gauge.builder("dova_kafka_assigned_partitions", held).description("partitions of the frames topic this replica holds")
                .register(registry);
    }

    private final Map<String, io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics> kafkaClients =
            new ConcurrentHashMap<>();

    /**
     * Binds a Kafka client's own metrics ({@code kafka_consumer_*} / {@code kafka_producer_*}, Micrometer's
     * {@code KafkaClientMetrics}); the client it replaces in the same role (a restarted stream's) is unbound.
     */
    public void kafkaClient(String role, io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics client) {
        client.bindTo(registry);
        var old = kafkaClients.put(role, client);
        if (old != null) {
            old.close();
        }
    }

    /** Registers the gauge saying whether this replica is the one that recalibrates (1) or not (0). */
    public void recalibrationLeader(Supplier<Number> leader) {
        Gauge.builder("dova_recalibration_leader", leader)
                .description("1 on the replica that decides and runs recalibration (Kafka-elected), 0 on the others")
                .register(registry);
    }

    /** Registers the gauge saying whether a recalibration attempt (planning, retraining, the gate) is running here. */
    public void recalibrationRunning(Supplier<Number> running) {
        Gauge.builder("dova_recalibration_running", running)
                .description("1 while this replica runs a recalibration attempt (planning, retraining, the gate), else 0")
                .register(registry);
    }

    /**
     * Registers the fleet registry's gauges: the version the fleet's pointer names, and 1 while
     * this replica cannot serve it (it keeps serving {@code dova_model_version}).
     */
    public void fleetPointer(Supplier<Number> pointer, Supplier<Number> unservable) {
        Gauge.builder("dova_model_pointer_version", pointer)
                .description("the version the fleet's model topic names as serving (0: none yet)").register(registry);
        Gauge.builder("dova_model_unservable", unservable)
                .description("1 while the fleet's pointer names a version this replica cannot load (it keeps the old one)")
                .register(registry);
    }

    /** A record of the fleet's model topic was refused (never served), for {@code reason}. */
    public void modelRecordRejected(String reason) {
        Counter.builder("dova_model_records_rejected").tag("reason", reason)
                .description("model-topic records refused: corrupt, truncated, unsigned or not a valid model")
                .register(registry).increment();
    }

    public void lagPollFailed() {
        Counter.builder("dova_kafka_lag_poll_failures").description("consumer-lag measurements that failed")
                .register(registry).increment();
    }

    private Counter attempt(String outcome) {
        return attempts.computeIfAbsent(outcome, o -> Counter.builder("dova_retraining_attempts").tag("outcome", o)
                .description("recalibration / retraining attempts by outcome").register(registry));
    }

    public void attempt(String outcome, Duration took) {
        attempt(outcome).increment();
        retraining.record(took);
    }

    /** Upper calibration range (p99.99 of pre-clamp real outputs) of a layer. */
    public void range(String layer, double value) {
        ranges.computeIfAbsent(layer, l -> {
            AtomicReference<Double> ref = new AtomicReference<>(0.0);
            Gauge.builder("dova_calibration_range", ref, AtomicReference::get).tag("layer", l)
                    .description("observed p99.99 of a layer's pre-clamp outputs").register(registry);
            return ref;
        }).set(value);
    }

    /** End-to-end latency percentile (0.5 or 0.99), ms, over Micrometer's decaying window. */
    /** End-to-end latency in microseconds since the start (3 significant digits, up to an hour). */
    private final org.HdrHistogram.ConcurrentHistogram allLatency = new org.HdrHistogram.ConcurrentHistogram(3_600_000_000L, 3);
    /** The same, per interval, for {@link #recentEndToEndMillis}. */
    private final org.HdrHistogram.Recorder recentLatency = new org.HdrHistogram.Recorder(3_600_000_000L, 3);
    private final java.util.ArrayDeque<org.HdrHistogram.Histogram> recentIntervals = new java.util.ArrayDeque<>();

    /** Percentile {@code p} (0..1) of the end-to-end latency since the start, in ms; NaN before the first result. */
    public double endToEndMillis(double p) {
        return allLatency.getTotalCount() == 0 ? Double.NaN : allLatency.getValueAtPercentile(100 * p) / 1000.0;
    }

    /**
     * Percentile {@code p} (0..1) of the end-to-end latency over the last {@code intervals} calls of
     * this method (called once a second: the last seconds), in ms; NaN when there was no result.
     */
    public synchronized double recentEndToEndMillis(double p, int intervals) {
        recentIntervals.addLast(recentLatency.getIntervalHistogram());
        while (recentIntervals.size() > intervals) {
            recentIntervals.removeFirst();
        }
        org.HdrHistogram.Histogram sum = new org.HdrHistogram.Histogram(3_600_000_000L, 3);
        recentIntervals.forEach(sum::add);
        return sum.getTotalCount() == 0 ? Double.NaN : sum.getValueAtPercentile(100 * p) / 1000.0;
    }

    /** Results written, over all versions. */
    public long resultsOut() {
        return (long) byVersion.values().stream().mapToDouble(m -> m.results.count()).sum();
    }

    public long framesIn() {
        return (long) framesIn.count();
    }
}
