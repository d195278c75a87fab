package dova.compress.train;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.initializer.XavierInitializer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import dova.compress.net.QuantNet;
import dova.sim.data.LabelledImages;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.IntConsumer;

/**
 * Mini-batch training of a {@link QuantNet} by a {@link Recipe}. Every step's forward and backward run
 * inside an {@link NDScope} so native memory stays flat; {@code trainer.step()} stays outside
 * (Adam creates its state lazily on the first step and the scope would free it).
 */
public final class TrainingLoop {
    private final Model model;
    private final QuantNet net;

    public TrainingLoop(Model model, QuantNet net) {
        this.model = model;
        this.net = net;
    }

    /** Creates the DJL model for {@code net} and initialises its parameters with a fixed seed. */
    public static TrainingLoop create(QuantNet net, long seed) {
        ai.djl.engine.Engine.getInstance().setRandomSeed((int) seed);
        Model model = Model.newInstance(net.architecture().id(), "PyTorch");
        model.setBlock(net);
        net.initialize(model.getNDManager(), DataType.FLOAT32, new Shape(1, net.inputShape().get(0),
                net.inputShape().get(1), net.inputShape().get(2)));
        return new TrainingLoop(model, net);
    }

    /** The step the optimizer is about to take, read by the learning-rate tracker of scheduled recipes. */
    private volatile long currentStep;

    private DefaultTrainingConfig config(Recipe recipe, int stepsPerEpoch) {
        // Tracker.fixed for the fixed rate: the quick recipe reproduces earlier runs bit for bit
        Tracker rate = recipe.schedule() == Recipe.LrSchedule.FIXED ? Tracker.fixed(recipe.learningRate())
                : numUpdate -> recipe.rateAt(currentStep, stepsPerEpoch);
        Optimizer optimizer = switch (recipe.optimizer()) {
            case ADAM -> Optimizer.adam().optLearningRateTracker(rate).optClipGrad(recipe.clipGrad()).build();
            case ADAMW -> Optimizer.adamW().optLearningRateTracker(rate).optWeightDecays(recipe.weightDecay())
                    .optClipGrad(recipe.clipGrad()).build();
            case SGD -> Optimizer.sgd().setLearningRateTracker(rate).optMomentum(0.9f).optWeightDecays(recipe.weightDecay())
                    .optClipGrad(recipe.clipGrad()).build();
        };
        return new DefaultTrainingConfig(distillation == null ? Loss.softmaxCrossEntropyLoss()
                : new DistillationLoss(distillation.temperature(), distillation.hardWeight()))
                .optOptimizer(optimizer)
                .optInitializer(new XavierInitializer(), Parameter.Type.WEIGHT);
    }

    /**
     * Distillation targets: the teacher's logits for every image of the data set the loop will be
     * fitted on ({@code count x classes}, in the set's order), and each image's hard label or -1.
     */
    public record Distillation(float[] teacherLogits, int[] hardLabels, int classes, float temperature, float hardWeight) {
        public Distillation {
            if (classes < 1 || teacherLogits.length != (long) hardLabels.length * classes) {
                throw new IllegalArgumentException("distillation: " + teacherLogits.length + " teacher logits for "
                        + hardLabels.length + " images of " + classes + " classes");
            }
        }

        /** The teacher's top-1 class of image {@code i}. */
        public int teacherTop1(int i) {
            return top1(teacherLogits, classes, i);
        }
    }

    private Distillation distillation;

    /**
     * Fits by distillation from now on ({@link DistillationLoss}): the teacher's soft targets for
     * every image, plus the hard labels where {@code distillation} has them. The training accuracy
     * reported is then the agreement with the teacher's top-1.
     */
    public TrainingLoop distill(Distillation distillation) {
        this.distillation = distillation;
        return this;
    }

    /** The label array of a distilled batch ({@code n x (1 + C)}) and the teacher's top-1 per image. */
    private NDList distilledLabels(NDManager mgr, int[] order, int from, int n) {
        int c = distillation.classes();
        float[] y = new float[n * (1 + c)];
        float[] top1 = new float[n];
        for (int i = 0; i < n; i++) {
            int img = order[from + i];
            y[i * (1 + c)] = distillation.hardLabels()[img];
            System.arraycopy(distillation.teacherLogits(), img * c, y, i * (1 + c) + 1, c);
            top1[i] = distillation.teacherTop1(img);
        }
        return new NDList(mgr.create(y, new Shape(n, 1 + c)), mgr.create(top1));
    }

    public Model model() {
        return model;
    }

    public QuantNet net() {
        return net;
    }

    /** All of {@code data} as one batch: pixels (0..255 as floats, N x 1 x H x W) and labels. */
    public static NDList batch(NDManager mgr, LabelledImages data) {
        return batch(mgr, data, java.util.stream.IntStream.range(0, data.count()).toArray(), 0, data.count());
    }

