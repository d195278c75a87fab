package dova.serve.cli;

import dova.sim.model.IntegerModel;
import dova.sim.model.ModelInfo;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Checks that a model file is being used as it records it should be; warnings go to stderr. */
final class ModelUse {
    private ModelUse() {
    }

    /**
     * The integer model in {@code file}: dova's format, or, for a {@code .onnx} file, an int8 ONNX
     * model in the QOperator form (docs/onnx-export.md, "Import").
     */
    static IntegerModel read(Path file) throws java.io.IOException {
        return isOnnx(file) ? dova.sim.onnx.OnnxImporter.read(file) : dova.sim.model.ModelIo.read(file);
    }

    private static boolean isOnnx(Path file) {
        return file.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".onnx");
    }

    /** The warnings for running {@code m} on {@code data} (empty when nothing is amiss or nothing is recorded). */
    static List<String> warnings(Path file, IntegerModel m, EvalDataOptions.Data data) {
        List<String> out = new ArrayList<>();
        ModelInfo info = m.info();
        if (!info.dataSet().isEmpty() && data.named() != null && !data.named().folder().equals(info.dataSet())) {
            out.add(file + " was trained on " + info.dataSet() + ", not " + data.named().folder()
                    + ": its accuracy there says nothing about either");
        }
        if (!info.classNames().isEmpty() && !data.classNames().isEmpty() && !info.classNames().equals(data.classNames())) {
            out.add(file + " names its classes " + info.classNames() + "; the data's are " + data.classNames()
                    + " (labels are compared by number)");
        }
        int classes = data.images().classes();
        if (classes > m.outputSpec().size()) {
            out.add("the data has labels up to " + (classes - 1) + "; " + file + " has " + m.outputSpec().size()
                    + " outputs, so those images can never be right");
        }
        return out;
    }

    /** One line saying what the file records, or that it records nothing (a format-1 file). */
    static String recorded(Path file, IntegerModel m) {
        ModelInfo i = m.info();
        if (!i.known()) {
            return file + (isOnnx(file) ? ": ONNX" : ": format 1") + ", records no data set, class names or overflow mode";
        }
        return file + ": trained on " + (i.dataSet().isEmpty() ? "?" : i.dataSet()) + " (" + i.classNames().size()
                + " classes), for " + (i.overflow() == null ? "no particular overflow mode"
                : i.overflow().name().toLowerCase(java.util.Locale.ROOT)) + " at A" + m.accumulatorBits() + "/M"
                + m.multiplierBits() + "; input " + i.input();
    }

    static void warn(Path file, IntegerModel m, EvalDataOptions.Data data) {
        System.err.println(recorded(file, m));
        for (String w : warnings(file, m, data)) {
            System.err.println("warning: " + w);
        }
    }

    /** The class names for reports: the data's where it has them, else the model's. */
    static List<String> classNames(IntegerModel m, EvalDataOptions.Data data) {
        return !data.classNames().isEmpty() ? data.classNames() : m.info().classNames();
    }

    /** The model's input must be grey images: checks and names both shapes otherwise. */
    static void checkInput(Path file, IntegerModel m, EvalDataOptions.Data data) {
        var in = m.inputSpec();
        var t = data.images();
        if (in.channels() != 1 || in.height() != t.rows() || in.width() != t.cols()) {
            throw new IllegalArgumentException("model " + file + " takes " + in.shape() + " inputs; the images of "
                    + data.source() + " are 1x" + t.rows() + "x" + t.cols());
        }
    }
}
