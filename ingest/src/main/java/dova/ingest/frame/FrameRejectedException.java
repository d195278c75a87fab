package dova.ingest.frame;

/** A frame that cannot be decoded; carries the reason that goes into the dead-letter header. */
public final class FrameRejectedException extends Exception {
    private final RejectReason reason;

    public FrameRejectedException(RejectReason reason, String detail) {
        super(reason + ": " + detail);
        this.reason = reason;
    }

    public RejectReason reason() {
        return reason;
    }
}
