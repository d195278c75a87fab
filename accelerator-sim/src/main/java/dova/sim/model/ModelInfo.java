package dova.sim.model;

import dova.sim.Overflow;
import java.util.List;

/**
 * What a model file records about how it is to be used (format version 2): the data set it was
 * trained on, its class names in label order, how a camera's 8-bit pixels become its input, and
 * the accumulator overflow mode it was trained for (its widths are the model's own). Files of
 * format version 1 load with {@link #UNKNOWN}.
 *
 * @param dataSet the training set's name ({@code mnist}, {@code fashion-mnist}, a folder's name), or "" when unknown
 * @param classNames one name per output class, in label order; empty when unknown
 * @param input how pixels are presented to the input tensor, for example {@code "grey 28x28, uint8 pixel / 255"}; "" when unknown
 * @param overflow the overflow mode the model was trained and calibrated for, or null when unknown
 */
public record ModelInfo(String dataSet, List<String> classNames, String input, Overflow overflow) {
    /** Nothing recorded (a version-1 file, or a model built in code). */
    public static final ModelInfo UNKNOWN = new ModelInfo("", List.of(), "", null);

    public ModelInfo {
        if (dataSet == null || classNames == null || input == null) {
            throw new IllegalArgumentException("model info: data set, class names and input must not be null (use \"\" or an empty list)");
        }
        classNames = List.copyOf(classNames);
    }

    /** What a model trained on {@code dataSet} for {@code overflow} records; the input text is derived from its input tensor. */
    public static ModelInfo of(String dataSet, List<String> classNames, TensorSpec input, Overflow overflow) {
        return new ModelInfo(dataSet, classNames, describe(input), overflow);
    }

    /** How pixels reach {@code input}: its shape and the real value of one pixel step. */
    public static String describe(TensorSpec input) {
        return String.format(java.util.Locale.ROOT, "%s unsigned 8-bit pixels, real value = pixel x %.6g%s", input.shape(),
                input.scale(), Math.abs(input.scale() * 255 - 1) < 1e-6 ? " (pixel / 255)" : "");
    }

    public boolean known() {
        return !equals(UNKNOWN);
    }

    /** The name of class {@code label}, or the label itself where no names are recorded. */
    public String className(int label) {
        return label >= 0 && label < classNames.size() ? classNames.get(label) : Integer.toString(label);
    }
}
