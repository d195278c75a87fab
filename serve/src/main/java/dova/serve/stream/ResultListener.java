package dova.serve.stream;

import dova.ingest.frame.Frame;
import dova.serve.pool.Inference;

/** Sees every result as it is written (the demo measures accuracy with it). Called from stream threads. */
@FunctionalInterface
public interface ResultListener {
    void onResult(Frame frame, Inference inference, long endToEndNanos);
}
