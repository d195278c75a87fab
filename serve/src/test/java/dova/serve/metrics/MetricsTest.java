package dova.serve.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.Test;

class MetricsTest {
    /** The value of the one sample {@code name{labels}} in a scrape, or NaN when there is none. */
    static double sample(String scrape, String name, String labels) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name + "{" + labels + "}") + " (\\S+)$").matcher(scrape);
        return m.find() ? Double.parseDouble(m.group(1)) : Double.NaN;
    }

    @Test
    void resultsCarryTheModelAndTheVersionThatComputedThem() {
        Metrics m = new Metrics("lenet", () -> 0);
        m.modelVersion(1, List.of("conv1", "fc"));
        m.resultOut(1, 3_000_000, 1_000_000, 500_000, 1000);
        m.overflow(1, List.of("conv1", "fc"), new long[] {0, 4});
        m.modelVersion(2, List.of("conv1", "fc"));
        String before = m.scrape();
        // the new version's series exist, at zero, before its first result
        assertEquals(0.0, sample(before, "dova_results_out_total", "model=\"lenet\",version=\"2\""), before);
        assertEquals(0.0, sample(before, "dova_overflow_events_total", "layer=\"conv1\",model=\"lenet\",version=\"2\""));
        m.resultOut(2, 2_000_000, 1_000_000, 500_000, 700);
        m.resultOut(2, 2_000_000, 1_000_000, 500_000, 700);
        m.resultOut(1, 9_000_000, 1_000_000, 500_000, 1000); // a frame the old version was computing at the swap
        String s = m.scrape();
        assertEquals(2.0, sample(s, "dova_results_out_total", "model=\"lenet\",version=\"1\""), s);
        assertEquals(2.0, sample(s, "dova_results_out_total", "model=\"lenet\",version=\"2\""));
        assertEquals(1400.0, sample(s, "dova_simulated_cycles_total", "model=\"lenet\",version=\"2\""));
        assertEquals(4.0, sample(s, "dova_overflow_events_total", "layer=\"fc\",model=\"lenet\",version=\"1\""));
        assertEquals(2.0, sample(s, "dova_model_version", "model=\"lenet\""));
        assertEquals(4, m.resultsOut());
        // the SLO's dozen buckets (and +Inf) per version, not Micrometer's default 89
        long buckets = s.lines().filter(l -> l.startsWith("dova_latency_end_to_end_seconds_bucket{")
                && l.contains("version=\"2\"")).count();
        assertEquals(13, buckets, s);
        assertEquals(2.0, sample(s, "dova_latency_end_to_end_seconds_bucket", "model=\"lenet\",version=\"2\",le=\"0.005\""));
        assertThrows(IllegalArgumentException.class, () -> new Metrics(" ", () -> 0));
    }

    @Test
    void kafkaClientsReportTheirOwnMetricsAndARestartedClientReplacesItsPredecessor() {
        Metrics m = new Metrics("lenet", () -> 0);
        Map<String, Object> config = Map.of("bootstrap.servers", "127.0.0.1:9", "group.id", "metrics-test");
        try (KafkaConsumer<byte[], byte[]> first = new KafkaConsumer<>(config, new ByteArrayDeserializer(),
                new ByteArrayDeserializer());
             KafkaConsumer<byte[], byte[]> second = new KafkaConsumer<>(config, new ByteArrayDeserializer(),
                     new ByteArrayDeserializer())) {
            String firstId = first.metrics().keySet().iterator().next().tags().get("client-id");
            String secondId = second.metrics().keySet().iterator().next().tags().get("client-id");
            m.kafkaClient("consumer", new KafkaClientMetrics(first));
            String s = m.scrape();
            assertTrue(s.contains("kafka_consumer_") && s.contains("client_id=\"" + firstId + "\""), s);
            m.kafkaClient("consumer", new KafkaClientMetrics(second));
            s = m.scrape();
            assertTrue(s.contains("client_id=\"" + secondId + "\""), s);
            assertFalse(s.contains("client_id=\"" + firstId + "\""), "the replaced client's meters are gone");
        }
    }
}
