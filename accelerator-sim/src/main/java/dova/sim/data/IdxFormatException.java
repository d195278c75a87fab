package dova.sim.data;

import java.io.IOException;

/** An IDX file that cannot be read; the message names the file and what is wrong with it. */
public final class IdxFormatException extends IOException {
    public IdxFormatException(String source, String problem) {
        super(source + ": " + problem);
    }
}
