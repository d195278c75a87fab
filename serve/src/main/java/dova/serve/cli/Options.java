package dova.serve.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** Checks of command-line values that name the option as the user typed it. */
final class Options {
    private Options() {
    }

    /**
     * Fails within seconds, naming the broker or the topic, unless {@code bootstrap} answers and
     * {@code topic} exists (the commands that publish to a running cluster check before the work).
     */
    static void requireTopic(String bootstrap, String topic) {
        try (dova.ingest.kafka.KafkaAdmin admin = new dova.ingest.kafka.KafkaAdmin(bootstrap, java.time.Duration.ofSeconds(5))) {
            admin.prepareTopics(false, 1, java.util.List.of(topic));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--bootstrap-servers / --topic: " + e.getMessage());
        }
    }

    static int range(String option, int value, int lo, int hi) {
        if (value < lo || value > hi) {
            throw new IllegalArgumentException(option + " must be in [" + lo + ", " + hi + "], got " + value);
        }
        return value;
    }

    static double positive(String option, double value) {
        if (!(value > 0) || Double.isInfinite(value)) {
            throw new IllegalArgumentException(option + " must be positive, got " + value);
        }
        return value;
    }

    /** The enum constant named {@code value} (any case, '-' for '_'), or an error listing the choices. */
    static <E extends Enum<E>> E choice(String option, String value, Class<E> type) {
        for (E e : type.getEnumConstants()) {
            if (e.name().equalsIgnoreCase(value.replace('-', '_'))) {
                return e;
            }
        }
        throw new IllegalArgumentException(option + " must be one of " + Arrays.stream(type.getEnumConstants())
                .map(e -> e.name().toLowerCase(Locale.ROOT)).collect(Collectors.joining(", ")) + ", got '" + value + "'");
    }

    /** An output file whose folder exists (or can be made) and is writable, checked before the work starts. */
    static Path output(String option, Path file) {
        if (file == null) {
            return null;
        }
        Path dir = file.toAbsolutePath().getParent();
        try {
            Files.createDirectories(dir);
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException(option + " " + file + ": cannot create its folder " + dir + " (" + e.getMessage() + ")");
        }
        if (!Files.isWritable(dir) || Files.isDirectory(file)) {
            throw new IllegalArgumentException(option + " " + file + ": " + (Files.isDirectory(file) ? "is a folder"
                    : "folder " + dir + " is not writable"));
        }
        return file;
    }
}
