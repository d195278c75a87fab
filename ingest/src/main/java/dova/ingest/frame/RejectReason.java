package dova.ingest.frame;

/** Why a frame went to the dead-letter topic; the name is the value of its {@code dova-reject-reason} header. */
public enum RejectReason {
    TRUNCATED,
    BAD_MAGIC,
    UNKNOWN_VERSION,
    UNKNOWN_PIXEL_FORMAT,
    WRONG_DIMENSIONS,
    OVERSIZED,
    UNDECODABLE_IMAGE,
    TRAILING_BYTES,
    MISSING_KEY,
    /** Decoded, but its shape (width, height, channels) is not the serving model's input. */
    MODEL_INPUT_MISMATCH,
    /** Decoded and of the right shape, but the processor pool failed on it (the detail says why). */
    PROCESSING_FAILED
}
