package dova.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Schema-level checks of every manifest, and of the rendered overlays. */
class ManifestsTest {
    static final Path K8S = Path.of(System.getProperty("user.dir"));
    static final Map<String, String> API_VERSIONS = Map.ofEntries(
            Map.entry("Namespace", "v1"), Map.entry("ConfigMap", "v1"), Map.entry("Service", "v1"),
            Map.entry("Deployment", "apps/v1"), Map.entry("PodDisruptionBudget", "policy/v1"),
            Map.entry("ServiceMonitor", "monitoring.coreos.com/v1"), Map.entry("PodMonitor", "monitoring.coreos.com/v1"), Map.entry("PrometheusRule", "monitoring.coreos.com/v1"),
            Map.entry("ScaledObject", "keda.sh/v1alpha1"), Map.entry("Kafka", "kafka.strimzi.io/v1beta2"),
            Map.entry("KafkaNodePool", "kafka.strimzi.io/v1beta2"), Map.entry("KafkaTopic", "kafka.strimzi.io/v1beta2"),
            Map.entry("Kustomization", "kustomize.config.k8s.io/v1beta1"));
    static final Pattern DNS1123 = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");

    static ObjectNode one(List<ObjectNode> docs, String kind, String name) {
        return docs.stream().filter(d -> kind.equals(d.path("kind").asText()) && name.equals(d.path("metadata")
                .path("name").asText())).findFirst().orElseThrow(() -> new AssertionError("no " + kind + "/" + name));
    }

    static ObjectNode one(List<ObjectNode> docs, String kind) {
        List<ObjectNode> all = docs.stream().filter(d -> kind.equals(d.path("kind").asText())).toList();
        assertEquals(1, all.size(), "exactly one " + kind);
        return all.get(0);
    }

    static boolean subset(JsonNode selector, JsonNode labels) {
        for (var it = selector.fields(); it.hasNext(); ) {
            var e = it.next();
            if (!e.getValue().equals(labels.path(e.getKey()))) {
                return false;
            }
        }
        return selector.size() > 0;
    }

