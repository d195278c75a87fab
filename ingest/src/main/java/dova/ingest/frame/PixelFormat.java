package dova.ingest.frame;

/** How a frame's payload encodes its pixels. */
public enum PixelFormat {
    /** Raw 8-bit samples, channel planes in CHW order. */
    RAW8,
    PNG,
    JPEG
}
