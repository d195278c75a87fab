package dova.serve.registry;

import dova.sim.model.IntegerModel;
import dova.sim.model.ModelIo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The fleet's model registry: every published version and the serving pointer, on one compacted
 * Kafka topic ({@code <frames-topic>-models}, records in {@link ModelRecord}'s format), which
 * every replica reads from the beginning and follows. The topic is the truth; the replica's
 * {@link ModelRegistry} folder is its cache (each version the topic holds is written there) and
 * what the CLI lists offline.
 *
 * <p>Why a topic: the service already depends on the cluster and nothing else; a compacted topic
 * keeps the last record of every key for ever, replicated as the cluster replicates (three
 * brokers, {@code min.insync.replicas} 2 in k8s/), in one order for every reader (one
 * partition), so "which versions exist and which one serves" needs no other store and no
 * consensus of dova's own. Only the elected replica publishes ({@code Leadership}); the CLI moves
 * the pointer ({@code dova models rollback N --bootstrap-servers ...}).
 *
 * <p>Each record is checked as it arrives: format, checksum, key, the model format's own
 * integrity checks, and the signature where the registry has a trust key. A record that fails is
 * skipped, counted ({@link Follower#rejected}) and never served. A pointer to a version this
 * replica does not hold as valid leaves it serving what it serves and says so
 * ({@link Follower#unservable}) until a valid version or pointer arrives.
 */
public final class FleetRegistry implements ModelStore, AutoCloseable {
    /** What the follower thread reports; every method is called on that thread. */
    public interface Follower {
        /** The pointer names {@code version}, which this replica holds as valid: serve it. */
        default void serve(int version, IntegerModel model, Path checkpoint) {
        }

        /** The pointer names {@code version}, which this replica cannot serve, for {@code why}. */
        default void unservable(int version, String why) {
        }

        /** A record was refused: {@code reason} is a short tag ({@link ModelRecord.Corrupt#reason()}, "signature", "model"). */
        default void rejected(String reason, String message) {
        }
    }

    /** One version as the topic holds it: valid (with its model) or refused (with why). */
    public record Entry(int number, String note, boolean current, boolean hasCheckpoint, String refused) {
        public boolean valid() {
            return refused == null;
        }
    }

    private final String bootstrap;
    private final String topic;
    private final ModelRegistry cache;
    private final ModelTrust trust;
    private final String self;
    private final Duration timeout;
    private final KafkaProducer<String, byte[]> producer;
    private final KafkaConsumer<String, byte[]> consumer;
    private final Thread thread;
    private final CountDownLatch caughtUp = new CountDownLatch(1);
    /** The versions the topic holds, valid or refused, by number (the last record of each key). */
    private final Map<Integer, Entry> entries = new ConcurrentHashMap<>();
    private final Map<Integer, IntegerModel> models = new ConcurrentHashMap<>();
    /** Each version's drift reference (the last record of its key, as compaction keeps). */
    private final Map<Integer, ModelRecord.Reference> references = new ConcurrentHashMap<>();
    private volatile Follower follower;
    private volatile int pointer;
    private volatile String problem;
    private volatile RuntimeException failure;
    private volatile boolean closed;
    /** Held while the follower is told what to serve: one report at a time, in order. */
    private final Object applying = new Object();

    /**
     * Starts reading {@code topic} from its beginning; {@link #awaitCaughtUp} waits until
     * everything it held at the start has been read.
     *
     * @param cache the replica's folder, which every valid version is written to; null: none (the CLI)
     * @param self who this replica is, written into the pointers it sets
     */
    public FleetRegistry(String bootstrap, String topic, ModelRegistry cache, ModelTrust trust, String self,
                         Duration timeout) {
        this.bootstrap = bootstrap;
        this.topic = topic;
        this.cache = cache;
        this.trust = trust;
        this.self = self;
        this.timeout = timeout;
        int millis = (int) Math.min(Integer.MAX_VALUE, timeout.toMillis());
        Map<String, Object> p = new HashMap<>();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, ModelRecord.MAX_BYTES + 4096);
        p.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, millis);
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, millis * 3);
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, millis);
        producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
        Map<String, Object> c = new HashMap<>();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        c.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, ModelRecord.MAX_BYTES + 4096);
        c.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, 2 * ModelRecord.MAX_BYTES);
        c.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, millis);
        c.put(ConsumerConfig.REQUEST_TIMEOUT_MS_CONFIG, millis);
        consumer = new KafkaConsumer<>(c, new StringDeserializer(), new ByteArrayDeserializer());
        thread = new Thread(this::follow, "dova-models");
        thread.setDaemon(true);
        thread.start();
    }

    public String topic() {
        return topic;
    }

    /**
     * The follower that the records are reported to from now on (the service's pool); it is told
     * at once what the pointer names, so that nothing read before it was set is missed. Its
     * {@code serve} may be told the same version more than once.
     */
    public void follow(Follower f) {
        this.follower = f;
        if (pointer > 0) {
            apply();
        }
    }

    /**
     * Waits until every record the topic held when this registry started has been read.
     *
     * @throws IOException when the topic cannot be read within {@code wait}
     */
    public void awaitCaughtUp(Duration wait) throws IOException {
        try {
            if (!caughtUp.await(wait.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new IOException("model topic " + topic + " on " + bootstrap + " not read within " + wait.toSeconds()
                        + " s" + (failure != null ? ": " + failure.getMessage() : ""));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while reading model topic " + topic);
        }
        if (failure != null) {
            throw new IOException("model topic " + topic + " on " + bootstrap + ": " + failure.getMessage(), failure);
        }
    }

    /** The version the pointer names, or 0 if the topic has no pointer yet. */
    public int pointer() {
        return pointer;
    }

    /** Why this replica cannot serve what the pointer names, or null when it can. */
    public String problem() {
        return problem;
    }

    /** The valid model of {@code version}. */
    public IntegerModel load(int version) throws IOException {
        IntegerModel m = models.get(version);
        if (m == null) {
            Entry e = entries.get(version);
            throw new IOException(e == null ? "model topic " + topic + " has no version " + version
                    : "version " + version + " on model topic " + topic + " was refused: " + e.refused());
        }
        return m;
    }

    /** Every version the topic holds, by number. */
    public List<Entry> list() {
        List<Entry> out = new ArrayList<>();
        int current = pointer;
        new TreeMap<>(entries).values().forEach(e -> out.add(new Entry(e.number(), e.note(), e.number() == current,
                e.hasCheckpoint(), e.refused())));
        return out;
    }

    /**
     * Publishes {@code model} as the next version: one past the highest the topic or the cache
     * holds (so that no cached file of an earlier life is overwritten), once the broker has
     * acknowledged it on every in-sync replica.
     */
    @Override
    public synchronized int publish(IntegerModel model, String note, Path checkpoint) throws IOException {
        int next = Math.max(entries.keySet().stream().mapToInt(Integer::intValue).max().orElse(0),
                cache == null ? 0 : cache.highestVersion()) + 1;
        publishAs(next, model, note, checkpoint);
        return next;
    }

    private void publishAs(int number, IntegerModel model, String note, Path checkpoint) throws IOException {
        byte[] bytes = ModelIo.toBytes(model);
        ModelRecord.Published r = new ModelRecord.Published(number, note, bytes, trust.signs() ? trust.sign(bytes) : "",
                checkpoint == null ? new byte[0] : Files.readAllBytes(checkpoint));
        send(r);
        accept(r, model); // this replica need not wait for its own record to come back
    }

    /** Moves the fleet's pointer to {@code version}, which the topic must hold as valid. */
    @Override
    public synchronized void makeCurrent(int version) throws IOException {
        load(version);
        send(new ModelRecord.Pointer(version, self));
    }

    /**
     * The fleet's drift reference of {@code version}: the pixel histogram of the first window a
     * replica observed through it ({@link #offerReference}), or empty when none has arrived.
     */
    public java.util.Optional<ModelRecord.Reference> reference(int version) {
        return java.util.Optional.ofNullable(references.get(version));
    }

    /**
     * Offers this replica's first window of {@code version} as the fleet's drift reference, unless
     * the topic already holds one: sent without waiting (the caller is the stream's calibration
     * branch), kept here at once. Two replicas offering at once both write the key; every replica
     * then holds the one the topic holds last, as compaction does. A failed send only leaves later
     * replicas to offer their own.
     */
    public void offerReference(int version, long[] pixels) {
        if (references.containsKey(version)) {
            return;
        }
        ModelRecord.Reference r = new ModelRecord.Reference(version, self, pixels);
        references.putIfAbsent(version, r);
        // off the caller's thread: send blocks for max.block.ms while the broker is unreachable
        java.util.concurrent.CompletableFuture.runAsync(() -> {
            try {
                producer.send(new ProducerRecord<>(topic, 0, r.key(), ModelRecord.encode(r)), (meta, e) -> {
                    if (e != null) {
                        System.err.println("dova: the drift reference of v" + version + " was not shared: " + e.getMessage());
                    }
                });
            } catch (RuntimeException e) {
                System.err.println("dova: the drift reference of v" + version + " was not shared: " + e.getMessage());
            }
        });
    }

    @Override
    public Path checkpointFile(int version) {
        if (cache == null) {
            throw new IllegalStateException("this fleet registry has no local folder");
        }
        return cache.checkpointFile(version);
    }

    /**
     * On a topic without a pointer, publishes the first version: the cache's serving version if
     * it has one (a replica that served alone before keeps its model), else {@code initial}, with
     * {@code checkpoint} (or null); returns the version the pointer names. Two replicas seeding at
     * once write the same key and the last pointer wins; both are then followed alike.
     */
    public synchronized int seed(Path initial, Path checkpoint) throws IOException {
        if (pointer > 0) {
            return pointer;
        }
        int local = cache == null ? 0 : cache.currentVersion();
        IntegerModel first;
        String note;
        if (local > 0) {
            first = cache.load(local);
            note = cache.list().stream().filter(ModelRegistry.Version::current).map(ModelRegistry.Version::note)
                    .findFirst().orElse("") + " (published to the fleet by " + self + ")";
        } else {
            if (!Files.isRegularFile(initial)) {
                throw new IOException("dova.model.initial: no such model file " + initial
                        + " (the shipped models live in models/; see README)");
            }
            first = ModelIo.read(initial);
            note = "seeded from " + initial;
        }
        Path ckpt = local > 0 && Files.exists(cache.checkpointFile(local)) ? cache.checkpointFile(local) : checkpoint;
        int v = Math.max(local, 1);
        if (!entries.containsKey(v) || !entries.get(v).valid()) {
            publishAs(v, first, note, ckpt);
        }
        makeCurrent(v);
        pointer = v;
        return v;
    }

    private void send(ModelRecord r) throws IOException {
        try {
            producer.send(new ProducerRecord<>(topic, 0, r.key(), ModelRecord.encode(r)))
                    .get(timeout.toMillis() * 4, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new IOException("cannot write " + r.key() + " to model topic " + topic + " on " + bootstrap + ": "
                    + e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException e) {
            throw new IOException("model topic " + topic + " on " + bootstrap + " did not acknowledge " + r.key()
                    + " within " + timeout.multipliedBy(4).toSeconds() + " s");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while writing " + r.key() + " to model topic " + topic);
        }
    }

    private void follow() {
        TopicPartition tp = new TopicPartition(topic, 0);
        try {
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            long end = consumer.endOffsets(List.of(tp)).get(tp);
            if (consumer.position(tp) >= end) {
                caughtUp.countDown();
            }
            while (!closed) {
                for (ConsumerRecord<String, byte[]> rec : consumer.poll(Duration.ofMillis(200))) {
                    arrived(rec);
                }
                if (caughtUp.getCount() > 0 && consumer.position(tp) >= end) {
                    caughtUp.countDown();
                }
            }
        } catch (WakeupException e) {
            if (!closed) {
                failure = new IllegalStateException("woken while following");
            }
        } catch (RuntimeException e) {
            failure = e;
            System.err.println("dova: stopped following model topic " + topic + ": " + e);
        } finally {
            caughtUp.countDown();
            consumer.close(Duration.ofSeconds(2)); // on its own thread: a consumer is not thread-safe
        }
    }

    private void arrived(ConsumerRecord<String, byte[]> rec) {
        String where = "model topic " + topic + " offset " + rec.offset();
        ModelRecord r;
        try {
            r = ModelRecord.decode(rec.key(), rec.value());
        } catch (ModelRecord.Corrupt e) {
            refuse(keyNumber(rec.key()), e.reason(), where + ": " + e.getMessage());
            return;
        }
        if (r instanceof ModelRecord.Pointer p) {
            pointer = p.number();
            apply();
            return;
        }
        if (r instanceof ModelRecord.Reference ref) {
            references.put(ref.number(), ref);
            return;
        }
        ModelRecord.Published v = (ModelRecord.Published) r;
        if (trust.signs()) {
            if (v.signature().isEmpty() ? !trust.allowUnsigned() : !trust.verifies(v.model(), v.signature())) {
                refuse(v.number(), "signature", where + ": " + v.key() + (v.signature().isEmpty()
                        ? " is not signed; this registry serves only models signed with its trust key"
                        : "'s signature does not verify: changed after it was published, or signed with another key"));
                return;
            }
        }
        IntegerModel model;
        try {
            model = ModelIo.fromBytes(v.model());
        } catch (RuntimeException e) { // InvalidModelException among them
            refuse(v.number(), "model", where + ": " + v.key() + " is not a valid model: " + e.getMessage());
            return;
        }
        try {
            accept(v, model);
        } catch (IOException e) {
            refuse(v.number(), "cache", where + ": " + v.key() + " cannot be written to " + cache.dir() + ": " + e.getMessage());
            return;
        }
        if (v.number() == pointer) {
            apply(); // a pointer that arrived before its version (or a repaired version) is served now
        }
    }

    private void accept(ModelRecord.Published v, IntegerModel model) throws IOException {
        if (cache != null) {
            cache.store(v.number(), v.model(), v.note(), v.signature(), v.checkpoint());
        }
        models.put(v.number(), model);
        entries.put(v.number(), new Entry(v.number(), v.note(), false, v.hasCheckpoint(), null));
    }

    private void refuse(int number, String reason, String message) {
        System.err.println("dova: refused a record of " + message);
        if (number > 0) {
            // the key's last record is refused: whatever valid record it had before is replaced by it, as compaction would
            models.remove(number);
            entries.put(number, new Entry(number, "", false, false, message));
        }
        Follower f = follower;
        if (f != null) {
            f.rejected(reason, message);
        }
        if (number > 0 && number == pointer) {
            apply();
        }
    }

    /** Reports what the pointer names to the follower: the version to serve, or why it cannot be. */
    private void apply() {
        synchronized (applying) {
            applyNow();
        }
    }

    private void applyNow() {
        int v = pointer;
        IntegerModel m = models.get(v);
        Follower f = follower;
        if (m == null) {
            Entry e = entries.get(v);
            problem = String.format(Locale.ROOT, "the fleet's pointer names v%04d, which %s", v,
                    e == null ? "model topic " + topic + " does not hold" : "was refused: " + e.refused());
            if (f != null) {
                f.unservable(v, problem);
            }
            return;
        }
        problem = null;
        if (f != null) {
            Path ckpt = cache != null && entries.get(v).hasCheckpoint() ? cache.checkpointFile(v) : null;
            f.serve(v, m, ckpt);
        }
        if (cache != null) {
            try {
                cache.makeCurrent(v);
            } catch (IOException e) {
                System.err.println("dova: cannot move " + cache.dir() + "'s CURRENT to v" + v + ": " + e.getMessage());
            }
        }
    }

    private static int keyNumber(String key) {
        if (key != null && key.matches("v\\d{4,9}")) {
            return Integer.parseInt(key.substring(1));
        }
        return 0;
    }

    @Override
    public void close() {
        closed = true;
        consumer.wakeup();
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        producer.close(Duration.ofSeconds(2));
    }
}
