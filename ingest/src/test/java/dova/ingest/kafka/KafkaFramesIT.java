package dova.ingest.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.Done;
import akka.actor.ActorSystem;
import akka.kafka.CommitterSettings;
import akka.kafka.ConsumerSettings;
import akka.kafka.ProducerSettings;
import akka.kafka.javadsl.Consumer;
import dova.ingest.frame.Frame;
import dova.ingest.frame.FrameCodec;
import dova.ingest.frame.FrameCodecTest;
import dova.ingest.frame.PixelFormat;
import dova.ingest.frame.RejectReason;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Frames through a real in-process KRaft broker. */
class KafkaFramesIT {
    static EmbeddedKafka kafka;
    static ActorSystem system;
    static final FrameCodec CODEC = FrameCodec.defaults();

    @BeforeAll
    static void start() throws Exception {
        kafka = EmbeddedKafka.start();
        system = ActorSystem.create("kafka-frames-it");
    }

    @AfterAll
    static void stop() throws Exception {
        system.terminate();
        system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
        kafka.close();
    }

    static void produce(String topic, List<ProducerRecord<String, byte[]>> records) throws Exception {
        Map<String, Object> c = new HashMap<>();
        c.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        try (KafkaProducer<String, byte[]> p = new KafkaProducer<>(c, new StringSerializer(), new ByteArraySerializer())) {
            for (ProducerRecord<String, byte[]> r : records) {
                p.send(r).get();
            }
        }
    }

