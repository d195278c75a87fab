package dova.serve.registry;

import dova.sim.model.IntegerModel;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Where accepted models go: a replica's own folder ({@link ModelRegistry}) or the fleet's shared
 * topic ({@link FleetRegistry}). A version is published first and made current after, so a
 * reader never meets a pointer to a version it cannot have.
 */
public interface ModelStore {
    /**
     * Stores {@code model} as the next version (not yet current), with the QAT checkpoint its
     * float weights are in, or null; returns its number.
     */
    int publish(IntegerModel model, String note, Path checkpoint) throws IOException;

    /** Makes {@code version} the serving one, after checking that it loads. */
    void makeCurrent(int version) throws IOException;

    /** Where this replica keeps version {@code version}'s QAT checkpoint (the base of the next retraining). */
    Path checkpointFile(int version);
}
