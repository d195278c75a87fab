package dova.serve.recal;

import dova.sim.data.LabelledImages;
import dova.sim.model.TensorSpec;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * The most recent sampled frames (setting {@code dova.recalibration.recent-frames}), the data
 * a recalibration attempt plans, retrains and judges on. Bounded: the oldest frame goes when a
 * new one arrives at capacity. One writer (the calibration branch); {@link #snapshot()} copies.
 */
public final class RecentFrames {
    /** One frame's pixels (the model's input layout) and label ({@code -1}: unlabelled). */
    public record Sample(byte[] pixels, int label) {
        public boolean labelled() {
            return label >= 0;
        }
    }

    private final int capacity;
    private final ArrayDeque<Sample> frames;

    public RecentFrames(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("recent frames: capacity must be >= 1, got " + capacity);
        }
        this.capacity = capacity;
        this.frames = new ArrayDeque<>(Math.min(capacity, 1 << 16));
    }

    public synchronized void add(Sample s) {
        if (frames.size() == capacity) {
            frames.removeFirst();
        }
        frames.addLast(s);
    }

    public synchronized void clear() {
        frames.clear();
    }

    public synchronized int size() {
        return frames.size();
    }

    /** The frames, oldest first. */
    public synchronized List<Sample> snapshot() {
        return new ArrayList<>(frames);
    }

    /** {@code samples} as labelled images of {@code input}'s shape (for training; every sample labelled). */
    public static LabelledImages images(List<Sample> samples, TensorSpec input) {
        return images(samples, input, true);
    }

    /**
     * {@code samples} as images of {@code input}'s shape; with {@code needLabels} false an
     * unlabelled sample gets label 0 in the set (its real label, -1, is in {@link #labels}).
     */
    public static LabelledImages images(List<Sample> samples, TensorSpec input, boolean needLabels) {
        if (input.channels() != 1) {
            throw new IllegalArgumentException("retraining takes single-channel images; the model's input is "
                    + input.shape());
        }
        int size = input.size();
        byte[] px = new byte[samples.size() * size];
        byte[] labels = new byte[samples.size()];
        for (int i = 0; i < samples.size(); i++) {
            Sample s = samples.get(i);
            if (s.pixels().length != size || (needLabels && !s.labelled())) {
                throw new IllegalArgumentException("sample " + i + ": " + s.pixels().length + " pixels, label " + s.label()
                        + "; the model takes " + size + " and training needs a label");
            }
            System.arraycopy(s.pixels(), 0, px, i * size, size);
            labels[i] = (byte) Math.max(0, s.label());
        }
        return new LabelledImages("recent", samples.size(), input.height(), input.width(), px, labels);
    }

    /** Each sample's label, or -1. */
    public static int[] labels(List<Sample> samples) {
        return samples.stream().mapToInt(Sample::label).toArray();
    }

    /** The pixels of {@code samples} one after another (for planning). */
    public static byte[] pixels(List<Sample> samples, int size) {
        byte[] px = new byte[samples.size() * size];
        for (int i = 0; i < samples.size(); i++) {
            System.arraycopy(samples.get(i).pixels(), 0, px, i * size, size);
        }
        return px;
    }
}
