package dova.ingest.camera;

import java.net.URI;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * One camera of the agent: where its stream is, how often to sample it, and the frames the model
 * takes. Frames are cropped first (optional), then scaled to fit {@code width x height} with the
 * aspect ratio kept and the rest padded black, centred (letterboxing), then converted to grey
 * (BT.601 luma, as the training data) or RGB.
 *
 * @param id the camera id: the Kafka key and the {@code camera} label of every metric
 * @param url {@code rtsp://}, {@code http(s)://} (MJPEG or any stream FFmpeg reads), a file path, or a {@code /dev/video*} device
 * @param framesPerSecond the rate frames are sampled at (FFmpeg's fps filter: frames dropped or repeated to it)
 * @param crop {@code w:h:x:y} in source pixels, or "" for none
 * @param realtime read a file at its own frame rate, as a camera would deliver it (false: as fast as it decodes)
 * @param loop start a file again when it ends (otherwise the camera is finished)
 */
public record CameraSpec(String id, String url, double framesPerSecond, int width, int height, int channels, String crop,
                         boolean realtime, boolean loop) {
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,62}");
    private static final Pattern CROP = Pattern.compile("\\d{1,5}:\\d{1,5}:\\d{1,5}:\\d{1,5}");

    public CameraSpec {
        if (id == null || !ID.matcher(id).matches()) {
            throw new IllegalArgumentException("camera id '" + id + "': 1-63 letters, digits, '.', '_' or '-'");
        }
        if (url == null || url.isBlank()) {
            throw new IllegalArgumentException("camera " + id + ": no url");
        }
        if (!(framesPerSecond > 0 && framesPerSecond <= 240)) {
            throw new IllegalArgumentException("camera " + id + ": frames per second must be in (0, 240], got " + framesPerSecond);
        }
        if (width < 1 || height < 1 || width > 4096 || height > 4096) {
            throw new IllegalArgumentException("camera " + id + ": frame size " + width + "x" + height + " outside 1..4096");
        }
        if (channels != 1 && channels != 3) {
            throw new IllegalArgumentException("camera " + id + ": channels must be 1 (grey) or 3 (RGB), got " + channels);
        }
        crop = crop == null ? "" : crop;
        if (!crop.isEmpty() && !CROP.matcher(crop).matches()) {
            throw new IllegalArgumentException("camera " + id + ": crop must be w:h:x:y in pixels, got '" + crop + "'");
        }
    }

    public enum Kind { RTSP, HTTP, DEVICE, FILE }

    public Kind kind() {
        String u = url.toLowerCase(Locale.ROOT);
        if (u.startsWith("rtsp://") || u.startsWith("rtsps://")) {
            return Kind.RTSP;
        }
        if (u.startsWith("http://") || u.startsWith("https://")) {
            return Kind.HTTP;
        }
        if (u.startsWith("/dev/video")) {
            return Kind.DEVICE;
        }
        return Kind.FILE;
    }

    /** The url with any user name and password replaced by {@code ***}: the only form logged or shown. */
    public String safeUrl() {
        return redact(url);
    }

    /** {@code scheme://user:password@host/...} becomes {@code scheme://***@host/...}; other text is unchanged. */
    public static String redact(String text) {
        return text == null ? null : text.replaceAll("(?i)\\b([a-z][a-z0-9+.-]*://)[^/@\\s]*@", "$1***@");
    }

    /** The bytes of one frame. */
    public int frameBytes() {
        return width * height * channels;
    }

    /** Validates the url's syntax for network sources (so a typo fails at start-up, naming the camera). */
    void checkUrl() {
        if (kind() == Kind.RTSP || kind() == Kind.HTTP) {
            try {
                URI u = new URI(url);
                if (u.getHost() == null) {
                    throw new IllegalArgumentException("camera " + id + ": no host in " + safeUrl());
                }
            } catch (java.net.URISyntaxException e) {
                throw new IllegalArgumentException("camera " + id + ": not a valid url: " + redact(e.getMessage()));
            }
        }
    }
}
