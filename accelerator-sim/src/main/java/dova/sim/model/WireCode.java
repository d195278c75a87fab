package dova.sim.model;

import java.util.Optional;

/**
 * An enum constant's code in a binary format. Each constant states its code explicitly, so that
 * reordering or inserting constants never changes what a file or record means.
 */
public interface WireCode {
    /** The byte the format writes for this constant (0..255). */
    int code();

    /** The constant of {@code type} with {@code code}, or empty. */
    static <E extends Enum<E> & WireCode> Optional<E> byCode(Class<E> type, int code) {
        for (E e : type.getEnumConstants()) {
            if (e.code() == code) {
                return Optional.of(e);
            }
        }
        return Optional.empty();
    }
}
