package dova.compress.net;

import ai.djl.ndarray.NDArray;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * Channel pruning to multiples of the processor's lane count. Filters are ranked by the L1
 * norm of their weights, after batch norm is folded into them (so the ranking includes each
 * channel's batch-norm scale {@code gamma / sqrt(var + eps)}), and the weakest are
 * removed, keeping {@code max(multiple, floor(C * (1 - ratio) / multiple) * multiple)}
 * channels per layer. A layer is pruned only when its output feeds plain convolutions,
 * depthwise convolutions (which lose the same channels), pools, flatten or a dense layer; a
 * layer whose output enters a residual connection keeps its channels, because every tensor
 * of a residual chain must keep the same channel set.
 */
public final class Pruner {
    private Pruner() {
    }

    /** Plan: for each prunable conv op, the sorted output channels to keep. */
    public static Map<String, int[]> plan(QuantNet net, int multiple, double ratio) {
        if (net.hasBatchNorm()) {
            throw new IllegalStateException("fold batch norm (BatchNormFolding) before pruning: filters are ranked by"
                    + " the L1 norm of their folded weights");
        }
        Map<String, int[]> keep = new LinkedHashMap<>();
        List<Op> ops = net.ops();
        for (int i = 0; i < ops.size(); i++) {
            if (!(ops.get(i) instanceof Op.Conv conv) || conv.groups() != 1 || !prunable(ops, i)) {
                continue;
            }
            int c = conv.outChannels();
            int n = Math.max(multiple, (int) Math.floor(c * (1 - ratio) / multiple) * multiple);
            if (n >= c) {
                continue;
            }
            float[] w = net.weight(conv.name()).getArray().toFloatArray();
            int per = w.length / c;
            double[] l1 = new double[c];
            for (int k = 0; k < w.length; k++) {
                l1[k / per] += Math.abs(w[k]);
            }
            int[] kept = IntStream.range(0, c).boxed().sorted(Comparator.comparingDouble((Integer ch) -> -l1[ch]))
                    .limit(n).mapToInt(Integer::intValue).sorted().toArray();
            keep.put(conv.name(), kept);
        }
        return keep;
    }

    /** True if the output of op {@code i} reaches only ops that can follow a channel removal. */
    private static boolean prunable(List<Op> ops, int i) {
        for (int j = i + 1; j < ops.size(); j++) {
            Op op = ops.get(j);
            if (op instanceof Op.Save || op instanceof Op.Residual) {
                return false;
            }
            if (op instanceof Op.Conv c && c.groups() > 1) {
                continue; // depthwise: passes the channel set through
            }
            if (op instanceof Op.Conv || op instanceof Op.Dense) {
                return true;
            }
        }
        return false;
    }

    /** The op list with pruned channel counts (depthwise layers follow their producer). */
    public static List<Op> prunedOps(List<Op> ops, Map<String, int[]> keep) {
        List<Op> out = new ArrayList<>();
        int channels = -1;
        for (Op op : ops) {
            if (op instanceof Op.Conv c) {
                if (c.groups() > 1 && channels > 0) {
                    out.add(c.withOutChannels(channels));
                    continue;
                }
                channels = keep.containsKey(c.name()) ? keep.get(c.name()).length : c.outChannels();
                out.add(new Op.Conv(c.name(), channels, c.kernel(), c.stride(), c.pad(), c.groups(), c.relu(),
                        c.batchNorm()));
            } else {
                out.add(op);
            }
        }
        return out;
    }

    /**
     * Copies the kept weights of {@code from} into the freshly initialized {@code to} (built from
     * {@link #prunedOps}): output rows of pruned layers, the same channels of following depthwise
     * layers, and the matching input columns of the consumer.
     */
    public static void copy(QuantNet from, QuantNet to, Map<String, int[]> keep) {
        int[] inputKeep = null; // channels of the current tensor kept, or null for all
        int spatial = 1; // -1 once flattened: a dense layer then reads H*W features per channel
        for (int i = 0; i < from.ops().size(); i++) {
            Op op = from.ops().get(i);
            if (op instanceof Op.Conv c) {
                int[] outKeep;
                if (c.groups() > 1) {
                    outKeep = inputKeep; // depthwise follows its input
                    copyParams(from, to, c.name(), outKeep, null);
                } else {
                    outKeep = keep.get(c.name());
                    copyParams(from, to, c.name(), outKeep, inputKeep);
                }
                inputKeep = outKeep;
                spatial = 1;
            } else if (op instanceof Op.Flatten) {
                spatial = -1; // resolved at the dense layer from its input shape
            } else if (op instanceof Op.Dense d) {
                int[] cols = null;
                if (inputKeep != null) {
                    int fromFeatures = from.inShape(d.name())[0];
                    int toFeatures = to.inShape(d.name())[0];
                    int perChannel = spatial == -1 ? toFeatures / inputKeep.length : 1;
                    if (spatial == -1 && fromFeatures % perChannel != 0) {
                        throw new IllegalStateException(d.name() + ": cannot map pruned features");
                    }
                    cols = new int[inputKeep.length * perChannel];
                    for (int k = 0; k < inputKeep.length; k++) {
                        for (int p = 0; p < perChannel; p++) {
                            cols[k * perChannel + p] = inputKeep[k] * perChannel + p;
                        }
                    }
                }
                copyParams(from, to, d.name(), null, cols);
                inputKeep = null;
            }
        }
    }

    private static void copyParams(QuantNet from, QuantNet to, String name, int[] rows, int[] cols) {
        NDArray w = from.weight(name).getArray();
        long[] shape = w.getShape().getShape();
        int outC = (int) shape[0];
        int inC = (int) shape[1];
        int per = (int) (w.size() / ((long) outC * inC));
        float[] src = w.toFloatArray();
        int[] r = rows == null ? IntStream.range(0, outC).toArray() : rows;
        int[] c = cols == null ? IntStream.range(0, inC).toArray() : cols;
        float[] dst = new float[r.length * c.length * per];
        for (int a = 0; a < r.length; a++) {
            for (int b = 0; b < c.length; b++) {
                System.arraycopy(src, (r[a] * inC + c[b]) * per, dst, (a * c.length + b) * per, per);
            }
        }
        NDArray tw = to.weight(name).getArray();
        if (tw.size() != dst.length) {
            throw new IllegalStateException(name + ": pruned weights " + dst.length + " != " + tw.size());
        }
        tw.set(dst);
        float[] bias = from.bias(name).getArray().toFloatArray();
        float[] b = new float[r.length];
        for (int a = 0; a < r.length; a++) {
            b[a] = bias[r[a]];
        }
        to.bias(name).getArray().set(b);
    }

    /** Human-readable channel counts before and after, e.g. {@code conv2 32->16}. */
    public static String describe(QuantNet before, Map<String, int[]> keep) {
        Map<String, Integer> counts = new HashMap<>();
        for (Op op : before.ops()) {
            if (op instanceof Op.Conv c) {
                counts.put(c.name(), c.outChannels());
            }
        }
        List<String> parts = new ArrayList<>();
        keep.forEach((k, v) -> parts.add(k + " " + counts.get(k) + "->" + v.length));
        return parts.isEmpty() ? "nothing to prune" : String.join(", ", parts);
    }
}
