package dova.ingest.camera;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Decodes one camera's stream with FFmpeg running as a child process: the source is opened,
 * sampled to the camera's rate, cropped, letterboxed to the model's size and converted to grey or
 * RGB by FFmpeg's filters, and written as raw frames to a pipe that this reader cuts into frames.
 * FFmpeg (Debian's {@code ffmpeg}) rather than JavaCV: one supervised process per camera, so a
 * decoder crash or hang takes down that camera's process, never the agent's JVM, and the codecs
 * (H.264, H.265, MJPEG, V4L2) are the distribution's, updated with it.
 */
final class FfmpegReader implements AutoCloseable {
    /** The ffmpeg binary (DOVA_FFMPEG, else ffmpeg on PATH). */
    static String binary() {
        String b = System.getenv("DOVA_FFMPEG");
        return b == null || b.isBlank() ? "ffmpeg" : b;
    }

    /** The command line for {@code spec} (the url is an argument, never passed through a shell). */
    static List<String> command(CameraSpec spec) {
        List<String> cmd = new ArrayList<>(List.of(binary(), "-hide_banner", "-nostdin", "-loglevel", "error"));
        switch (spec.kind()) {
            case RTSP -> cmd.addAll(List.of("-rtsp_transport", "tcp", "-timeout", "5000000"));
            case HTTP -> cmd.addAll(List.of("-rw_timeout", "5000000"));
            case DEVICE -> cmd.addAll(List.of("-f", "v4l2"));
            case FILE -> {
                if (spec.realtime()) {
                    cmd.add("-re");
                }
            }
        }
        cmd.addAll(List.of("-i", spec.url(), "-an", "-sn", "-dn"));
        String pad = String.format(Locale.ROOT, "scale=%d:%d:force_original_aspect_ratio=decrease:flags=area,"
                + "pad=%d:%d:(ow-iw)/2:(oh-ih)/2:black", spec.width(), spec.height(), spec.width(), spec.height());
        String filters = String.format(Locale.ROOT, "fps=%s", trim(spec.framesPerSecond()))
                + (spec.crop().isEmpty() ? "" : ",crop=" + spec.crop()) + "," + pad
                + ",format=" + (spec.channels() == 1 ? "gray" : "rgb24");
        cmd.addAll(List.of("-vf", filters, "-f", "rawvideo", "-pix_fmt", spec.channels() == 1 ? "gray" : "rgb24", "pipe:1"));
        return cmd;
    }

    private static String trim(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }

    private final CameraSpec spec;
    private final Process process;
    private final InputStream frames;
    private final ArrayDeque<String> lastErrors = new ArrayDeque<>();
    private final AtomicLong errorLines = new AtomicLong();
    private final Thread stderr;

    FfmpegReader(CameraSpec spec) throws IOException {
        this.spec = spec;
        try {
            process = new ProcessBuilder(command(spec)).redirectInput(ProcessBuilder.Redirect.PIPE).start();
        } catch (IOException e) {
            throw new IOException("cannot start " + binary() + " (Debian package ffmpeg; DOVA_FFMPEG names another binary): "
                    + e.getMessage(), e);
        }
        process.getOutputStream().close();
        frames = process.getInputStream();
        stderr = new Thread(this::drainErrors, "ffmpeg-stderr-" + spec.id());
        stderr.setDaemon(true);
        stderr.start();
    }

    private void drainErrors() {
        try (var r = new java.io.BufferedReader(new java.io.InputStreamReader(process.getErrorStream(),
                java.nio.charset.StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                errorLines.incrementAndGet();
                synchronized (lastErrors) {
                    lastErrors.addLast(CameraSpec.redact(line.length() > 300 ? line.substring(0, 300) : line));
                    while (lastErrors.size() > 5) {
                        lastErrors.removeFirst();
                    }
                }
            }
        } catch (IOException e) {
            // the process ended
        }
    }

    /** The next frame, or null at the end of the stream (the source ended, dropped or could not be decoded). */
    byte[] next() throws IOException {
        byte[] f = frames.readNBytes(spec.frameBytes());
        if (f.length == spec.frameBytes()) {
            return f;
        }
        return null; // a partial frame at the end is not a frame
    }

    /** Error lines FFmpeg has written (decode errors, connection failures), redacted. */
    long errorLines() {
        return errorLines.get();
    }

    /** FFmpeg's last error lines, credentials redacted, for a log line. */
    String lastErrors() {
        synchronized (lastErrors) {
            return String.join(" | ", lastErrors);
        }
    }

    /** The exit status, waiting briefly for the process to end; -1 while it still runs. */
    int exitStatus() throws InterruptedException {
        return process.waitFor(2, TimeUnit.SECONDS) ? process.exitValue() : -1;
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(3, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
            stderr.join(1000);
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
