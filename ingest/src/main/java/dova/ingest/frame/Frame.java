package dova.ingest.frame;

/**
 * A decoded camera frame: 8-bit pixels in CHW order (channel planes, rows, columns).
 *
 * @param captureMillis capture time, milliseconds since the epoch
 * @param label ground-truth class of a labelled stream, or -1
 */
public record Frame(String cameraId, long frameId, long captureMillis, int width, int height, int channels, byte[] pixels,
                    int label) {
    public Frame {
        if ((long) width * height * channels != pixels.length) {
            throw new IllegalArgumentException("frame " + cameraId + "/" + frameId + ": " + width + "x" + height + "x"
                    + channels + " needs " + (long) width * height * channels + " pixels, has " + pixels.length);
        }
    }

    public boolean labelled() {
        return label >= 0;
    }
}
