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
    MISSING_KEY
}
