package dova.compress;

import dova.compress.net.BatchNormFolding;
import dova.compress.net.Checkpoint;
import dova.compress.net.Exporter;
import dova.compress.net.Pruner;
import dova.compress.net.QuantNet;
import dova.compress.net.QuantState;
import dova.compress.train.EpochStats;
import dova.compress.train.TrainingLoop;
import dova.sim.data.DataSet;
import dova.sim.data.LabelledImages;
import dova.sim.data.TrainingData;
import dova.sim.model.IntegerModel;
import dova.sim.model.InvalidModelException;
import dova.sim.model.ModelIo;
import dova.sim.plot.LinePlot;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.IntSummaryStatistics;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The compression pipeline of the paper: FP32 training (or a checkpoint), optional channel
 * pruning to multiples of 16 with fine-tuning, calibration, then quantization-aware
 * fine-tuning that simulates the M-bit downscaling and the A-bit accumulator, with the
 * overflow-aware schedule narrowing each layer's integer weight range while its outputs
 * overflow; finally export to accelerator-sim's integer format.
 */
public final class Compression {
    /** Training images used to calibrate activation scales. */
    public static final int CALIBRATION_IMAGES = 2048;

    private Compression() {
    }

    public static String name(CompressOptions o) {
        // the variants that change what is trained carry a suffix; the paper's method has none
        return String.format(Locale.ROOT, "%s-%s-a%dm%d-%s%s%s%s%s%s%s%s%s%s", o.architecture().id(), o.data().name(),
                o.accumulatorBits(), o.multiplierBits(), o.overflow().name().toLowerCase(Locale.ROOT),
                o.weightBits() < 8 ? "-w" + o.weightBits() : "",
                o.pruneRatio() > 0 ? "-pruned" : "", o.guaranteed() ? "-guaranteed" : "",
                o.downscalingAware() ? "" : "-no-downscaling", o.overflowAware() ? "" : "-no-overflow-aware",
                o.fineTuneEpochs() > 0 ? "-fp32ft" + o.fineTuneEpochs() : "", o.perChannelNarrowing() ? "-per-channel" : "",
                o.prefixBoundEverywhere() ? "-prefix-bound" : "", o.profile() != null ? "-" + o.profile().id() : "");
    }

    private static long parameters(QuantNet net) {
        return net.getDirectParameters().values().stream().mapToLong(p -> p.getArray().size()).sum();
    }

