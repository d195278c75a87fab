package dova.serve.cli;

import dova.sim.Overflow;
import dova.sim.ProcessorConfig;
import dova.sim.RequantMode;
import dova.sim.cost.CostTable;
import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Processor options shared by the commands that run models. */
public final class ProcessorOptions {
    @Option(names = "--acc-bits", description = "accumulator bits A, 8..32 (default: ${DEFAULT-VALUE})", defaultValue = "16")
    int accBits;

    @Option(names = "--mul-bits", description = "requantization multiplier bits M, 4..32 (default: ${DEFAULT-VALUE})",
            defaultValue = "12")
    int mulBits;

    @Option(names = "--overflow", description = "wrap or saturate (default: ${DEFAULT-VALUE})", defaultValue = "wrap")
    String overflow;

    @Option(names = "--requant", description = "native or gemmlowp (default: ${DEFAULT-VALUE})", defaultValue = "native")
    String requant;

    @Option(names = "--lanes", description = "input-channel lanes L (default: ${DEFAULT-VALUE})", defaultValue = "16")
    int lanes;

    @Option(names = "--rows", description = "PE rows (default: ${DEFAULT-VALUE})", defaultValue = "16")
    int rows;

    @Option(names = "--cost-table", description = "cost table properties file (default: built-in Horowitz 45 nm)")
    Path costTable;

    ProcessorConfig config() throws IOException {
        Options.range("--acc-bits", accBits, 8, 32);
        Options.range("--mul-bits", mulBits, 4, 32);
        Options.range("--lanes", lanes, 1, 4096);
        Options.range("--rows", rows, 1, 4096);
        Overflow mode0 = Options.choice("--overflow", overflow, Overflow.class);
        if (costTable != null && !java.nio.file.Files.isRegularFile(costTable)) {
            throw new IllegalArgumentException("--cost-table " + costTable + ": no such file");
        }
        RequantMode mode = switch (requant.toLowerCase(java.util.Locale.ROOT)) {
            case "native" -> RequantMode.NATIVE;
            case "gemmlowp" -> RequantMode.GEMMLOWP;
            default -> throw new IllegalArgumentException("--requant must be native or gemmlowp, got '" + requant + "'");
        };
        CostTable table = costTable == null ? CostTable.horowitz45nm() : CostTable.load(costTable);
        return ProcessorConfig.baseline().withCostTable(table).withAccumulator(accBits, mode0)
                .withMultiplierBits(mulBits).withArray(lanes, rows).withRequantMode(mode);
    }
}