    /** Fills a batch of pixels (0..255 as floats) and labels from {@code order[from, from + n)}. */
    static NDList batch(NDManager mgr, LabelledImages data, int[] order, int from, int n) {
        return batch(mgr, data, order, from, n, Augmentation.NONE, null);
    }

    /** As above, each image transformed by {@code augmentation} drawn from {@code rnd}. */
    static NDList batch(NDManager mgr, LabelledImages data, int[] order, int from, int n, Augmentation augmentation,
                        Random rnd) {
        int size = data.pixelsPerImage();
        float[] px = new float[n * size];
        float[] labels = new float[n];
        byte[] all = data.pixels();
        for (int i = 0; i < n; i++) {
            int img = order[from + i];
            augmentation.apply(all, img * size, data.rows(), data.cols(), px, i * size, rnd);
            labels[i] = data.label(img);
        }
        return new NDList(mgr.create(px, new Shape(n, 1, data.rows(), data.cols())), mgr.create(labels));
    }

    /**
     * Trains for {@code epochs} epochs over shuffled {@code data} with Adam at a fixed rate
     * ({@link Recipe#quick}).
     *
     * @param afterEpoch called with the epoch number after each epoch (checkpoints, schedules), or null
     */
    public List<EpochStats> fit(String phase, LabelledImages data, int epochs, int batchSize, float learningRate, long seed,
                                PrintStream log, IntConsumer afterEpoch) {
        return fit(phase, data, epochs, batchSize, learningRate, seed, log, afterEpoch, null);
    }

    /**
     * As above, with {@code afterStep} called with the global step number after every
     * optimizer step (schedules that act within an epoch), or null.
     */
    public List<EpochStats> fit(String phase, LabelledImages data, int epochs, int batchSize, float learningRate, long seed,
                                PrintStream log, IntConsumer afterEpoch, IntConsumer afterStep) {
        return fit(phase, data, Recipe.quick(epochs, batchSize, learningRate), seed, 1, log,
                afterEpoch == null ? null : (epoch, stats) -> afterEpoch.accept(epoch), afterStep);
    }

    /** Called after each epoch with its number and statistics. */
    @FunctionalInterface
    public interface EpochListener {
        void afterEpoch(int epoch, EpochStats stats);
    }