    static List<ConsumerRecord<String, byte[]>> consumeAll(String topic, int expected) {
        Map<String, Object> c = new HashMap<>();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        c.put(ConsumerConfig.GROUP_ID_CONFIG, "reader-" + UUID.randomUUID());
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        List<ConsumerRecord<String, byte[]>> out = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> k = new KafkaConsumer<>(c, new StringDeserializer(), new ByteArrayDeserializer())) {
            k.subscribe(List.of(topic));
            long deadline = System.currentTimeMillis() + 30_000;
            while (out.size() < expected && System.currentTimeMillis() < deadline) {
                k.poll(Duration.ofMillis(200)).forEach(out::add);
            }
            // a little longer, to catch records beyond the expected count
            k.poll(Duration.ofMillis(300)).forEach(out::add);
        }
        return out;
    }

    /** Result record: key camera, value "frameId". */
    static CompletableFuture<ProducerRecord<String, byte[]>> echo(String topic, Frame f) {
        return CompletableFuture.completedFuture(new ProducerRecord<>(topic, f.cameraId(),
                Long.toString(f.frameId()).getBytes(StandardCharsets.UTF_8)));
    }

    static Consumer.DrainingControl<Done> run(String frames, String results, String dlq, String group) {
        ConsumerSettings<String, byte[]> cs = ConsumerSettings.create(system, new StringDeserializer(),
                new ByteArrayDeserializer()).withBootstrapServers(kafka.bootstrapServers()).withGroupId(group)
                .withProperty(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        ProducerSettings<String, byte[]> ps = ProducerSettings.create(system, new StringSerializer(),
                new ByteArraySerializer()).withBootstrapServers(kafka.bootstrapServers());
        return KafkaFrames.atLeastOnce(cs, frames, CODEC, dlq, KafkaFrames.noTap(), 4, d -> echo(results, d.frame()), ps,
                CommitterSettings.create(system)).run(system);
    }

    static Set<String> values(List<ConsumerRecord<String, byte[]>> records) {
        Set<String> s = new HashSet<>();
        records.forEach(r -> s.add(new String(r.value(), StandardCharsets.UTF_8)));
        return s;
    }

    @Test
    void goodFramesFlowAndEveryCorruptKindLandsInTheDeadLetterTopicWithItsReason() throws Exception {
        String frames = "frames-a";
        String results = "results-a";
        String dlq = "dead-a";
        kafka.createTopics(2, frames, results, dlq);
        List<ProducerRecord<String, byte[]>> records = new ArrayList<>();
        Map<RejectReason, byte[]> bad = new HashMap<>();
        byte[] good = CODEC.encode(FrameCodecTest.frame(1, 28, 28, 1, 1), PixelFormat.RAW8);
        bad.put(RejectReason.TRUNCATED, Arrays.copyOf(good, 20));
        byte[] version = good.clone();
        version[2] = 5;
        bad.put(RejectReason.UNKNOWN_VERSION, version);
        byte[] dims = good.clone();
        ByteBuffer.wrap(dims).putShort(20, (short) 27);
        bad.put(RejectReason.WRONG_DIMENSIONS, dims);
        byte[] huge = good.clone();
        ByteBuffer.wrap(huge).putInt(27, Integer.MAX_VALUE);
        bad.put(RejectReason.OVERSIZED, huge);
        byte[] png = CODEC.encode(FrameCodecTest.frame(2, 28, 28, 1, 2), PixelFormat.PNG);
        png[FrameCodec.HEADER_BYTES + 2] = 0;
        bad.put(RejectReason.UNDECODABLE_IMAGE, png);
        int n = 0;
        for (int i = 0; i < 40; i++) {
            PixelFormat f = i % 2 == 0 ? PixelFormat.RAW8 : PixelFormat.PNG;
            records.add(new ProducerRecord<>(frames, "cam-" + (i % 3), CODEC.encode(FrameCodecTest.frame(i, 28, 28, 1, i), f)));
            n++;
            if (i % 8 == 3) {
                RejectReason r = new ArrayList<>(bad.keySet()).get((i / 8) % bad.size());
                records.add(new ProducerRecord<>(frames, "cam-x", bad.get(r)));
            }
        }
        produce(frames, records);
        Consumer.DrainingControl<Done> control = run(frames, results, dlq, "g-a");
        List<ConsumerRecord<String, byte[]>> out = consumeAll(results, n);
        List<ConsumerRecord<String, byte[]>> dead = consumeAll(dlq, records.size() - n);
        control.drainAndShutdown(system.dispatcher()).toCompletableFuture().get(30, TimeUnit.SECONDS);
        assertEquals(n, out.size(), "every good frame produces exactly one result");
        Set<String> expected = new HashSet<>();
        for (int i = 0; i < 40; i++) {
            expected.add(Integer.toString(i));
        }
        assertEquals(expected, values(out));
        assertEquals(records.size() - n, dead.size());
        Set<String> reasons = new HashSet<>();
        for (ConsumerRecord<String, byte[]> d : dead) {
            String reason = new String(d.headers().lastHeader(KafkaFrames.REASON_HEADER).value(), StandardCharsets.UTF_8);
            reasons.add(reason);
            assertTrue(Arrays.equals(bad.get(RejectReason.valueOf(reason)), d.value()), "original bytes kept for " + reason);
            assertTrue(d.headers().lastHeader(KafkaFrames.SOURCE_HEADER) != null);
        }
        assertEquals(bad.size(), reasons.size(), "all five corruption kinds seen: " + reasons);
    }

    @Test
    void aConsumerRestartedMidStreamResumesWithNothingLost() throws Exception {
        String frames = "frames-b";
        String results = "results-b";
        String dlq = "dead-b";
        kafka.createTopics(2, frames, results, dlq);
        List<ProducerRecord<String, byte[]>> first = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            first.add(new ProducerRecord<>(frames, "cam-" + (i % 2), CODEC.encode(FrameCodecTest.frame(i, 28, 28, 1, i),
                    PixelFormat.RAW8)));
        }
        produce(frames, first);
        Consumer.DrainingControl<Done> control = run(frames, results, dlq, "g-b");
        consumeAll(results, 30);
        control.drainAndShutdown(system.dispatcher()).toCompletableFuture().get(30, TimeUnit.SECONDS);
        // more frames arrive while no consumer runs
        List<ProducerRecord<String, byte[]>> second = new ArrayList<>();
        for (int i = 30; i < 60; i++) {
            second.add(new ProducerRecord<>(frames, "cam-" + (i % 2), CODEC.encode(FrameCodecTest.frame(i, 28, 28, 1, i),
                    PixelFormat.RAW8)));
        }
        produce(frames, second);
        Consumer.DrainingControl<Done> again = run(frames, results, dlq, "g-b");
        List<ConsumerRecord<String, byte[]>> out = consumeAll(results, 60);
        again.drainAndShutdown(system.dispatcher()).toCompletableFuture().get(30, TimeUnit.SECONDS);
        Set<String> ids = values(out);
        for (int i = 0; i < 60; i++) {
            assertTrue(ids.contains(Integer.toString(i)), "frame " + i + " lost");
        }
        // at-least-once: duplicates are allowed, but committed frames are not redone wholesale
        assertTrue(out.size() < 90, "the restarted consumer resumed from the committed offsets, got " + out.size());
    }

    @Test
    void fourCamerasUseAllFourPartitionsAndEachCameraStaysOnOne() throws Exception {
        String topic = "frames-cams";
        kafka.createTopics(4, topic);
        byte[] px = new byte[10 * 784];
        new java.util.Random(3).nextBytes(px);
        dova.sim.data.LabelledImages data = new dova.sim.data.LabelledImages("random", 10, 28, 28, px, new byte[10]);
        dova.ingest.replay.CameraReplayer r = new dova.ingest.replay.CameraReplayer(new dova.ingest.replay.CameraReplayer.Settings(
                kafka.bootstrapServers(), topic, 4, 10_000, true, 80, dova.ingest.replay.Drift.NONE, Duration.ofHours(1), 0,
                PixelFormat.RAW8, 1, true), data);
        r.run();
        Map<Integer, Set<String>> camerasByPartition = new HashMap<>();
        for (ConsumerRecord<String, byte[]> rec : consumeAll(topic, 80)) {
            camerasByPartition.computeIfAbsent(rec.partition(), p -> new HashSet<>()).add(rec.key());
        }
        assertEquals(4, camerasByPartition.size(), "partitions used: " + camerasByPartition);
        camerasByPartition.values().forEach(c -> assertEquals(1, c.size(), "one camera per partition: " + camerasByPartition));
    }
}
