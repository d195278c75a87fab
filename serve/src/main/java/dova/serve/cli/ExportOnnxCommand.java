package dova.serve.cli;

import dova.sim.model.IntegerModel;
import dova.sim.model.ModelIo;
import dova.sim.onnx.OnnxExporter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Writes an integer model as ONNX (docs/onnx-export.md). */
@Command(name = "export-onnx", mixinStandardHelpOptions = true,
        description = "Write an integer model as ONNX: INT8 (QOperator: QLinearConv, QLinearAdd, MaxPool,"
                + " QLinearGlobalAveragePool, ...; uint8 pixels in, integer logits out) or FLOAT (the same network in FP32)."
                + " See docs/onnx-export.md.")
public final class ExportOnnxCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "integer model file (.dova)")
    Path model;

    @Option(names = "--out", required = true, description = "ONNX file to write")
    Path out;

    @Option(names = "--flavour", defaultValue = "INT8", description = "INT8 or FLOAT (default: ${DEFAULT-VALUE})")
    OnnxExporter.Flavour flavour;

    @Option(names = "--every-tensor", description = "also make every layer's output a graph output (to compare runtimes layer by layer)")
    boolean everyTensor;

    @Override
    public Integer call() throws Exception {
        IntegerModel m = ModelIo.read(model);
        byte[] bytes = everyTensor ? OnnxExporter.exportEveryTensor(m, flavour) : OnnxExporter.export(m, flavour);
        Path parent = out.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Files.write(out, bytes);
        System.out.printf("%s: %s ONNX, %d layers, %d bytes, input %s uint8 [N, %d, %d, %d], output %s [N, %d]%n", out,
                flavour, m.layers().size(), bytes.length, OnnxExporter.INPUT, m.inputSpec().channels(), m.inputSpec().height(),
                m.inputSpec().width(), OnnxExporter.OUTPUT, m.outputSpec().size());
        return 0;
    }
}