    /**
     * Trains by {@code recipe} from epoch {@code firstEpoch} (1 for a new run; a resumed run
     * passes the epoch after its checkpoint's). The shuffles of the skipped epochs are replayed
     * and each epoch's augmentation draws from its own seed, so a resumed run sees the images an
     * uninterrupted one would; the learning rate continues from the first step of
     * {@code firstEpoch}. The optimizer's moments start afresh (they are not checkpointed).
     */
    public List<EpochStats> fit(String phase, LabelledImages data, Recipe recipe, long seed, int firstEpoch, PrintStream log,
                                EpochListener afterEpoch, IntConsumer afterStep) {
        List<EpochStats> history = new ArrayList<>();
        Random rnd = new Random(seed);
        int[] order = new int[data.count()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        int batchSize = recipe.batchSize();
        int epochs = recipe.epochs();
        int steps = data.count() / batchSize;
        if (steps == 0) {
            throw new IllegalArgumentException(phase + ": " + data.count() + " images are fewer than one batch of " + batchSize);
        }
        if (firstEpoch < 1) {
            throw new IllegalArgumentException(phase + ": the first epoch is 1, got " + firstEpoch);
        }
        if (distillation != null && distillation.hardLabels().length != data.count()) {
            throw new IllegalArgumentException(phase + ": distillation targets for " + distillation.hardLabels().length
                    + " images, the data has " + data.count());
        }
        try (Trainer trainer = model.newTrainer(config(recipe, steps))) {
            trainer.initialize(new Shape(batchSize, net.inputShape().get(0), net.inputShape().get(1), net.inputShape().get(2)));
            for (int epoch = 1; epoch <= epochs; epoch++) {
                shuffle(order, rnd);
                if (epoch < firstEpoch) {
                    continue;
                }
                Random augment = new Random(seed * 0x9E3779B97F4A7C15L + epoch);
                net.state().resetOverflowCounts();
                Progress progress = new Progress(log, phase, steps);
                long start = System.nanoTime();
                double lossSum = 0;
                long correct = 0;
                for (int step = 0; step < steps; step++) {
                    try (NDScope scope = new NDScope()) {
                        scope.suppressNotUsedWarning();
                        NDList b = batch(trainer.getManager(), data, order, step * batchSize, batchSize,
                                recipe.augmentation(), augment);
                        NDList targets = distillation == null ? new NDList(b.get(1), b.get(1))
                                : distilledLabels(trainer.getManager(), order, step * batchSize, batchSize);
                        try (GradientCollector gc = trainer.newGradientCollector()) {
                            NDList pred = trainer.forward(new NDList(b.get(0)));
                            NDArray loss = trainer.getLoss().evaluate(new NDList(targets.get(0)), pred);
                            gc.backward(loss);
                            float l = loss.getFloat();
                            if (!Float.isFinite(l)) {
                                throw new IllegalStateException(phase + " epoch " + epoch + ", step " + (step + 1)
                                        + ": the loss is " + l + ", training diverged (try a lower learning rate)");
                            }
                            lossSum += l;
                            correct += pred.singletonOrThrow().argMax(1).toType(DataType.FLOAT32, false)
                                    .eq(targets.get(1)).toType(DataType.INT64, false).sum().getLong();
                        }
                    }
                    currentStep = (long) (epoch - 1) * steps + step;
                    trainer.step();
                    if (afterStep != null) {
                        afterStep.accept((epoch - 1) * steps + step + 1);
                    }
                    progress.update(epoch, epochs, step + 1, lossSum / (step + 1), (double) correct / ((step + 1) * batchSize));
                }
                EpochStats stats = new EpochStats(phase, epoch, lossSum / steps, (double) correct / (steps * batchSize),
                        net.state().overflowRate(), (System.nanoTime() - start) / 1e9, EpochStats.residentMegabytesNow());
                log.printf(java.util.Locale.ROOT, "%s epoch %d: loss %.4f, train accuracy %.2f%%, %.1f s, resident memory %d MiB%n",
                        phase, epoch, stats.loss(), 100 * stats.trainAccuracy(), stats.seconds(), stats.residentMegabytes());
                history.add(stats);
                if (afterEpoch != null) {
                    afterEpoch.afterEpoch(epoch, stats);
                }
            }
        }
        return history;
    }

    private static void shuffle(int[] order, Random rnd) {
        for (int i = order.length - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
    }

    /** Runs the network (in its current mode) over {@code data} without gradients; returns the predictions. */
    public int[] predict(LabelledImages data, int batchSize) {
        float[] logits = logits(data, batchSize);
        return top1(logits, data.count() == 0 ? 1 : logits.length / data.count());
    }

    /** The class of the largest of row {@code i}'s {@code classes} logits (the first on a tie). */
    public static int top1(float[] logits, int classes, int i) {
        int best = 0;
        for (int c = 1; c < classes; c++) {
            if (logits[i * classes + c] > logits[i * classes + best]) {
                best = c;
            }
        }
        return best;
    }

    /** {@link #top1} of every row of {@code logits} ({@code rows x classes}). */
    public static int[] top1(float[] logits, int classes) {
        int[] out = new int[logits.length / classes];
        for (int i = 0; i < out.length; i++) {
            out[i] = top1(logits, classes, i);
        }
        return out;
    }

    /** The network's outputs (in its current mode) for every image of {@code data}, {@code count x classes}. */
    public float[] logits(LabelledImages data, int batchSize) {
        float[] out = null;
        int[] order = new int[data.count()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        NDManager mgr = model.getNDManager();
        ai.djl.training.ParameterStore store = new ai.djl.training.ParameterStore(mgr, false);
        for (int from = 0; from < data.count(); from += batchSize) {
            int n = Math.min(batchSize, data.count() - from);
            try (NDScope scope = new NDScope()) {
                scope.suppressNotUsedWarning();
                NDList b = batch(mgr, data, order, from, n);
                NDArray pred = net.forward(store, new NDList(b.get(0)), false).singletonOrThrow();
                int classes = (int) pred.getShape().get(1);
                if (out == null) {
                    out = new float[data.count() * classes];
                }
                System.arraycopy(pred.toType(DataType.FLOAT32, false).toFloatArray(), 0, out, from * classes, n * classes);
            }
        }
        return out == null ? new float[0] : out;
    }

    /** FP32 forward over {@code data} recording per-tensor maxima, then sets every activation scale. */
    public void calibrate(LabelledImages data, int batchSize) {
        QuantNet.Mode before = net.mode();
        net.setMode(QuantNet.Mode.CALIBRATING);
        net.state().observedMax.clear();
        try {
            predict(data, batchSize);
        } finally {
            net.setMode(before);
        }
        net.state().finishCalibration(net.outputQmax());
    }

    public static double accuracy(int[] predictions, LabelledImages data) {
        int correct = 0;
        for (int i = 0; i < predictions.length; i++) {
            if (predictions[i] == data.label(i)) {
                correct++;
            }
        }
        return (double) correct / predictions.length;
    }
}
