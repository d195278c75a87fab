package dova.serve;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** {@code dova serve} as a child JVM on the test's class path, for the crash and overload tests. */
final class ChildService {
    static final String MODEL = "../models/lenet-mnist-a16m12-wrap.dova";

    private ChildService() {
    }

    /**
     * Starts the service against {@code bootstrap} with the shipped model, no recalibration and
     * existing topics; {@code env} adds or overrides settings. Extra JVM options from
     * {@code DOVA_TEST_CHILD_JVM_OPTS}.
     *
     * @param httpPort 0 for any free port
     */
    static Process start(String bootstrap, Path dir, String logName, String heap, int httpPort, Map<String, String> env)
            throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "-Xmx" + heap, "-XX:+UseSerialGC"));
        String extra = System.getenv().getOrDefault("DOVA_TEST_CHILD_JVM_OPTS", "");
        if (!extra.isBlank()) {
            cmd.addAll(List.of(extra.trim().split("\\s+")));
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "dova.serve.cli.Main", "serve"));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        Map<String, String> e = pb.environment();
        e.keySet().removeIf(k -> k.startsWith("DOVA_"));
        e.put("DOVA_KAFKA_BOOTSTRAP_SERVERS", bootstrap);
        e.put("DOVA_KAFKA_CREATE_TOPICS", "false");
        e.put("DOVA_MODEL_REGISTRY", dir.resolve("registry").toString());
        e.put("DOVA_MODEL_INITIAL", MODEL);
        e.put("DOVA_MODEL_CHECKPOINT", "");
        e.put("DOVA_RECALIBRATION_ENABLED", "false");
        e.put("DOVA_HTTP_PORT", Integer.toString(httpPort));
        e.putAll(env);
        pb.redirectErrorStream(true).redirectOutput(dir.resolve(logName).toFile());
        return pb.start();
    }
}