    @Test
    void everyYamlFileParsesAndEveryObjectIsWellFormed() throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.walk(K8S.resolve("base"))) {
            files = new java.util.ArrayList<>(s.filter(p -> p.toString().endsWith(".yaml")).toList());
        }
        try (Stream<Path> s = Files.walk(K8S.resolve("overlays"))) {
            files.addAll(s.filter(p -> p.toString().endsWith(".yaml")).toList());
        }
        assertTrue(files.size() >= 14, "manifests found: " + files);
        for (Path f : files) {
            for (ObjectNode d : Kustomize.parseAll(f)) {
                String kind = d.path("kind").asText();
                assertTrue(API_VERSIONS.containsKey(kind), f + ": unexpected kind " + kind);
                assertEquals(API_VERSIONS.get(kind), d.path("apiVersion").asText(), f + ": apiVersion of " + kind);
                if (!"Kustomization".equals(kind)) {
                    String name = d.path("metadata").path("name").asText();
                    assertTrue(DNS1123.matcher(name).matches() && name.length() <= 63, f + ": name '" + name + "'");
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"base", "overlays/dev", "overlays/prod"})
    void renderedSetIsConsistent(String dir) throws IOException {
        List<ObjectNode> docs = Kustomize.render(K8S.resolve(dir));
        Set<String> seen = new HashSet<>();
        for (ObjectNode d : docs) {
            assertTrue(seen.add(d.path("kind").asText() + "/" + d.path("metadata").path("name").asText()), "duplicate " + d);
        }
        ObjectNode deployment = one(docs, "Deployment", "dova-serve");
        JsonNode spec = deployment.path("spec");
        JsonNode podLabels = spec.path("template").path("metadata").path("labels");
        assertTrue(subset(spec.path("selector").path("matchLabels"), podLabels), "selector matches the pod template");
        JsonNode pod = spec.path("template").path("spec");
        assertTrue(pod.path("securityContext").path("runAsNonRoot").asBoolean(), "non-root");
        JsonNode container = pod.path("containers").get(0);
        assertTrue(container.path("securityContext").path("readOnlyRootFilesystem").asBoolean(), "read-only root");
        assertFalse(container.path("securityContext").path("allowPrivilegeEscalation").asBoolean(true));
        Set<String> ports = new HashSet<>();
        container.path("ports").forEach(p -> ports.add(p.path("name").asText()));
        assertEquals("/health", container.path("livenessProbe").path("httpGet").path("path").asText());
        assertEquals("/ready", container.path("readinessProbe").path("httpGet").path("path").asText());
        assertTrue(ports.contains(container.path("livenessProbe").path("httpGet").path("port").asText()));
        assertTrue(ports.contains(container.path("readinessProbe").path("httpGet").path("port").asText()));
        for (String r : List.of("cpu", "memory")) {
            assertTrue(container.path("resources").path("requests").has(r), "request " + r);
            assertTrue(container.path("resources").path("limits").has(r), "limit " + r);
        }
        assertTrue(quantity(container.path("resources").path("requests").path("memory").asText())
                <= quantity(container.path("resources").path("limits").path("memory").asText()), "memory request <= limit");
        assertTrue(cpu(container.path("resources").path("requests").path("cpu").asText())
                <= cpu(container.path("resources").path("limits").path("cpu").asText()), "cpu request <= limit");
        Set<String> volumes = new HashSet<>();
        pod.path("volumes").forEach(v -> volumes.add(v.path("name").asText()));
        container.path("volumeMounts").forEach(m -> assertTrue(volumes.contains(m.path("name").asText()), m.toString()));
        String cmName = container.path("envFrom").get(0).path("configMapRef").path("name").asText();
        ObjectNode cm = one(docs, "ConfigMap", cmName);

        ObjectNode service = one(docs, "Service");
        assertTrue(subset(service.path("spec").path("selector"), podLabels), "service selects the pods");
        assertTrue(ports.contains(service.path("spec").path("ports").get(0).path("targetPort").asText()));
        ObjectNode monitor = one(docs, "ServiceMonitor");
        assertTrue(subset(monitor.path("spec").path("selector").path("matchLabels"), service.path("metadata").path("labels")));
        assertEquals(service.path("spec").path("ports").get(0).path("name").asText(),
                monitor.path("spec").path("endpoints").get(0).path("port").asText());
        assertEquals("/metrics", monitor.path("spec").path("endpoints").get(0).path("path").asText());
        ObjectNode pdb = one(docs, "PodDisruptionBudget");
        assertTrue(subset(pdb.path("spec").path("selector").path("matchLabels"), podLabels));

        ObjectNode scaled = one(docs, "ScaledObject");
        assertEquals("dova-serve", scaled.path("spec").path("scaleTargetRef").path("name").asText());
        JsonNode trigger = scaled.path("spec").path("triggers").get(0);
        assertEquals(cm.path("data").path("DOVA_KAFKA_GROUP_ID").asText(), trigger.path("metadata").path("consumerGroup").asText());
        String topic = trigger.path("metadata").path("topic").asText();
        assertEquals(cm.path("data").path("DOVA_KAFKA_FRAMES_TOPIC").asText(), topic);
        int partitions = one(docs, "KafkaTopic", topic).path("spec").path("partitions").asInt();
        assertTrue(scaled.path("spec").path("maxReplicaCount").asInt() <= partitions,
                "replicas never exceed the partitions of " + topic);
        assertTrue(spec.path("replicas").isMissingNode(), "the replica count belongs to KEDA, not the Deployment");

        String cluster = one(docs, "Kafka").path("metadata").path("name").asText();
        docs.stream().filter(d -> d.path("kind").asText().startsWith("Kafka") && !"Kafka".equals(d.path("kind").asText()))
                .forEach(d -> assertEquals(cluster, d.path("metadata").path("labels").path("strimzi.io/cluster").asText(),
                        d.path("metadata").path("name") + " belongs to the Kafka cluster"));
        for (String t : List.of("DOVA_KAFKA_FRAMES_TOPIC", "DOVA_KAFKA_RESULTS_TOPIC", "DOVA_KAFKA_DEAD_LETTER_TOPIC")) {
            one(docs, "KafkaTopic", cm.path("data").path(t).asText());
        }
        // the recalibration leader's election topic (Application.controlTopic: <frames-topic>-control)
        one(docs, "KafkaTopic", cm.path("data").path("DOVA_KAFKA_FRAMES_TOPIC").asText() + "-control");
        // the replicas' shared calibration windows (Application.calibrationTopic: <frames-topic>-calibration)
        one(docs, "KafkaTopic", cm.path("data").path("DOVA_KAFKA_FRAMES_TOPIC").asText() + "-calibration");
        // the fleet's model registry (Application.modelsTopic: <frames-topic>-models): compacted, one
        // partition, records as large as the largest model record; serve refuses to start on anything else
        JsonNode models = one(docs, "KafkaTopic", cm.path("data").path("DOVA_KAFKA_FRAMES_TOPIC").asText() + "-models");
        assertEquals(1, models.path("spec").path("partitions").asInt());
        assertEquals("compact", models.path("spec").path("config").path("cleanup.policy").asText());
        assertTrue(models.path("spec").path("config").path("max.message.bytes").asLong()
                >= dova.serve.registry.ModelRecord.MAX_BYTES, "max.message.bytes holds a model record");
        JsonNode dashboard = one(docs, "ConfigMap", "dova-grafana-dashboard");
        assertEquals("1", dashboard.path("metadata").path("labels").path("grafana_dashboard").asText());
    }

    @Test
    void overlaysChangeWhatTheySay() throws IOException {
        List<ObjectNode> devDocs = Kustomize.render(K8S.resolve("overlays/dev"));
        List<ObjectNode> prodDocs = Kustomize.render(K8S.resolve("overlays/prod"));
        JsonNode dev = one(devDocs, "Deployment", "dova-serve");
        JsonNode prod = one(prodDocs, "Deployment", "dova-serve");
        assertTrue(dev.path("spec").path("replicas").isMissingNode() && prod.path("spec").path("replicas").isMissingNode(),
                "KEDA owns the replica count");
        assertEquals(1, one(devDocs, "ScaledObject").path("spec").path("maxReplicaCount").asInt());
        assertEquals(2, one(prodDocs, "ScaledObject").path("spec").path("minReplicaCount").asInt());
        // the dev overlay's single Kafka node: no replication factor or min ISR above the node count
        for (List<ObjectNode> docs : List.of(devDocs, prodDocs)) {
            int nodes = one(docs, "KafkaNodePool").path("spec").path("replicas").asInt();
            JsonNode config = one(docs, "Kafka").path("spec").path("kafka").path("config");
            for (String k : List.of("offsets.topic.replication.factor", "transaction.state.log.replication.factor",
                    "default.replication.factor")) {
                assertTrue(config.path(k).asInt() <= nodes, k + " " + config.path(k) + " on " + nodes + " node(s)");
            }
            assertTrue(config.path("min.insync.replicas").asInt() <= config.path("default.replication.factor").asInt());
            docs.stream().filter(d -> "KafkaTopic".equals(d.path("kind").asText())).forEach(t -> assertTrue(
                    t.path("spec").path("replicas").asInt() <= nodes, t.path("metadata").path("name") + " replicas"));
        }
        assertTrue(one(devDocs, "PodDisruptionBudget").path("spec").has("maxUnavailable"),
                "a budget that lets a single replica be drained");
        JsonNode devContainer = dev.path("spec").path("template").path("spec").path("containers").get(0);
        assertEquals("500m", devContainer.path("resources").path("requests").path("cpu").asText());
        assertTrue(devContainer.has("livenessProbe"), "a patch merges into the container, it does not replace it");
    }

    @Test
    void everyConfigMapSettingIsOneTheServiceReads() throws IOException {
        String conf = Files.readString(K8S.resolve("../serve/src/main/resources/application.conf"));
        JsonNode cm = one(Kustomize.render(K8S.resolve("base")), "ConfigMap", "dova-serve");
        for (var it = cm.path("data").fieldNames(); it.hasNext(); ) {
            String key = it.next();
            assertTrue(conf.contains("${?" + key + "}"), key + " is not read by application.conf");
        }
    }

    /** The service's drain on SIGTERM ends, with 10 s to spare for the JVM's exit, before Kubernetes kills the pod. */
    @ParameterizedTest
    @ValueSource(strings = {"overlays/dev", "overlays/prod"})
    void theDrainEndsBeforeTheGracePeriod(String overlay) throws IOException {
        List<ObjectNode> docs = Kustomize.render(K8S.resolve(overlay));
        long grace = one(docs, "Deployment", "dova-serve").path("spec").path("template").path("spec")
                .path("terminationGracePeriodSeconds").asLong(30);
        JsonNode cm = one(docs, "ConfigMap", "dova-serve");
        com.typesafe.config.Config c = com.typesafe.config.ConfigFactory.load();
        if (cm.path("data").has("DOVA_KAFKA_DRAIN_TIMEOUT")) {
            c = com.typesafe.config.ConfigFactory.parseString("dova.kafka.drain-timeout = "
                    + cm.path("data").path("DOVA_KAFKA_DRAIN_TIMEOUT").asText()).withFallback(c).resolve();
        }
        long drain = dova.serve.config.ServeSettings.from(c).kafka().client().drainTimeout().toSeconds();
        assertTrue(drain + 10 <= grace, overlay + ": drain timeout " + drain + " s against a grace period of " + grace + " s");
    }

    @Test
    void dashboardIsValidGrafanaJson() throws IOException {
        JsonNode d = Kustomize.JSON.readTree(K8S.resolve("base/dashboards/dova.json").toFile());
        assertEquals("dova-serve", d.path("uid").asText());
        assertTrue(d.path("panels").size() >= 10);
        Set<Integer> ids = new HashSet<>();
        for (JsonNode p : d.path("panels")) {
            assertTrue(ids.add(p.path("id").asInt()), "unique panel ids");
            assertTrue(p.path("targets").size() > 0, p.path("title") + " has queries");
            assertNotNull(p.get("gridPos"));
        }
    }

    /** dova_* names in the dashboard and alert rules. */
    static Set<String> referencedMetrics() throws IOException {
        Set<String> names = new HashSet<>();
        Pattern p = Pattern.compile("dova_[a-z0-9_]+");
        for (String file : List.of("base/dashboards/dova.json", "base/prometheusrule.yaml")) {
            Matcher m = p.matcher(Files.readString(K8S.resolve(file)));
            while (m.find()) {
                names.add(m.group());
            }
        }
        return names;
    }

    private static long quantity(String q) {
        if (q.endsWith("Gi")) {
            return Long.parseLong(q.substring(0, q.length() - 2)) << 30;
        }
        if (q.endsWith("Mi")) {
            return Long.parseLong(q.substring(0, q.length() - 2)) << 20;
        }
        fail("unsupported quantity " + q);
        return 0;
    }

    private static double cpu(String q) {
        return q.endsWith("m") ? Double.parseDouble(q.substring(0, q.length() - 1)) / 1000 : Double.parseDouble(q);
    }
}
