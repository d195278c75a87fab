package dova.ingest.kafka;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.Test;

/** A dead letter always fits the producer: the original bytes when they do, a bounded form when they would not. */
class DeadLetterTest {
    private static long size(ProducerRecord<String, byte[]> r) {
        long n = r.value().length + (r.key() == null ? 0 : r.key().length());
        for (Header h : r.headers()) {
            n += h.key().length() + h.value().length;
        }
        return n;
    }

    @Test
    void smallRecordsKeepTheirBytes() {
        byte[] v = new byte[5000];
        Arrays.fill(v, (byte) 3);
        ProducerRecord<String, byte[]> d = KafkaFrames.deadLetter("dlq", new ConsumerRecord<>("f", 1, 9L, "cam", v), dova.ingest.frame.RejectReason.BAD_MAGIC,
                "x");
        assertArrayEquals(v, d.value());
        assertNull(d.headers().lastHeader(KafkaFrames.ORIGINAL_LENGTH_HEADER));
    }

    @Test
    void aRecordNearTheProducerLimitBecomesABoundedDeadLetter() throws Exception {
        byte[] v = new byte[1_048_376];
        Arrays.fill(v, (byte) 1);
        String longDetail = "y".repeat(100_000);
        ProducerRecord<String, byte[]> d = KafkaFrames.deadLetter("dlq", new ConsumerRecord<>("f", 0, 5L, "cam", v), dova.ingest.frame.RejectReason.BAD_MAGIC,
                longDetail);
        assertTrue(size(d) < 1_048_576 - 1024, "dead letter of " + size(d) + " bytes");
        assertEquals(KafkaFrames.DEAD_LETTER_PREFIX_BYTES, d.value().length);
        assertArrayEquals(Arrays.copyOf(v, KafkaFrames.DEAD_LETTER_PREFIX_BYTES), d.value());
        assertEquals("1048376", new String(d.headers().lastHeader(KafkaFrames.ORIGINAL_LENGTH_HEADER).value(),
                StandardCharsets.UTF_8));
        String sha = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(v));
        assertEquals(sha, new String(d.headers().lastHeader(KafkaFrames.ORIGINAL_SHA256_HEADER).value(), StandardCharsets.UTF_8));
        assertTrue(d.headers().lastHeader(KafkaFrames.DETAIL_HEADER).value().length <= KafkaFrames.MAX_DETAIL_CHARS + 3);
        assertEquals("f-0@5", new String(d.headers().lastHeader(KafkaFrames.SOURCE_HEADER).value(), StandardCharsets.UTF_8));
    }
}
