package dova.serve.metrics;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;

/**
 * HTTP endpoints on the JDK server: {@code /metrics} (Prometheus text), {@code /health}
 * (liveness: the process answers) and {@code /ready} (readiness: the stream runs with a model).
 */
public final class Endpoints implements AutoCloseable {
    private final HttpServer server;

    private Endpoints(HttpServer server) {
        this.server = server;
    }

    public static Endpoints start(String host, int port, Metrics metrics, BooleanSupplier ready) {
        return start(host, port, metrics, ready, () -> true);
    }

    /**
     * @param healthy liveness beyond "the process answers": false (503) when the stream has been down
     *     longer than its threshold, so that Kubernetes restarts the pod
     */
    public static Endpoints start(String host, int port, Metrics metrics, BooleanSupplier ready, BooleanSupplier healthy) {
        return start(host, port, metrics, ready, healthy, () -> null);
    }

    /**
     * @param readyNote what {@code /ready} adds to its answer, or null: a replica that serves but
     *     not the version the fleet names says so there (still 200: it serves)
     */
    public static Endpoints start(String host, int port, Metrics metrics, BooleanSupplier ready, BooleanSupplier healthy,
                                  java.util.function.Supplier<String> readyNote) {
        HttpServer server;
        try {
            server = HttpServer.create(new InetSocketAddress(host, port), 64);
        } catch (BindException e) {
            throw new IllegalArgumentException("dova.http.port: cannot listen on " + host + ":" + port + " ("
                    + e.getMessage() + "; is another dova running? set DOVA_HTTP_PORT)");
        } catch (IOException e) {
            throw new IllegalArgumentException("dova.http.host: cannot listen on " + host + ":" + port + ": " + e.getMessage());
        }
        server.createContext("/metrics", ex -> reply(ex, 200, "text/plain; version=0.0.4; charset=utf-8", metrics.scrape()));
        // /health and /ready, and the same under the KServe / Triton names
        for (String path : new String[] {"/health", "/v2/health/live"}) {
            server.createContext(path, ex -> {
                boolean h = healthy.getAsBoolean();
                reply(ex, h ? 200 : 503, "text/plain", h ? "ok\n" : "stream down\n");
            });
        }
        for (String path : new String[] {"/ready", "/v2/health/ready"}) {
            server.createContext(path, ex -> {
                boolean r = ready.getAsBoolean();
                String note = readyNote.get();
                reply(ex, r ? 200 : 503, "text/plain", (r ? "ready\n" : "not ready\n") + (note == null ? "" : note + "\n"));
            });
        }
        server.setExecutor(Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "http");
            t.setDaemon(true);
            return t;
        }));
        server.start();
        return new Endpoints(server);
    }

    public int port() {
        return server.getAddress().getPort();
    }

    private static void reply(HttpExchange ex, int status, String type, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", type);
        ex.sendResponseHeaders(status, b.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(b);
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
