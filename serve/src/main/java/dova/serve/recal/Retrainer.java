package dova.serve.recal;

import dova.compress.net.Architecture;
import dova.compress.net.Checkpoint;
import dova.compress.net.Exporter;
import dova.compress.net.QuantNet;
import dova.compress.net.QuantSettings;
import dova.compress.train.TrainingLoop;
import dova.ingest.idx.LabelledImages;
import dova.sim.ProcessorConfig;
import dova.sim.model.IntegerModel;
import dova.sim.model.TensorSpec;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;

/**
 * Brief downscaling- and overflow-aware fine-tuning of the serving network on recent labelled
 * frames (compress's training loop, DJL / PyTorch on the CPU): starts from the initial model's
 * QAT checkpoint, re-calibrates activation scales on the frames, trains a few epochs at a low
 * learning rate with the processor's A, M and overflow mode simulated, and exports.
 */
public final class Retrainer {
    private final Path checkpoint;
    private final Architecture architecture;

    /** @throws IllegalArgumentException naming {@code dova.model.checkpoint} if it is missing or unreadable */
    public Retrainer(Path checkpoint) {
        this.checkpoint = checkpoint;
        try {
            this.architecture = Checkpoint.architecture(checkpoint);
        } catch (IOException e) {
            throw new IllegalArgumentException("dova.model.checkpoint: " + e.getMessage());
        }
    }

    public IntegerModel retrain(IntegerModel serving, ProcessorConfig target, LabelledImages train, int epochs, long seed)
            throws IOException {
        TensorSpec in = serving.inputSpec();
        int classes = serving.outputSpec().channels();
        // QAT checkpoints are saved after batch norm was folded
        QuantNet net = new QuantNet(architecture, QuantNet.withoutBatchNorm(architecture.ops(classes, 1)), classes,
                in.channels(), in.height(), in.width());
        TrainingLoop loop = TrainingLoop.create(net, seed);
        try {
            Checkpoint.load(net, checkpoint);
            loop.calibrate(train, 64);
            QuantSettings st = net.settings();
            st.quantized = true;
            st.accumulatorBits = target.accumulatorBits();
            st.multiplierBits = target.multiplierBits();
            st.overflow = target.overflow();
            st.downscalingAware = true;
            st.overflowAware = true;
            PrintStream quiet = new PrintStream(OutputStream.nullOutputStream());
            loop.fit("retrain", train, epochs, Math.min(32, train.count()), 1e-4f, seed, quiet, null);
            return Exporter.export(net, serving.name(), target.accumulatorBits(), target.multiplierBits());
        } finally {
            loop.model().close();
        }
    }
}
