package dova.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.strimzi.api.kafka.model.common.UnknownPropertyPreserving;
import io.strimzi.api.kafka.model.kafka.Kafka;
import io.strimzi.api.kafka.model.nodepool.KafkaNodePool;
import io.strimzi.api.kafka.model.topic.KafkaTopic;
import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The rendered overlays checked against the published schemas: the Kubernetes, KEDA and Prometheus
 * Operator kinds and the Grafana dashboard by {@code k8s/schema/check.mjs} (npm packages
 * {@code kubernetes-models}, {@code @kubernetes-models/keda}, {@code @kubernetes-models/prometheus-operator},
 * {@code @grafana/schema}: JSON-schema validation, then {@code tsc --strict} on typed literals, which
 * also rejects unknown fields); the Strimzi kinds by Strimzi's own API model ({@code io.strimzi:api},
 * Maven Central), read strictly: an unknown field anywhere fails. Every kind the overlays render
 * must be covered by one of the two.
 */
class SchemaTest {
    static final Path SCHEMA = ManifestsTest.K8S.resolve("schema");
    static final Set<String> STRIMZI = Set.of("kafka.strimzi.io/v1beta2/Kafka", "kafka.strimzi.io/v1beta2/KafkaNodePool",
            "kafka.strimzi.io/v1beta2/KafkaTopic");

    /** Installs the checker's pinned npm packages (package-lock.json) once, where they are missing. */
    @BeforeAll
    static void install() throws Exception {
        if (Files.isDirectory(SCHEMA.resolve("node_modules/kubernetes-models"))) {
            return;
        }
        Result r = run(SCHEMA, 600, "npm", "ci", "--no-audit", "--no-fund");
        assertEquals(0, r.exit, "npm ci in k8s/schema (npm is needed; .ci/run installs it):\n" + r.out);
    }

    record Result(int exit, String out) {
    }

