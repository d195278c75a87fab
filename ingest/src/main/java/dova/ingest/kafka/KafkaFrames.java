package dova.ingest.kafka;

import akka.Done;
import akka.NotUsed;
import akka.kafka.CommitterSettings;
import akka.kafka.ConsumerMessage;
import akka.kafka.ConsumerSettings;
import akka.kafka.ProducerMessage;
import akka.kafka.ProducerSettings;
import akka.kafka.Subscriptions;
import akka.kafka.javadsl.Consumer;
import akka.kafka.javadsl.Producer;
import akka.stream.javadsl.Flow;
import akka.stream.javadsl.RunnableGraph;
import dova.ingest.frame.RejectReason;
import akka.stream.javadsl.Sink;
import dova.ingest.frame.Frame;
import dova.ingest.frame.FrameCodec;
import dova.ingest.frame.FrameRejectedException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * Kafka camera streams as Akka Streams stages, at-least-once:
 *
 * <pre>
 * committableSource(frames)
 *   -> decode + validate ---- reject ----> dead-letter record (original bytes, reason header)
 *   -> process (mapAsync, ordered) ------> result record
 *   -> Producer.committableSink: each offset is committed only after its record is written
 * </pre>
 *
 * Rejects and results flow through one ordered stream, so an offset is never committed before
 * the output of every earlier frame of its partition has been written.
 */
public final class KafkaFrames {
    /** Header of a dead-letter record: the {@link dova.ingest.frame.RejectReason} name. */
    public static final String REASON_HEADER = "dova-reject-reason";
    /** Header of a dead-letter record: the human-readable detail. */
    public static final String DETAIL_HEADER = "dova-reject-detail";
    /** Header of a dead-letter record: source topic-partition@offset. */
    public static final String SOURCE_HEADER = "dova-source";
    /** Header of a bounded dead letter: the original value's length in bytes (decimal). */
    public static final String ORIGINAL_LENGTH_HEADER = "dova-original-length";
    /** Header of a bounded dead letter: the original value's SHA-256 (hex). */
    public static final String ORIGINAL_SHA256_HEADER = "dova-original-sha256";
    /**
     * Largest dead letter (key + value + headers) written with the original bytes. A record just
     * under the producer's default {@code max.request.size} (1,048,576 bytes) would exceed it once
     * the headers are added and fail the whole stream; above this bound the dead letter keeps the
     * first {@link #DEAD_LETTER_PREFIX_BYTES} bytes and names the original's length and hash.
     */
    public static final int MAX_DEAD_LETTER_BYTES = 960 * 1024;
    /** Bytes of the original value a bounded dead letter keeps. */
    public static final int DEAD_LETTER_PREFIX_BYTES = 64 * 1024;
    /** Longest detail header kept (characters). */
    static final int MAX_DETAIL_CHARS = 1000;

    private KafkaFrames() {
    }

    /** A decoded frame or the rejection of a record, with the record itself. */
    public record Decoded(ConsumerRecord<String, byte[]> record, Frame frame, FrameRejectedException rejection) {
        public boolean ok() {
            return frame != null;
        }
    }

    public static Flow<ConsumerMessage.CommittableMessage<String, byte[]>, Tagged<Decoded>, NotUsed> decode(FrameCodec codec) {
        return Flow.<ConsumerMessage.CommittableMessage<String, byte[]>>create().map(msg -> {
            ConsumerRecord<String, byte[]> r = msg.record();
            Decoded d;
            try {
                d = new Decoded(r, codec.decode(r.key(), r.value()), null);
            } catch (FrameRejectedException e) {
                d = new Decoded(r, null, e);
            }
            return new Tagged<>(d, msg.committableOffset());
        }).named("decode");
    }

    /** The dead-letter record of a rejected frame: same key and bytes, reason in the headers. */
    public static ProducerRecord<String, byte[]> deadLetter(String topic, Decoded d) {
        return deadLetter(topic, d.record(), d.rejection().reason(), d.rejection().getMessage());
    }

