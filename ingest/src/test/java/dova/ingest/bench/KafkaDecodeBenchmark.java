package dova.ingest.bench;

import akka.Done;
import akka.actor.ActorSystem;
import akka.kafka.ConsumerSettings;
import akka.kafka.Subscriptions;
import akka.kafka.javadsl.Consumer;
import akka.stream.javadsl.Sink;
import dova.ingest.frame.Frame;
import dova.ingest.frame.FrameCodec;
import dova.ingest.frame.PixelFormat;
import dova.ingest.kafka.EmbeddedKafka;
import dova.ingest.kafka.KafkaFrames;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Frames per second of Kafka -> committable source -> decode + validate -> sink, on the
 * embedded broker, for raw and PNG 28x28 frames (backlog drained as fast as possible).
 *   scripts/run-test-main.sh ingest dova.ingest.bench.KafkaDecodeBenchmark [frames]
 */
public final class KafkaDecodeBenchmark {
    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            ActorSystem system = ActorSystem.create("bench");
            FrameCodec codec = FrameCodec.defaults();
            for (PixelFormat format : new PixelFormat[] {PixelFormat.RAW8, PixelFormat.PNG}) {
                String topic = "bench-" + format.name().toLowerCase(Locale.ROOT);
                kafka.createTopics(4, topic);
                Map<String, Object> pc = new HashMap<>();
                pc.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
                pc.put(ProducerConfig.LINGER_MS_CONFIG, 5);
                pc.put(ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024);
                Random r = new Random(1);
                long p0 = System.nanoTime();
                try (KafkaProducer<String, byte[]> p = new KafkaProducer<>(pc, new StringSerializer(), new ByteArraySerializer())) {
                    for (int i = 0; i < n; i++) {
                        byte[] px = new byte[784];
                        for (int k = 0; k < 784; k += 7) {
                            px[k] = (byte) r.nextInt(256);
                        }
                        p.send(new ProducerRecord<>(topic, "cam-" + (i % 8), codec.encode(
                                new Frame("cam-" + (i % 8), i, System.currentTimeMillis(), 28, 28, 1, px, i % 10), format)));
                    }
                }
                double produceSeconds = (System.nanoTime() - p0) / 1e9;
                ConsumerSettings<String, byte[]> cs = ConsumerSettings.create(system, new StringDeserializer(),
                                new ByteArrayDeserializer()).withBootstrapServers(kafka.bootstrapServers())
                        .withGroupId("bench-" + format).withProperty(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest")
                        .withProperty(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "1000");
                long t0 = System.nanoTime();
                Done done = Consumer.committableSource(cs, Subscriptions.topics(topic))
                        .via(KafkaFrames.decode(codec))
                        .take(n)
                        .runWith(Sink.ignore(), system).toCompletableFuture().get(10, TimeUnit.MINUTES);
                double seconds = (System.nanoTime() - t0) / 1e9;
                System.out.printf(Locale.ROOT, "%s: produced %d frames in %.2f s (%.0f frames/s); consumed + decoded in %.2f s:"
                        + " %.0f frames/s%n", format, n, produceSeconds, n / produceSeconds, seconds, n / seconds);
            }
            system.terminate();
            system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
        }
    }
}