    static Result run(Path dir, int seconds, String... cmd) throws Exception {
        Process p;
        try {
            p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new AssertionError(cmd[0] + " is needed (Debian packages nodejs and npm; .ci/run installs them): "
                    + e.getMessage());
        }
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(String.join(" ", cmd) + " did not finish within " + seconds + " s");
        }
        return new Result(p.exitValue(), new String(out, java.nio.charset.StandardCharsets.UTF_8));
    }

    /** Runs check.mjs on the documents; returns its per-document lines. */
    static List<JsonNode> check(Path dir, List<ObjectNode> docs, Path dashboard) throws Exception {
        Path manifests = dir.resolve("manifests.yaml");
        StringBuilder yaml = new StringBuilder();
        for (ObjectNode d : docs) {
            yaml.append("---\n").append(Kustomize.YAML.writeValueAsString(d).replaceFirst("^---\n", ""));
        }
        Files.writeString(manifests, yaml);
        Result r = run(SCHEMA, 120, "node", "check.mjs", "--manifests", manifests.toString(), "--dashboard",
                dashboard.toString());
        assertTrue(r.exit == 0 || r.exit == 1, "check.mjs failed to run (exit " + r.exit + "):\n" + r.out);
        List<JsonNode> lines = new ArrayList<>();
        for (String line : r.out.split("\n")) {
            if (line.startsWith("{")) {
                lines.add(Kustomize.JSON.readTree(line));
            }
        }
        return lines;
    }

    static String key(JsonNode doc) {
        return doc.path("apiVersion").asText() + "/" + doc.path("kind").asText();
    }

    @Test
    void everyRenderedDocumentMatchesItsPublishedSchema(@TempDir Path dir) throws Exception {
        for (String overlay : List.of("overlays/dev", "overlays/prod")) {
            List<ObjectNode> docs = Kustomize.render(ManifestsTest.K8S.resolve(overlay));
            List<JsonNode> lines = check(dir, docs, ManifestsTest.K8S.resolve("base/dashboards/dova.json"));
            assertEquals(docs.size() + 1, lines.size(), overlay + ": one line per document and the dashboard");
            Set<String> unchecked = new TreeSet<>();
            for (JsonNode l : lines) {
                assertTrue(!l.path("status").asText().equals("invalid"), overlay + ": " + l);
                if (l.path("status").asText().equals("unchecked")) {
                    unchecked.add(l.path("kind").asText());
                }
            }
            assertEquals(new TreeSet<>(STRIMZI), unchecked, overlay + ": only the Strimzi kinds lack an npm schema");
            for (ObjectNode d : docs) {
                if (STRIMZI.contains(key(d))) {
                    assertEquals(List.of(), strimziProblems(d), overlay + ": " + key(d) + " " + d.path("metadata").path("name"));
                }
            }
        }
    }

    /** The checker can fail: misspelt, mistyped and missing fields are each reported for the document that has them. */
    @Test
    void theCheckerRejectsUnknownMistypedAndMissingFields(@TempDir Path dir) throws Exception {
        List<ObjectNode> docs = Kustomize.render(ManifestsTest.K8S.resolve("overlays/dev"));
        ObjectNode deployment = (ObjectNode) ManifestsTest.one(docs, "Deployment", "dova-serve");
        ObjectNode container = (ObjectNode) deployment.path("spec").path("template").path("spec").path("containers").get(0);
        container.put("imagePulPolicy", "IfNotPresent");
        ObjectNode scaled = (ObjectNode) ManifestsTest.one(docs, "ScaledObject", "dova-serve");
        ((ObjectNode) scaled.path("spec")).put("maxReplicaCount", "four");
        ObjectNode pdb = (ObjectNode) ManifestsTest.one(docs, "PodDisruptionBudget", "dova-serve");
        ((ObjectNode) pdb.path("spec")).remove("selector");
        ((ObjectNode) pdb.path("spec")).put("selectr", "x");
        Path dashboard = dir.resolve("dashboard.json");
        ObjectNode dash = (ObjectNode) Kustomize.JSON.readTree(ManifestsTest.K8S.resolve("base/dashboards/dova.json").toFile());
        ((ObjectNode) dash.path("panels").get(0).path("gridPos")).put("w", "six");
        Kustomize.JSON.writeValue(dashboard.toFile(), dash);

        Map<String, String> invalid = new java.util.TreeMap<>();
        for (JsonNode l : check(dir, docs, dashboard)) {
            if (l.path("status").asText().equals("invalid")) {
                invalid.put(l.path("kind").asText(), l.path("errors").toString());
            }
        }
        assertEquals(Set.of("apps/v1/Deployment", "keda.sh/v1alpha1/ScaledObject", "policy/v1/PodDisruptionBudget",
                "grafana/Dashboard"), invalid.keySet(), invalid.toString());
        assertTrue(invalid.get("apps/v1/Deployment").contains("imagePulPolicy"), invalid.get("apps/v1/Deployment"));
        assertTrue(invalid.get("keda.sh/v1alpha1/ScaledObject").contains("maxReplicaCount"), invalid.toString());
        assertTrue(invalid.get("grafana/Dashboard").contains("number"), invalid.get("grafana/Dashboard"));

        ObjectNode kafka = (ObjectNode) ManifestsTest.one(docs, "Kafka", "dova-kafka");
        ((ObjectNode) kafka.path("spec").path("kafka")).put("verison", "4.1.0");
        assertEquals(List.of("spec.kafka.verison"), strimziProblems(kafka));
        ObjectNode topic = (ObjectNode) ManifestsTest.one(docs, "KafkaTopic", "dova-frames");
        ((ObjectNode) topic.path("spec")).put("partitions", "four");
        assertTrue(strimziProblems(topic).get(0).contains("partitions"), strimziProblems(topic).toString());
    }

    static final ObjectMapper STRICT = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT);

    /**
     * Reads a Strimzi document into its API class; the problems are the fields its model does not
     * know (Strimzi's classes keep unknown fields aside instead of failing, so they are collected
     * from every object of the model) or a value of the wrong type.
     */
    static List<String> strimziProblems(JsonNode doc) {
        Class<?> type = switch (doc.path("kind").asText()) {
            case "Kafka" -> Kafka.class;
            case "KafkaNodePool" -> KafkaNodePool.class;
            case "KafkaTopic" -> KafkaTopic.class;
            default -> throw new IllegalArgumentException("not a Strimzi kind: " + key(doc));
        };
        Object model;
        try {
            model = STRICT.treeToValue(doc, type);
        } catch (com.fasterxml.jackson.databind.JsonMappingException e) {
            String where = e.getPath().stream().map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
                    .collect(java.util.stream.Collectors.joining(".")).replace(".[", "[");
            return List.of(where + ": " + e.getOriginalMessage());
        } catch (Exception e) {
            return List.of(e.toString());
        }
        List<String> unknown = new ArrayList<>();
        unknownFields(model, "", unknown, new IdentityHashMap<>());
        return unknown;
    }

    private static void unknownFields(Object o, String path, List<String> out, IdentityHashMap<Object, Boolean> seen) {
        if (o == null || seen.put(o, Boolean.TRUE) != null || o.getClass().isEnum() || o instanceof String
                || o instanceof Number || o instanceof Boolean) {
            return;
        }
        if (o instanceof UnknownPropertyPreserving u && u.getAdditionalProperties() != null) {
            for (String k : new TreeSet<>(u.getAdditionalProperties().keySet())) {
                out.add(path.isEmpty() ? k : path + "." + k);
            }
        }
        if (o instanceof Collection<?> c) {
            int i = 0;
            for (Object e : c) {
                unknownFields(e, path + "[" + i++ + "]", out, seen);
            }
            return;
        }
        if (o instanceof Map<?, ?>) {
            return; // free-form maps (labels, config) have no schema
        }
        if (!o.getClass().getName().startsWith("io.strimzi.") && !o.getClass().getName().startsWith("io.fabric8.")) {
            return;
        }
        for (Class<?> c = o.getClass(); c != null && c != Object.class; c = c.getSuperclass()) {
            for (Field f : c.getDeclaredFields()) {
                if (Modifier.isStatic(f.getModifiers()) || f.getName().equals("additionalProperties")) {
                    continue;
                }
                try {
                    f.setAccessible(true);
                    unknownFields(f.get(o), path.isEmpty() ? f.getName() : path + "." + f.getName(), out, seen);
                } catch (ReflectiveOperationException | RuntimeException e) {
                    // an inaccessible field of a JDK class: nothing of the model's below it
                }
            }
        }
    }
}