    /**
     * A dead-letter record for {@code r} with any reason (e.g. a frame the model cannot take): the
     * same key and bytes, or, when that would exceed {@link #MAX_DEAD_LETTER_BYTES}, a bounded form
     * (a prefix of the value, its original length and SHA-256 in headers), so that a dead letter
     * can always be written and its partition never blocks.
     */
    public static ProducerRecord<String, byte[]> deadLetter(String topic, ConsumerRecord<String, byte[]> r,
                                                            RejectReason reason, String detail) {
        String d = detail == null ? "" : detail.length() > MAX_DETAIL_CHARS ? detail.substring(0, MAX_DETAIL_CHARS) + "..." : detail;
        RecordHeaders h = new RecordHeaders();
        h.add(REASON_HEADER, reason.name().getBytes(StandardCharsets.UTF_8));
        h.add(DETAIL_HEADER, d.getBytes(StandardCharsets.UTF_8));
        h.add(SOURCE_HEADER, (r.topic() + "-" + r.partition() + "@" + r.offset()).getBytes(StandardCharsets.UTF_8));
        byte[] value = r.value();
        long size = (r.key() == null ? 0 : r.key().length() * 4L) + (value == null ? 0 : value.length) + 4096;
        if (value != null && size > MAX_DEAD_LETTER_BYTES) {
            h.add(ORIGINAL_LENGTH_HEADER, Integer.toString(value.length).getBytes(StandardCharsets.UTF_8));
            h.add(ORIGINAL_SHA256_HEADER, sha256Hex(value).getBytes(StandardCharsets.UTF_8));
            value = java.util.Arrays.copyOf(value, Math.min(value.length, DEAD_LETTER_PREFIX_BYTES));
        }
        return new ProducerRecord<>(topic, null, r.key(), value, h);
    }

    private static String sha256Hex(byte[] v) {
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(v));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }

    /**
     * The whole at-least-once graph. {@code process} turns a valid frame into its output record
     * (asynchronously, from the decoded record; at most {@code parallelism} frames in flight, results kept in order).
     * Run it and stop it with {@code control.drainAndShutdown(executor)}.
     */
    public static RunnableGraph<Consumer.DrainingControl<Done>> atLeastOnce(
            ConsumerSettings<String, byte[]> consumer, String framesTopic, FrameCodec codec, String deadLetterTopic,
            Flow<Tagged<Decoded>, Tagged<Decoded>, NotUsed> tap, int parallelism,
            Function<Decoded, CompletionStage<ProducerRecord<String, byte[]>>> process,
            ProducerSettings<String, byte[]> producer, CommitterSettings committer) {
        return atLeastOnce(consumer, framesTopic, codec, deadLetterTopic, tap, parallelism, process, producer, committer, null);
    }

    /** As above; {@code assignments}, when non-null, hears of every partition assigned, revoked or lost. */
    public static RunnableGraph<Consumer.DrainingControl<Done>> atLeastOnce(
            ConsumerSettings<String, byte[]> consumer, String framesTopic, FrameCodec codec, String deadLetterTopic,
            Flow<Tagged<Decoded>, Tagged<Decoded>, NotUsed> tap, int parallelism,
            Function<Decoded, CompletionStage<ProducerRecord<String, byte[]>>> process,
            ProducerSettings<String, byte[]> producer, CommitterSettings committer,
            akka.kafka.javadsl.PartitionAssignmentHandler assignments) {
        akka.kafka.AutoSubscription subscription = Subscriptions.topics(framesTopic);
        if (assignments != null) {
            subscription = subscription.withPartitionAssignmentHandler(assignments);
        }
        return Consumer.committableSource(consumer, subscription)
                .via(decode(codec))
                .via(tap)
                .mapAsync(parallelism, t -> {
                    CompletionStage<ProducerRecord<String, byte[]>> out = t.value().ok()
                            ? process.apply(t.value())
                            : CompletableFuture.completedFuture(deadLetter(deadLetterTopic, t.value()));
                    return out.thenApply(rec -> ProducerMessage.<String, byte[], ConsumerMessage.Committable>single(rec,
                            t.offset()));
                })
                .toMat(Producer.committableSink(producer, committer), Consumer::createDrainingControl);
    }

    /** A tap that does nothing. */
    public static Flow<Tagged<Decoded>, Tagged<Decoded>, NotUsed> noTap() {
        return Flow.create();
    }

    /** Sink that ignores everything (for taps whose statistics live elsewhere). */
    public static <T> Sink<T, CompletionStage<Done>> ignore() {
        return Sink.ignore();
    }
}
