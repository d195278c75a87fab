package dova.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dova.serve.cli.Main;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped LeNet re-made from the command in models/README.md is the shipped file, byte for
 * byte (about 5 minutes: slow profile). Bit-for-bit holds on the CPU kind the file was made on
 * (PyTorch's kernels differ between instruction sets; models/README.md).
 */
@Tag("slow")
class ShippedModelReproducesIT {
    @Test
    void theReadmeCommandRemakesTheShippedModel(@TempDir Path out) throws Exception {
        int rc = Main.commandLine().execute("compress", "--model", "lenet", "--data", "mnist", "--data-dir", "../data",
                "--epochs", "2", "--qat-epochs", "2", "--acc-bits", "16", "--mul-bits", "12", "--overflow", "wrap",
                "--seed", "1", "--out", out.toString());
        assertEquals(0, rc);
        assertEquals(sha256(Path.of("../models/lenet-mnist-a16m12-wrap.dova")),
                sha256(out.resolve("lenet-mnist-a16m12-wrap.dova")));
    }

    private static String sha256(Path f) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(f)));
    }
}