    public static CompressionResult run(CompressOptions o, PrintStream log) throws IOException {
        TrainingData data = o.data();
        LabelledImages train = data.load(DataSet.Split.TRAIN);
        LabelledImages test = data.load(DataSet.Split.TEST);
        if (o.trainLimit() > 0) {
            train = train.head(o.trainLimit());
        }
        int classes = Math.max(train.classes(), test.classes());
        Files.createDirectories(o.outDir());
        String name = name(o);
        List<EpochStats> history = new ArrayList<>();

        QuantNet net = new QuantNet(o.architecture(), o.architecture().ops(classes, 1), classes, 1, train.rows(), train.cols());
        TrainingLoop loop = TrainingLoop.create(net, o.seed());
        try {
            Path fp32Ckpt = o.outDir().resolve(o.architecture().id() + "-" + data.name() + "-fp32.ckpt");
            if (o.fp32Checkpoint() != null) {
                int epoch = Checkpoint.load(net, o.fp32Checkpoint());
                log.printf("loaded FP32 checkpoint %s (epoch %d)%n", o.fp32Checkpoint(), epoch);
                if (o.fineTuneEpochs() > 0) {
                    history.addAll(loop.fit("fp32-ft", train, o.fineTuneEpochs(), o.batchSize(), o.qatLearningRate(),
                            o.seed() + 3, log, null));
                }
            } else {
                QuantNet n0 = net;
                history.addAll(loop.fit("fp32", train, o.fp32Epochs(), o.batchSize(), o.learningRate(), o.seed(), log,
                        epoch -> save(n0, epoch, fp32Ckpt)));
                log.printf("FP32 checkpoint: %s%n", fp32Ckpt);
            }
            double fp32Acc = TrainingLoop.accuracy(loop.predict(test, 250), test);
            log.printf(Locale.ROOT, "FP32 test accuracy: %.2f%%%n", 100 * fp32Acc);

            if (net.hasBatchNorm()) {
                QuantNet folded = new QuantNet(o.architecture(), QuantNet.withoutBatchNorm(net.ops()), classes, 1,
                        train.rows(), train.cols());
                TrainingLoop foldedLoop = TrainingLoop.create(folded, o.seed());
                int n = BatchNormFolding.fold(net, folded);
                loop.model().close();
                loop = foldedLoop;
                net = folded;
                log.printf(Locale.ROOT, "batch norm folded into %d convolutions; FP32 test accuracy after folding: %.2f%%%n",
                        n, 100 * TrainingLoop.accuracy(loop.predict(test, 250), test));
            }

            long fp32Params = parameters(net); // after folding: the parameters the processor would hold
            String pruning = "none";
            if (o.pruneRatio() > 0) {
                Map<String, int[]> keep = Pruner.plan(net, o.pruneMultiple(), o.pruneRatio());
                pruning = Pruner.describe(net, keep);
                QuantNet pruned = new QuantNet(o.architecture(), Pruner.prunedOps(net.ops(), keep), classes, 1, train.rows(),
                        train.cols());
                TrainingLoop prunedLoop = TrainingLoop.create(pruned, o.seed());
                Pruner.copy(net, pruned, keep);
                loop.model().close();
                loop = prunedLoop;
                net = pruned;
                log.printf("pruned to multiples of %d: %s%n", o.pruneMultiple(), pruning);
                history.addAll(loop.fit("prune-ft", train, 1, o.batchSize(), o.learningRate() / 2, o.seed() + 1, log, null));
                log.printf(Locale.ROOT, "pruned FP32 test accuracy: %.2f%%%n",
                        100 * TrainingLoop.accuracy(loop.predict(test, 250), test));
            }

            if (o.weightBits() < 8) {
                int limit = (1 << (o.weightBits() - 1)) - 1;
                net.state().weightLimits.replaceAll((layer, v) -> Math.min(v, limit));
                log.printf("weights: %d bits (integer weights in [-%d, %d]) in every layer%n", o.weightBits(), limit, limit);
            }
            loop.calibrate(train.head(CALIBRATION_IMAGES), 256);
            QuantState st = net.state();
            IntegerModel naive = null;
            String naiveError = null;
            try {
                naive = Exporter.export(net, name + "-naive", o.accumulatorBits(), o.multiplierBits());
            } catch (InvalidModelException e) {
                naiveError = e.getMessage();
                log.println("naive post-training export failed: " + naiveError);
            }

            net.quantize(o.target());
            QuantNet qnet = net;
            qnet.state().collectChannelOverflow = o.perChannelNarrowing();
            qnet.state().prefixBoundEverywhere = o.prefixBoundEverywhere();
            qnet.state().pairStageEverywhere = o.pairStageEverywhere();
            Schedule schedule = new Schedule(qnet, o, log);
            if (o.overflowAware()) {
                schedule.warmStart(loop, train.head(CALIBRATION_IMAGES));
            }
            Path qatCkpt = o.outDir().resolve(name + "-qat.ckpt");
            history.addAll(loop.fit("qat", train, o.qatEpochs(), o.batchSize(), o.qatLearningRate(), o.seed() + 2, log,
                    epoch -> {
                        log.printf(Locale.ROOT, "  overflow rate in QAT epoch %d: %.4f%% of outputs%n", epoch,
                                100 * qnet.state().overflowRate());
                        if (!qnet.state().pairSaturations.isEmpty()) {
                            log.printf("  saturated %s intermediates in QAT epoch %d: %s%n", o.profile(), epoch,
                                    qnet.state().pairSaturations.entrySet().stream()
                                            .map(x -> x.getKey() + " " + x.getValue()[0]).toList());
                        }
                        save(qnet, epoch, qatCkpt);
                    },
                    step -> {
                        if (o.overflowAware() && step % o.scheduleSteps() == 0) {
                            schedule.apply();
                        }
                    }));
            for (Map.Entry<String, int[]> e : qnet.state().channelLimits.entrySet()) {
                IntSummaryStatistics s = java.util.Arrays.stream(e.getValue()).summaryStatistics();
                log.printf(Locale.ROOT, "per-channel weight limits of %s: %d to %d, mean %.1f, %d of %d channels below %d%n",
                        e.getKey(), s.getMin(), s.getMax(), s.getAverage(),
                        java.util.Arrays.stream(e.getValue()).filter(v -> v < qnet.state().weightLimits.get(e.getKey())).count(),
                        e.getValue().length, qnet.state().weightLimits.get(e.getKey()));
            }
            // QAT at this width simulated biases clamped to A bits: export them the same way
            List<String> clamped = new ArrayList<>();
            IntegerModel model = Exporter.export(net, name, o.accumulatorBits(), o.multiplierBits(), true, clamped);
            if (!clamped.isEmpty()) {
                log.printf("%d biases clamped to %d bits, as quantization-aware training simulated them: %s%n",
                        clamped.size(), o.accumulatorBits(), clamped.size() <= 8 ? clamped : clamped.subList(0, 8) + " ...");
            }
            Path modelFile = o.outDir().resolve(name + ".dova");
            // the file records what the model is for; the naive model was not trained for an overflow mode
            model = model.withInfo(dova.sim.model.ModelInfo.of(data.name(), data.classNames(),
                    model.inputSpec(), o.overflow()));
            ModelIo.write(model, modelFile);
            if (naive != null) {
                naive = naive.withInfo(dova.sim.model.ModelInfo.of(data.name(), data.classNames(),
                        naive.inputSpec(), null));
                ModelIo.write(naive, o.outDir().resolve(name + "-naive.dova"));
            }
            Path png = o.outDir().resolve(name + "-curves.png");
            plot(history, name, png);
            log.printf("model: %s%ncurves: %s%n", modelFile, png);
            return new CompressionResult(fp32Acc, naive, naiveError, model, modelFile, png, history,
                    new LinkedHashMap<>(st.weightLimits), pruning, fp32Params, parameters(net));
        } finally {
            loop.model().close();
        }
    }

