package dova.sim.model;

/** An integer model that is malformed or inconsistent; the message names the layer and the problem. */
public final class InvalidModelException extends RuntimeException {
    public InvalidModelException(String message) {
        super(message);
    }

    public InvalidModelException(String message, Throwable cause) {
        super(message, cause);
    }
}
