package dova.ingest.frame;

import dova.sim.model.WireCode;

/** How a frame's payload encodes its pixels, with its code in the frame format (docs/frame-format.md). */
public enum PixelFormat implements WireCode {
    /** Raw 8-bit samples, channel planes in CHW order. */
    RAW8(0),
    PNG(1),
    JPEG(2);

    private final int code;

    PixelFormat(int code) {
        this.code = code;
    }

    @Override
    public int code() {
        return code;
    }
}
