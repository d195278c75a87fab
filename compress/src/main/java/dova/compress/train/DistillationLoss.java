package dova.compress.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.loss.Loss;

/**
 * Knowledge distillation from a teacher's logits (Hinton et al.): the student's softened
 * distribution is pulled towards the teacher's, {@code T^2 KL(softmax(t/T) || softmax(s/T))}, and
 * where a frame has a label a cross-entropy term on it is added with weight {@code hardWeight}.
 * The label array of a batch is {@code N x (1 + C)}: column 0 the hard label or -1 (none), then
 * the teacher's {@code C} logits.
 */
public final class DistillationLoss extends Loss {
    private final float temperature;
    private final float hardWeight;

    public DistillationLoss(float temperature, float hardWeight) {
        super("DistillationLoss");
        if (!(temperature > 0) || Float.isInfinite(temperature)) {
            throw new IllegalArgumentException("distillation temperature must be > 0, got " + temperature);
        }
        if (!(hardWeight >= 0) || Float.isInfinite(hardWeight)) {
            throw new IllegalArgumentException("distillation hard-label weight must be >= 0, got " + hardWeight);
        }
        this.temperature = temperature;
        this.hardWeight = hardWeight;
    }

    @Override
    public NDArray evaluate(NDList labels, NDList predictions) {
        NDArray y = labels.singletonOrThrow();
        NDArray s = predictions.singletonOrThrow();
        long classes = s.getShape().get(1);
        NDArray hard = y.get(":, 0");
        NDArray teacher = y.get(":, 1:");
        NDArray logPt = teacher.div(temperature).logSoftmax(1);
        NDArray kl = logPt.exp().mul(logPt.sub(s.div(temperature).logSoftmax(1))).sum(new int[] {1})
                .mul(temperature * temperature);
        if (hardWeight == 0) {
            return kl.mean();
        }
        // cross-entropy of the labelled rows: a one-hot of max(label, 0), masked where the label is -1
        NDArray mask = hard.add(1).clip(0, 1); // labels are integers >= -1: 0 for none, 1 otherwise
        NDArray oneHot = hard.clip(0, classes - 1).toType(DataType.INT64, false).oneHot((int) classes);
        NDArray ce = s.logSoftmax(1).mul(oneHot).sum(new int[] {1}).neg().mul(mask);
        return kl.add(ce.mul(hardWeight)).mean();
    }
}
