package dova.compress.net;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Shape inference over an {@link Op} chain: the input shape of every conv and dense op, its
 * output channel count, the sign of every requantized tensor, the feature-map area each global
 * pool averages, and which weighted op produces the tensor each weighted op reads. Checks that
 * the chain is well formed (groups divide the channels, residual operands agree, the chain ends
 * in {@code classes} logits) and names the op that is not.
 */
public final class NetShapes {
    /** {C, H, W} read by each conv / dense op. */
    private final Map<String, int[]> inputs = new HashMap<>();
    /** Whether the tensor written by each conv, dense, residual or global-pool op is unsigned, in op order. */
    private final Map<String, Boolean> unsignedOut = new LinkedHashMap<>();
    /** H * W averaged by each global pool. */
    private final Map<String, Integer> poolAreas = new HashMap<>();
    /** For each conv / dense op, the conv / dense op whose output it reads (through max pools and flatten). */
    private final Map<String, String> producers = new HashMap<>();

    public NetShapes(List<Op> ops, int classes, int channels, int height, int width) {
        int c = channels;
        int h = height;
        int w = width;
        boolean unsigned = true; // pixels
        Map<String, int[]> saved = new HashMap<>();
        String producer = null; // the weighted op whose output is the current tensor
        for (Op op : ops) {
            if (op instanceof Op.Conv || op instanceof Op.Dense) {
                String n = op instanceof Op.Conv cv ? cv.name() : ((Op.Dense) op).name();
                if (producer != null) {
                    producers.put(n, producer);
                }
                producer = n;
            } else if (op instanceof Op.Residual || op instanceof Op.GlobalAvgPool || op instanceof Op.Save) {
                producer = null; // residual and pooled tensors are shared or fixed: never narrowed
            }
            if (op instanceof Op.Conv conv) {
                if (c % conv.groups() != 0 || conv.outChannels() % conv.groups() != 0) {
                    throw new IllegalArgumentException(conv.name() + ": groups " + conv.groups() + " must divide "
                            + c + " input and " + conv.outChannels() + " output channels");
                }
                inputs.put(conv.name(), new int[] {c, h, w});
                c = conv.outChannels();
                h = (h + 2 * conv.pad() - conv.kernel()) / conv.stride() + 1;
                w = (w + 2 * conv.pad() - conv.kernel()) / conv.stride() + 1;
                unsigned = conv.relu();
                unsignedOut.put(conv.name(), unsigned);
            } else if (op instanceof Op.Dense dense) {
                if (h != 1 || w != 1) {
                    throw new IllegalArgumentException(dense.name() + ": needs a flattened or pooled input, got "
                            + c + "x" + h + "x" + w);
                }
                inputs.put(dense.name(), new int[] {c, 1, 1});
                c = dense.outputs();
                unsigned = dense.relu();
                unsignedOut.put(dense.name(), unsigned);
            } else if (op instanceof Op.MaxPool p) {
                h = (h - p.kernel()) / p.stride() + 1;
                w = (w - p.kernel()) / p.stride() + 1;
            } else if (op instanceof Op.GlobalAvgPool g) {
                poolAreas.put(g.name(), h * w);
                h = 1;
                w = 1;
                unsignedOut.put(g.name(), unsigned);
            } else if (op instanceof Op.Flatten) {
                c = c * h * w;
                h = 1;
                w = 1;
            } else if (op instanceof Op.Save s) {
                saved.put(s.tag(), new int[] {c, h, w});
            } else if (op instanceof Op.Residual r) {
                int[] s = saved.get(r.tag());
                if (s == null || s[0] != c || s[1] != h || s[2] != w) {
                    throw new IllegalArgumentException(r.name() + ": residual operand shapes differ");
                }
                unsigned = r.relu();
                unsignedOut.put(r.name(), unsigned);
            }
        }
        if (c != classes || h != 1 || w != 1) {
            throw new IllegalArgumentException("network ends in " + c + "x" + h + "x" + w + ", expected " + classes + " logits");
        }
    }

    /** {C, H, W} read by a conv or dense op. */
    public int[] input(String op) {
        return inputs.get(op).clone();
    }

    /** Whether the tensor written by a conv, dense, residual or global-pool op is unsigned. */
    public boolean unsignedOutput(String op) {
        return unsignedOut.get(op);
    }

    /** The ops that write a requantized tensor (conv, dense, residual, global pool), in order. */
    public java.util.Set<String> requantizedOutputs() {
        return java.util.Collections.unmodifiableSet(unsignedOut.keySet());
    }

    /** H * W averaged by a global pool. */
    public int poolArea(String op) {
        return poolAreas.get(op);
    }

    /** The conv / dense op whose output {@code op} reads directly (through max pools and flatten), or null. */
    public String producer(String op) {
        return producers.get(op);
    }
}
