package dova.compress.train;

/**
 * One epoch of training.
 *
 * @param overflowRate share of layer outputs whose exact accumulator sum left the A-bit range
 *     (0 in FP32 training)
 * @param residentMegabytes resident set size of the process at the end of the epoch (native
 *     memory included), or -1 where /proc is not available
 */
public record EpochStats(String phase, int epoch, double loss, double trainAccuracy, double overflowRate, double seconds,
                         long residentMegabytes) {
    /** VmRSS of this process in MiB from /proc/self/status, or -1. */
    public static long residentMegabytesNow() {
        try {
            for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024;
                }
            }
        } catch (java.io.IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }
}
