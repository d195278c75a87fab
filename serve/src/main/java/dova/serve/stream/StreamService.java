package dova.serve.stream;

import akka.Done;
import akka.NotUsed;
import akka.actor.ActorSystem;
import akka.kafka.CommitterSettings;
import akka.kafka.ConsumerSettings;
import akka.kafka.ProducerSettings;
import akka.kafka.javadsl.Consumer;
import akka.stream.OverflowStrategy;
import akka.stream.javadsl.Flow;
import akka.stream.javadsl.Sink;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dova.calibrate.CalibrationStages;
import dova.ingest.frame.Frame;
import dova.ingest.frame.FrameCodec;
import dova.ingest.frame.RejectReason;
import dova.ingest.kafka.KafkaAdmin;
import dova.ingest.kafka.KafkaFrames;
import dova.ingest.kafka.Tagged;
import dova.serve.config.ServeSettings;
import dova.serve.metrics.Metrics;
import dova.serve.pool.Inference;
import dova.serve.pool.ProcessorPool;
import dova.serve.recal.Recalibrator;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The service's stream graph (docs/architecture.md, "The path of one frame"):
 *
 * <pre>
 * Kafka frames -> decode + validate ----------------------------> dead letters (reason header)
 *              -> tap: metrics, and a sampled, dropping, async branch -> recalibrator (ranges, drift)
 *              -> processor pool (mapAsync, ordered, parallelism bounded) -> results (JSON)
 *              -> commit the offset once the result or dead letter is written (at-least-once)
 * </pre>
 *
 * The calibration branch sits behind a dropping buffer and an async boundary: a slow observer
 * drops samples instead of slowing the frames.
 */
public final class StreamService implements AutoCloseable {
    private final ServeSettings settings;
    private final ActorSystem system;
    private final String bootstrap;
    private final ProcessorPool pool;
    private final Metrics metrics;
    private final ObjectMapper json = new ObjectMapper();
    private final FrameCodec codec = FrameCodec.defaults();
    private RestartingStream supervisor;
    /** A run that ends on its own is restarted after 1 s, doubling to 30 s; health fails after 60 s down. */
    static final java.time.Duration MIN_BACKOFF = java.time.Duration.ofSeconds(1);
    static final java.time.Duration MAX_BACKOFF = java.time.Duration.ofSeconds(30);
    static final java.time.Duration UNHEALTHY_AFTER = java.time.Duration.ofSeconds(60);
    private java.util.concurrent.ScheduledExecutorService lagPoller;
    private final KafkaAdmin admin;

    /** @param admin the cluster's administration client (lag), owned by the caller */
    public StreamService(ServeSettings settings, ActorSystem system, KafkaAdmin admin, ProcessorPool pool, Metrics metrics) {
        this.settings = settings;
        this.system = system;
        this.admin = admin;
        this.bootstrap = admin.bootstrap();
        this.pool = pool;
        this.metrics = metrics;
    }

    private volatile boolean draining;

    /** The partitions of the frames topic this replica holds now. */
    private final java.util.Set<org.apache.kafka.common.TopicPartition> assigned = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /**
     * Ready: the stream runs, holds at least one partition, and is not draining ({@code /ready}
     * turns 503 as soon as a shutdown starts).
     */
    public boolean running() {
        return !draining && supervisor != null && supervisor.up() && !assigned.isEmpty();
    }

    /** Partitions held now (also the gauge {@code dova_kafka_assigned_partitions}). */
    public int assignedPartitions() {
        return assigned.size();
    }

    private akka.kafka.javadsl.PartitionAssignmentHandler assignments() {
        return new akka.kafka.javadsl.PartitionAssignmentHandler() {
            @Override
            public void onAssign(java.util.Set<org.apache.kafka.common.TopicPartition> tps, akka.kafka.RestrictedConsumer c) {
                assigned.addAll(tps);
            }

            @Override
            public void onRevoke(java.util.Set<org.apache.kafka.common.TopicPartition> tps, akka.kafka.RestrictedConsumer c) {
                assigned.removeAll(tps);
            }

            @Override
            public void onLost(java.util.Set<org.apache.kafka.common.TopicPartition> tps, akka.kafka.RestrictedConsumer c) {
                assigned.removeAll(tps);
            }

            @Override
            public void onStop(java.util.Set<org.apache.kafka.common.TopicPartition> tps, akka.kafka.RestrictedConsumer c) {
                assigned.removeAll(tps);
            }
        };
    }

