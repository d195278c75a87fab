package dova.sim.exec;

import dova.sim.ProcessorConfig;
import dova.sim.model.Conv2d;
import dova.sim.model.Flatten;
import dova.sim.model.IntegerModel;
import dova.sim.model.Layer;

/** Which models and processors the native kernels take. */
final class NativeSupport {
    private NativeSupport() {
    }

    /**
     * Why this model cannot run on the native kernels, or null when it can. The native kernels
     * need unsigned conv inputs (for the P/N bound), dense or depthwise convolutions, native
     * requantization, and flatten outputs read only by convolutions.
     */
    static String unsupported(IntegerModel model, ProcessorConfig config) {
        if (config.requantMode() != dova.sim.RequantMode.NATIVE) {
            return "gemmlowp requantization";
        }
        if (model.inputSpec().signed() || model.inputSpec().bits() != 8) {
            return "input tensor " + model.inputSpec().name() + " is not unsigned 8-bit";
        }
        boolean[] flattened = new boolean[model.tensors().size()];
        for (Layer l : model.layers()) {
            if (l instanceof Flatten f) {
                flattened[f.output()] = true;
            }
        }
        for (Layer l : model.layers()) {
            if (l instanceof Conv2d c) {
                if (c.groups() != 1 && !c.depthwise()) {
                    return "grouped convolution " + c.name();
                }
                if (model.tensor(c.input()).signed()) {
                    return "convolution " + c.name() + " reads a signed tensor";
                }
                if ((long) c.kernelH() * c.kernelW() * c.inChannelsPerGroup() > NativePlan.MAX_PN_LENGTH) {
                    return "convolution " + c.name() + " has dot products longer than " + NativePlan.MAX_PN_LENGTH;
                }
            } else if (!(l instanceof Flatten)) {
                for (int in : l.inputs()) {
                    if (flattened[in]) {
                        return "layer " + l.name() + " reads a flatten output";
                    }
                }
            }
        }
        return null;
    }
}
