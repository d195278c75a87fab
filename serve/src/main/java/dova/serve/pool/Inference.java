package dova.serve.pool;

/**
 * The result of one frame on one simulated processor.
 *
 * @param logits the output tensor's integers; real logits are {@code logitScale * logits[i]}
 * @param layerOverflowEvents overflow events of this frame per layer (indexed like the model's layers)
 * @param simulatedCycles the frame's cycles on the simulated processor (the cost model's count for its array)
 * @param computeNanos host wall time of the bit-exact simulation on this CPU (not processor time)
 */
public record Inference(int predicted, int[] logits, double logitScale, int modelVersion, long overflowEvents,
                        long[] layerOverflowEvents, int processor, long queueNanos, long computeNanos, long simulatedCycles) {
}