    /**
     * The overflow-aware schedule. Every {@code scheduleSteps} steps it looks at each layer's
     * overflow rate over those steps; a layer above the target first has its integer weight
     * range narrowed by {@code narrowFactor}, and once its weights are at {@code minWeightLimit},
     * the activation feeding it loses one bit (its scale doubles, so its real range is kept),
     * down to {@code minActivationBits}.
     */
    static final class Schedule {
        private final QuantNet net;
        private final CompressOptions o;
        private final PrintStream log;
        private final Map<String, long[]> last = new LinkedHashMap<>();
        private final Map<String, long[]> lastChannel = new LinkedHashMap<>();

        Schedule(QuantNet net, CompressOptions o, PrintStream log) {
            this.net = net;
            this.o = o;
            this.log = log;
        }

        /**
         * Before any quantization-aware step: narrows on the calibration images, without training,
         * until no layer overflows more than the target or every range is at its floor. Training
         * through massively wrapping accumulators diverges, so QAT starts from here and the
         * in-training schedule continues from it.
         */
        void warmStart(TrainingLoop loop, LabelledImages calibration) {
            QuantState st = net.state();
            for (int round = 0; round < 64; round++) {
                st.resetOverflowCounts();
                last.clear();
                lastChannel.clear();
                loop.predict(calibration, 256);
                log.printf(Locale.ROOT, "warm start %d: overflow rate %.4f%% of outputs on %d calibration images%n", round,
                        100 * st.overflowRate(), calibration.count());
                if (!apply()) {
                    break;
                }
            }
            st.resetOverflowCounts();
            last.clear();
            lastChannel.clear();
        }

        /** One narrowing step for every layer above the target; returns whether anything changed. */
        boolean apply() {
            boolean changed = false;
            QuantState st = net.state();
            for (Map.Entry<String, Integer> e : st.weightLimits.entrySet()) {
                String layer = e.getKey();
                long[] now = st.overflowCounts.getOrDefault(layer, new long[2]);
                long[] before = last.getOrDefault(layer, new long[2]);
                // counts restart at each epoch
                long over = now[0] >= before[0] ? now[0] - before[0] : now[0];
                long all = now[1] >= before[1] ? now[1] - before[1] : now[1];
                last.put(layer, now.clone());
                double rate = all == 0 ? 0 : (double) over / all;
                String producer = net.producer(layer);
                // a layer that reads the image has no activation to narrow: its weights go further, down to 3
                int floor = producer == null ? Math.min(3, o.minWeightLimit()) : o.minWeightLimit();
                if (o.perChannelNarrowing()) {
                    int narrowed = narrowChannels(layer, e.getValue(), all, floor);
                    if (narrowed > 0) {
                        changed = true;
                        continue;
                    }
                    if (narrowed == 0) {
                        continue; // no channel above the target
                    }
                    // narrowed < 0: channels above the target are all at the floor: narrow the input below
                } else if (rate <= o.overflowTarget()) {
                    continue;
                }
                if (!o.perChannelNarrowing() && e.getValue() > floor) {
                    int next = Math.max(floor, (int) Math.floor(e.getValue() * o.narrowFactor()));
                    log.printf(Locale.ROOT, "  schedule: %s overflows %.3f%% of outputs; weight limit %d -> %d%n", layer,
                            100 * rate, e.getValue(), next);
                    e.setValue(next);
                    changed = true;
                    continue;
                }
                if (producer == null) {
                    continue;
                }
                int bits = st.activationBits.getOrDefault(producer, 8);
                if (bits > o.minActivationBits()) {
                    boolean unsigned = net.unsignedOutput(producer);
                    int oldMax = st.qmax(producer, unsigned);
                    st.activationBits.put(producer, bits - 1);
                    int newMax = st.qmax(producer, unsigned);
                    st.activationScales.put(producer, st.activationScales.get(producer) * oldMax / newMax);
                    changed = true;
                    log.printf(Locale.ROOT, "  schedule: %s overflows %.3f%% of outputs; its input %s %d -> %d bits%n",
                            layer, 100 * rate, producer, bits, bits - 1);
                }
            }
            return changed;
        }

