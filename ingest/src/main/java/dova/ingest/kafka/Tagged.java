package dova.ingest.kafka;

import akka.kafka.ConsumerMessage;

/** A value travelling through the stream with the Kafka offset to commit once its result is written. */
public record Tagged<T>(T value, ConsumerMessage.CommittableOffset offset) {
    public <U> Tagged<U> with(U other) {
        return new Tagged<>(other, offset);
    }
}
