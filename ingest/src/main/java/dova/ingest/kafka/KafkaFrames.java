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
        return deadLetter(topic, d.record(), d.rejection().reason().name(), d.rejection().getMessage());
    }

    /** A dead-letter record for {@code r} with any reason (e.g. a frame the model cannot take). */
    public static ProducerRecord<String, byte[]> deadLetter(String topic, ConsumerRecord<String, byte[]> r, String reason,
                                                            String detail) {
        RecordHeaders h = new RecordHeaders();
        h.add(REASON_HEADER, reason.getBytes(StandardCharsets.UTF_8));
        h.add(DETAIL_HEADER, detail.getBytes(StandardCharsets.UTF_8));
        h.add(SOURCE_HEADER, (r.topic() + "-" + r.partition() + "@" + r.offset()).getBytes(StandardCharsets.UTF_8));
        return new ProducerRecord<>(topic, null, r.key(), r.value(), h);
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
        return Consumer.committableSource(consumer, Subscriptions.topics(framesTopic))
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