        /**
         * Per-channel narrowing of {@code layer} over the outputs since the last look ({@code all}
         * in total, the same number per channel): every channel whose own overflow rate exceeds the
         * target has its limit multiplied by the narrowing factor, down to {@code floor}. Returns the
         * number of channels narrowed; 0 when none is above the target; -1 when those above it are
         * all at the floor.
         */
        private int narrowChannels(String layer, int layerLimit, long all, int floor) {
            QuantState st = net.state();
            long[] now = st.channelOverflowCounts.get(layer);
            if (now == null || all == 0) {
                return 0;
            }
            long[] before = lastChannel.getOrDefault(layer, new long[now.length]);
            lastChannel.put(layer, now.clone());
            int[] lim = st.channelLimits.computeIfAbsent(layer, k -> {
                int[] v = new int[now.length];
                java.util.Arrays.fill(v, layerLimit);
                return v;
            });
            double perChannel = (double) all / now.length;
            int narrowed = 0;
            boolean stuck = false;
            int worst = -1;
            double worstRate = 0;
            for (int c = 0; c < now.length; c++) {
                long over = now[c] >= before[c] ? now[c] - before[c] : now[c];
                double rate = over / perChannel;
                if (rate <= o.overflowTarget()) {
                    continue;
                }
                if (rate > worstRate) {
                    worstRate = rate;
                    worst = c;
                }
                if (lim[c] > floor) {
                    lim[c] = Math.max(floor, (int) Math.floor(lim[c] * o.narrowFactor()));
                    narrowed++;
                } else {
                    stuck = true;
                }
            }
            if (narrowed > 0) {
                log.printf(Locale.ROOT, "  schedule: %s: %d of %d channels overflow; their weight limits narrowed (worst:"
                        + " channel %d, %.3f%% of its outputs, limit now %d)%n", layer, narrowed, now.length, worst,
                        100 * worstRate, lim[worst]);
                return narrowed;
            }
            return stuck ? -1 : 0;
        }
    }

    private static void save(QuantNet net, int epoch, Path file) {
        try {
            Checkpoint.save(net, epoch, file);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot write checkpoint " + file, e);
        }
    }

    /**
     * Two panels as two files: train error and overflow (percentages) in {@code png}, the loss
     * beside it ({@code -loss.png}); one series per phase, so that where quantization-aware
     * training starts is where its colour starts. The x axis counts epochs over all phases.
     */
    private static void plot(List<EpochStats> history, String name, Path png) throws IOException {
        LinePlot pct = new LinePlot(name + ": train error and overflow, all phases in order", "epoch (all phases)", "%");
        LinePlot loss = new LinePlot(name + ": training loss, all phases in order", "epoch (all phases)", "loss");
        Map<String, List<Integer>> phases = new LinkedHashMap<>();
        for (int i = 0; i < history.size(); i++) {
            phases.computeIfAbsent(history.get(i).phase(), k -> new ArrayList<>()).add(i);
        }
        for (Map.Entry<String, List<Integer>> e : phases.entrySet()) {
            List<Integer> idx = e.getValue();
            double[] x = idx.stream().mapToDouble(i -> i + 1).toArray();
            pct.add(e.getKey() + " train error %", x, idx.stream().mapToDouble(i -> 100 * (1 - history.get(i).trainAccuracy()))
                    .toArray());
            if (e.getKey().equals("qat")) {
                pct.add("qat overflow % of outputs", x, idx.stream().mapToDouble(i -> 100 * history.get(i).overflowRate())
                        .toArray());
            }
            loss.add(e.getKey(), x, idx.stream().mapToDouble(i -> history.get(i).loss()).toArray());
        }
        pct.write(png);
        loss.write(png.resolveSibling(png.getFileName().toString().replace(".png", "-loss.png")));
    }
}
