package dova.serve.pool;

/**
 * The result of one frame on one simulated processor.
 *
 * @param logits the output tensor's integers; real logits are {@code logitScale * logits[i]}
 * @param layerOverflowEvents overflow events of this frame per layer (indexed like the model's layers)
 */
public record Inference(int predicted, int[] logits, double logitScale, int modelVersion, long overflowEvents,
                        long[] layerOverflowEvents, int processor, long queueNanos, long computeNanos) {
}
