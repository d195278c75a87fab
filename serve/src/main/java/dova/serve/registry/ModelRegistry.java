package dova.serve.registry;

import dova.sim.model.IntegerModel;
import dova.sim.model.InvalidModelException;
import dova.sim.model.ModelIo;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Versioned integer models in a folder: {@code v0001.dova}, {@code v0002.dova}, ... plus a
 * one-line {@code v0001.note} each and a {@code CURRENT} file naming the serving version.
 * Every load goes through the model format's integrity checks. Writes are atomic (temp file
 * and rename), so a crash never leaves a half-written version or pointer. A version's QAT
 * checkpoint, where it has one, is {@code v0001-qat.ckpt}. In a fleet this folder is the
 * replica's cache of the shared {@link FleetRegistry}, which {@link #store}s what the topic holds.
 */
public final class ModelRegistry implements ModelStore {
    private static final Pattern FILE = Pattern.compile("v(\\d{4,})\\.dova");
    private final Path dir;
    private final ModelTrust trust;

    /** One stored version. */
    public record Version(int number, Path file, String note, boolean current) {
    }

    /** A registry whose models are neither signed nor verified. */
    public ModelRegistry(Path dir) throws IOException {
        this(dir, ModelTrust.none());
    }

    /** A registry that signs what it publishes and verifies what it loads with {@code trust}'s key, if it has one. */
    public ModelRegistry(Path dir, ModelTrust trust) throws IOException {
        this.dir = dir;
        this.trust = trust;
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new IOException("model registry " + dir + " is a file, not a folder (dova.model.registry, DOVA_MODEL_REGISTRY)");
        }
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new IOException("model registry " + dir + " cannot be created: " + e, e);
        }
        if (!Files.isWritable(dir)) {
            throw new IOException("model registry " + dir + " is not writable (dova.model.registry, DOVA_MODEL_REGISTRY)");
        }
    }

    public Path dir() {
        return dir;
    }

    public List<Version> list() throws IOException {
        int current;
        try {
            current = currentVersion();
        } catch (IOException e) {
            current = -1; // a corrupt pointer still lets an operator list the versions and choose one
        }
        List<Version> out = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : files.sorted().toList()) {
                Matcher m = FILE.matcher(p.getFileName().toString());
                if (m.matches()) {
                    int n = Integer.parseInt(m.group(1));
                    Path note = dir.resolve(String.format("v%04d.note", n));
                    out.add(new Version(n, p, Files.exists(note) ? Files.readString(note).trim() : "", n == current));
                }
            }
        }
        return out;
    }

    /**
     * The serving version, or 0 if there is no {@code CURRENT} pointer.
     *
     * @throws IOException when the pointer cannot be parsed, is below 1, or names a version the
     *     registry does not have: it is never repaired silently (choose one with {@code dova models rollback N})
     */
    public int currentVersion() throws IOException {
        Path c = dir.resolve("CURRENT");
        if (!Files.exists(c)) {
            return 0;
        }
        String s = Files.readString(c).trim();
        int v;
        try {
            v = Integer.parseInt(s);
        } catch (NumberFormatException e) {
            throw new IOException(c + ": corrupt pointer '" + s + "' (choose a version with: dova models rollback N)");
        }
        if (v < 1) {
            throw new IOException(c + ": corrupt pointer '" + s + "': versions start at 1 (choose one with: dova models rollback N)");
        }
        if (!Files.exists(dir.resolve(String.format("v%04d.dova", v)))) {
            throw new IOException(c + " names version " + v + ", which " + dir + " does not have (choose one with:"
                    + " dova models rollback N)");
        }
        return v;
    }

    public IntegerModel load(int version) throws IOException {
        Path f = dir.resolve(String.format("v%04d.dova", version));
        if (!Files.exists(f)) {
            throw new IOException("model registry " + dir + " has no version " + version);
        }
        byte[] bytes = Files.readAllBytes(f);
        if (trust.signs()) {
            Path sig = dir.resolve(String.format("v%04d.sig", version));
            if (!Files.exists(sig)) {
                if (!trust.allowUnsigned()) {
                    throw new IOException(f + " is not signed; this registry serves only models signed with its trust key"
                            + " (dova.model.allow-unsigned / DOVA_MODEL_ALLOW_UNSIGNED accepts unsigned ones)");
                }
            } else if (!trust.verifies(bytes, Files.readString(sig))) {
                throw new IOException(f + ": the signature does not verify: the file was changed after it was published,"
                        + " or signed with another key; refusing to serve it");
            }
        }
        try {
            return ModelIo.fromBytes(bytes);
        } catch (InvalidModelException e) {
            throw new InvalidModelException(f + ": " + e.getMessage(), e);
        }
    }

    /** Stores {@code model} as the next version (not yet current); returns its number. */
    public int publish(IntegerModel model, String note) throws IOException {
        return publish(model, note, null);
    }

    @Override
    public synchronized int publish(IntegerModel model, String note, Path checkpoint) throws IOException {
        int next = highestVersion() + 1;
        byte[] bytes = ModelIo.toBytes(model);
        store(next, bytes, note, trust.signs() ? trust.sign(bytes) : "",
                checkpoint == null ? new byte[0] : Files.readAllBytes(checkpoint));
        return next;
    }

    /** The highest version number stored, or 0. */
    public int highestVersion() throws IOException {
        return list().stream().mapToInt(Version::number).max().orElse(0);
    }

    /**
     * Writes version {@code number} as given (replacing what this folder had under that number):
     * the model file, its signature ("" for none), note and checkpoint (empty for none). The
     * fleet's cache stores the topic's versions with it; nothing here checks them (loading does).
     */
    public synchronized void store(int number, byte[] model, String note, String signature, byte[] checkpoint)
            throws IOException {
        if (!signature.isEmpty()) {
            // the signature is written first: a crash between the two leaves an unused signature, never an unsigned version
            atomicWrite(dir.resolve(String.format("v%04d.sig", number)), signature);
        }
        if (checkpoint.length > 0) {
            atomicWrite(checkpointFile(number), checkpoint);
        }
        atomicWrite(dir.resolve(String.format("v%04d.dova", number)), model);
        atomicWrite(dir.resolve(String.format("v%04d.note", number)), note);
    }

    @Override
    public Path checkpointFile(int version) {
        return dir.resolve(String.format(java.util.Locale.ROOT, "v%04d-qat.ckpt", version));
    }

    /** Makes {@code version} the serving one (after checking it loads). */
    @Override
    public synchronized void makeCurrent(int version) throws IOException {
        load(version);
        atomicWrite(dir.resolve("CURRENT"), Integer.toString(version));
    }

    private static void atomicWrite(Path file, String text) throws IOException {
        atomicWrite(file, (text + "\n").getBytes(StandardCharsets.UTF_8));
    }

    private static void atomicWrite(Path file, byte[] bytes) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".part");
        Files.write(tmp, bytes);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /**
     * Seeds an empty registry from {@code initial}; returns the current version. A registry with
     * versions but no {@code CURRENT} pointer is not re-seeded: that would hide which model was
     * serving.
     */
    public int seed(Path initial) throws IOException {
        int current = currentVersion();
        if (current > 0) {
            return current;
        }
        List<Version> existing = list();
        if (!existing.isEmpty()) {
            throw new IOException("model registry " + dir + " has " + existing.size() + " version(s) (v"
                    + String.format("%04d", existing.get(0).number()) + " .. v"
                    + String.format("%04d", existing.get(existing.size() - 1).number())
                    + ") but no CURRENT pointer; refusing to re-seed it: choose one with: dova models rollback N");
        }
        if (!Files.isRegularFile(initial)) {
            throw new IOException("dova.model.initial: no such model file " + initial
                    + " (the shipped models live in models/; see README)");
        }
        int v = publish(ModelIo.read(initial), "seeded from " + initial);
        makeCurrent(v);
        return v;
    }
}
