package dova.sim.exec;

import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.Locale;

/**
 * The native kernels ({@code src/main/c/dova_sim.c}, built by this module's Maven build with the
 * machine's gcc: {@code libdovasim-vnni.so}, loaded where the CPU has AVX-512 VNNI,
 * {@code libdovasim-avx2.so}, loaded where it has AVX2, and the baseline {@code libdovasim.so}) and
 * whether they could be loaded. {@code -Ddova.sim.native=false} turns them off;
 * {@code -Ddova.sim.isa=generic} or {@code avx2} keeps the library but runs its portable C or AVX2
 * kernels instead of the best ones (each library also runs the levels below its own; the tests
 * check every level this CPU has).
 */
public final class NativeKernels {
    /** Portable C micro-kernels (whatever the compiler vectorises). */
    static final int ISA_GENERIC = 0;
    /** AVX2 {@code vpmaddwd} micro-kernels ({@code vpmaddubsw} where no weight pair can saturate). */
    static final int ISA_AVX2 = 1;
    /** AVX-512 VNNI {@code vpdpbusd} micro-kernels on uint8 rows (and the AVX2 ones elsewhere). */
    static final int ISA_VNNI = 2;

    private static final String DIR = "/dova/sim/native/linux-x86_64/";
    private static final String STATUS;
    private static final boolean LOADED;
    private static final int ISA;
    private static final int BEST;

    static {
        String status;
        boolean loaded = false;
        int isa = ISA_GENERIC;
        int bestLoaded = ISA_GENERIC;
        if (!Boolean.parseBoolean(System.getProperty("dova.sim.native", "true"))) {
            status = "off (-Ddova.sim.native=false)";
        } else if (!"linux".equals(System.getProperty("os.name").toLowerCase(Locale.ROOT))
                || !"amd64".equals(System.getProperty("os.arch"))) {
            status = "not built for " + System.getProperty("os.name") + "/" + System.getProperty("os.arch");
        } else {
            java.util.Set<String> flags = cpuFlags();
            URL url = flags.containsAll(java.util.List.of("avx2", "avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512_vnni"))
                    ? NativeKernels.class.getResource(DIR + "libdovasim-vnni.so") : null;
            if (url == null && flags.contains("avx2")) {
                url = NativeKernels.class.getResource(DIR + "libdovasim-avx2.so");
            }
            if (url == null) {
                url = NativeKernels.class.getResource(DIR + "libdovasim.so");
            }
            if (url == null) {
                status = "not built (no gcc or jni.h when this module was compiled)";
            } else {
                try {
                    System.load(libraryPath(url).toString());
                    int best = bestIsa();
                    bestLoaded = best;
                    String wanted = System.getProperty("dova.sim.isa", "best").toLowerCase(Locale.ROOT);
                    isa = switch (wanted) {
                        case "best" -> best;
                        case "generic" -> ISA_GENERIC;
                        case "avx2" -> {
                            if (best < ISA_AVX2) {
                                throw new IllegalStateException("-Ddova.sim.isa=avx2 but this CPU has no AVX2");
                            }
                            yield ISA_AVX2;
                        }
                        case "vnni" -> {
                            if (best < ISA_VNNI) {
                                throw new IllegalStateException("-Ddova.sim.isa=vnni but this CPU has no AVX-512 VNNI");
                            }
                            yield ISA_VNNI;
                        }
                        default -> throw new IllegalArgumentException("-Ddova.sim.isa must be best, generic, avx2 or vnni, got "
                                + wanted);
                    };
                    loaded = true;
                    status = "native " + isaName(isa);
                } catch (IOException | UnsatisfiedLinkError e) {
                    status = "could not be loaded: " + e.getMessage();
                }
            }
        }
        STATUS = status;
        LOADED = loaded;
        ISA = isa;
        BEST = loaded ? bestLoaded : ISA_GENERIC;
    }

    private NativeKernels() {
    }

    /** True when the native kernels run this JVM's simulations. */
    public static boolean available() {
        return LOADED;
    }

    /** What runs simulations and why, for logs and reports: {@code native AVX2}, or why the pure-Java executor runs. */
    public static String status() {
        return LOADED ? STATUS : "pure Java (native kernels " + STATUS + ")";
    }

    static int isa() {
        return ISA;
    }

    /** The best kernels the loaded library runs on this CPU (whatever -Ddova.sim.isa chose). */
    static int best() {
        return BEST;
    }

    /** The kernels of an ISA level, in words. */
    static String isaName(int isa) {
        return switch (isa) {
            case ISA_VNNI -> "AVX-512 VNNI";
            case ISA_AVX2 -> "AVX2";
            default -> "generic C";
        };
    }

    /** This CPU's feature flags (Linux: the flags line of /proc/cpuinfo), empty when unknown. */
    private static java.util.Set<String> cpuFlags() {
        try (java.util.stream.Stream<String> lines = Files.lines(Path.of("/proc/cpuinfo"))) {
            return lines.filter(l -> l.startsWith("flags")).findFirst()
                    .map(l -> (java.util.Set<String>) new java.util.HashSet<>(java.util.Arrays.asList(
                            l.substring(l.indexOf(':') + 1).trim().split("\\s+"))))
                    .orElse(java.util.Set.of());
        } catch (IOException | RuntimeException e) {
            return java.util.Set.of();
        }
    }

    private static Path libraryPath(URL url) throws IOException {
        if ("file".equals(url.getProtocol())) {
            try {
                return Paths.get(url.toURI());
            } catch (java.net.URISyntaxException e) {
                throw new IOException(e);
            }
        }
        // inside a jar: copy out once per JVM
        Path tmp = Files.createTempFile("libdovasim", ".so");
        tmp.toFile().deleteOnExit();
        try (InputStream in = url.openStream()) {
            Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
        }
        return tmp;
    }

    /** The best ISA the loaded library runs ({@link #ISA_VNNI}, {@link #ISA_AVX2} or {@link #ISA_GENERIC}). */
    private static native int bestIsa();

    /**
     * Runs the whole network of {@code plan} on one image of CHW pixels at {@code offset} (bounds
     * checked by the caller), adding each layer's overflow events to {@code events}; with a
     * {@code capture} buffer (else null), every conv layer's final accumulators are stored in it too.
     */
    static native void run(ByteBuffer plan, ByteBuffer arena, byte[] pixels, int offset, long[] events, ByteBuffer capture);
}