    /** False when the stream has been down (failing to run) for longer than {@link #UNHEALTHY_AFTER}. */
    public boolean healthy() {
        return supervisor == null || supervisor.healthy();
    }

    public void start(Recalibrator recalibrator, ResultListener listener) {
        ServeSettings.Kafka k = settings.kafka();
        ConsumerSettings<String, byte[]> consumerBase = ConsumerSettings.create(system, new StringDeserializer(),
                        new ByteArrayDeserializer())
                .withBootstrapServers(bootstrap).withGroupId(k.groupId())
                .withProperties(k.instanceId().isEmpty() ? java.util.Map.of()
                        : java.util.Map.of(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, k.instanceId()))
                .withProperty(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, k.client().autoOffsetReset())
                .withProperty(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, Integer.toString(k.client().maxPollRecords()))
                .withProperty(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, Long.toString(k.client().sessionTimeout().toMillis()));
        // each stream run's clients report their own metrics (fetch and request rates, lag, errors)
        var consumers = consumerBase.consumerFactory();
        ConsumerSettings<String, byte[]> consumer = consumerBase.withConsumerFactory(cs -> {
            org.apache.kafka.clients.consumer.Consumer<String, byte[]> c = consumers.apply(cs);
            metrics.kafkaClient("consumer", new io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics(c));
            return c;
        });
        ProducerSettings<String, byte[]> producerBase = ProducerSettings.create(system, new StringSerializer(),
                        new ByteArraySerializer())
                .withBootstrapServers(bootstrap)
                .withProperty(ProducerConfig.LINGER_MS_CONFIG, Long.toString(k.client().producerLinger().toMillis()))
                // results sent but not acknowledged: bounded like the pool, so a crash's duplicates are bounded
                .withParallelism(settings.pool().parallelism());
        var producers = producerBase.producerFactory();
        ProducerSettings<String, byte[]> producer = producerBase.withProducerFactory(ps -> {
            org.apache.kafka.clients.producer.Producer<String, byte[]> p = producers.apply(ps);
            metrics.kafkaClient("producer", new io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics(p));
            return p;
        });
        CommitterSettings committer = CommitterSettings.create(system).withMaxBatch(k.client().commitMaxBatch())
                .withMaxInterval(k.client().commitMaxInterval()).withParallelism(k.client().commitParallelism());
        AtomicLong sampled = new AtomicLong();
        int every = settings.calibration().sampleEvery();
        Flow<Tagged<KafkaFrames.Decoded>, Tagged<KafkaFrames.Decoded>, NotUsed> tap =
                Flow.<Tagged<KafkaFrames.Decoded>>create()
                        .map(t -> {
                            metrics.frameIn();
                            if (!t.value().ok()) {
                                metrics.failed(t.value().rejection().reason());
                            }
                            return t;
                        })
                        .alsoTo(Flow.<Tagged<KafkaFrames.Decoded>>create()
                                .filter(t -> t.value().ok() && sampled.incrementAndGet() % every == 0)
                                .map(t -> t.value().frame())
                                .buffer(1024, OverflowStrategy.dropHead())
                                .async()
                                .filter(recalibrator::fitsServingModel)
                                .alsoTo(Sink.foreach(recalibrator::remember))
                                .map(Frame::pixels)
                                .via(CalibrationStages.windowsOf(() -> pool.current().model(),
                                        settings.calibration().window()))
                                .via(CalibrationStages.driftChecks(settings.calibration().psiThreshold(),
                                        recalibrator::referenceFor))
                                .to(Sink.foreach(recalibrator::onWindow)))
                        .named("metrics-and-calibration-tap");
        supervisor = new RestartingStream(() -> {
            Consumer.DrainingControl<Done> control = KafkaFrames.atLeastOnce(consumer, k.framesTopic(), codec,
                    k.deadLetterTopic(), tap, settings.pool().parallelism(), d -> process(d, listener), producer,
                    committer, assignments()).run(system);
            return new RestartingStream.Run() {
                @Override
                public CompletionStage<?> completion() {
                    return control.streamCompletion();
                }

                @Override
                public CompletionStage<?> stop() {
                    return control.drainAndShutdown(system.dispatcher());
                }
            };
        }, e -> {
            Throwable cause = e instanceof java.util.concurrent.CompletionException && e.getCause() != null ? e.getCause() : e;
            System.err.println("dova: the stream failed and restarts with back-off: " + cause);
            metrics.streamRestart(cause.getClass().getSimpleName());
        }, MIN_BACKOFF, MAX_BACKOFF, UNHEALTHY_AFTER, System::nanoTime);
        metrics.assignedPartitions(this::assignedPartitions);
        supervisor.start();
        lagPoller = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "consumer-lag");
            t.setDaemon(true);
            return t;
        });
        lagPoller.scheduleWithFixedDelay(this::pollLag, 2, 2, TimeUnit.SECONDS);
    }

    private CompletionStage<ProducerRecord<String, byte[]>> process(KafkaFrames.Decoded d, ResultListener listener) {
        Frame f = d.frame();
        dova.sim.model.TensorSpec in = pool.current().model().inputSpec();
        // the whole shape, not the pixel count: a 56x14 or 784x1 frame is not a 28x28 one
        if (f.channels() != in.channels() || f.height() != in.height() || f.width() != in.width()
                || f.pixels().length != in.size()) {
            metrics.failed(RejectReason.MODEL_INPUT_MISMATCH);
            return CompletableFuture.completedFuture(KafkaFrames.deadLetter(settings.kafka().deadLetterTopic(), d.record(),
                    RejectReason.MODEL_INPUT_MISMATCH, f.width() + "x" + f.height() + "x" + f.channels() + " frame, the model takes "
                            + pool.current().model().inputSpec().shape()));
        }
        return pool.submit(f.pixels()).handle((inf, err) -> {
            if (err != null) {
                metrics.failed(RejectReason.PROCESSING_FAILED);
                return KafkaFrames.deadLetter(settings.kafka().deadLetterTopic(), d.record(), RejectReason.PROCESSING_FAILED,
                        String.valueOf(err.getMessage()));
            }
            long e2e = (System.currentTimeMillis() - f.captureMillis()) * 1_000_000L;
            metrics.resultOut(inf.modelVersion(), e2e, inf.queueNanos(), inf.computeNanos(), inf.simulatedCycles());
            // recalibration keeps the layer list, so the serving model's names fit any version's counts
            metrics.overflow(inf.modelVersion(), pool.current().layerNames(), inf.layerOverflowEvents());
            if (f.labelled()) {
                metrics.labelledResult(inf.predicted() == f.label());
            }
            if (listener != null) {
                listener.onResult(f, inf, e2e);
            }
            return new ProducerRecord<>(settings.kafka().resultsTopic(), f.cameraId(), result(f, inf, e2e));
        });
    }

    private byte[] result(Frame f, Inference inf, long e2eNanos) {
        ObjectNode o = json.createObjectNode();
        o.put("camera", f.cameraId());
        o.put("frameId", f.frameId());
        o.put("class", inf.predicted());
        ArrayNode scores = o.putArray("scores");
        for (int v : inf.logits()) {
            scores.add(v * inf.logitScale());
        }
        if (f.labelled()) {
            o.put("label", f.label());
        }
        o.put("modelVersion", inf.modelVersion());
        o.put("processor", inf.processor());
        o.put("latencyMs", e2eNanos / 1e6);
        o.put("overflowEvents", inf.overflowEvents());
        return o.toString().getBytes(StandardCharsets.UTF_8);
    }

    private void pollLag() {
        KafkaAdmin.Lag lag = admin.lag(settings.kafka().groupId());
        if (lag.known()) {
            metrics.consumerLag(lag.frames());
        } else {
            metrics.lagPollFailed();
        }
    }

    /** Stops consuming, lets every frame in flight finish and commit, then shuts down. */
    public void drainAndStop() {
        draining = true;
        if (lagPoller != null) {
            lagPoller.shutdownNow();
        }
        if (supervisor != null) {
            try {
                supervisor.stop().toCompletableFuture().get(settings.kafka().client().drainTimeout().toMillis(),
                        TimeUnit.MILLISECONDS);
            } catch (Exception e) {
                throw new IllegalStateException("stream did not drain within " + settings.kafka().client().drainTimeout()
                        + " (dova.kafka.drain-timeout): " + e.getMessage(), e);
            }
        }
    }

    @Override
    public void close() {
        drainAndStop();
    }
}
