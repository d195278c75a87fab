package dova.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dova.serve.cli.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Bad input on the command line stops with one line naming the problem, before any long work. */
class CliTest {
    private static String[] run(String... args) {
        CommandLine cl = Main.commandLine();
        StringWriter err = new StringWriter();
        StringWriter out = new StringWriter();
        cl.setErr(new PrintWriter(err));
        cl.setOut(new PrintWriter(out));
        int rc = cl.execute(args);
        return new String[] {Integer.toString(rc), err.toString(), out.toString()};
    }

    @Test
    void everyCommandHasHelp() {
        for (String c : new String[] {"demo", "serve", "replay", "camera", "train", "compress", "simulate", "export-onnx", "eval", "sweep",
            "models"}) {
            String[] r = run(c, "--help");
            assertEquals("0", r[0], c);
            assertTrue(r[2].contains("Usage: dova " + c), c + ": " + r[2]);
        }
    }

    @Test
    void unknownModelImpossibleWidthsAndMissingCheckpointAreNamed() {
        String[] r = run("compress", "--model", "vgg");
        assertEquals("2", r[0]);
        assertTrue(r[1].contains("unknown model 'vgg'; known: lenet, resnet, mobilenet"), r[1]);
        assertTrue(run("compress", "--acc-bits", "40")[1].contains("--acc-bits must be in [8, 32], got 40"));
        assertTrue(run("compress", "--mul-bits", "2")[1].contains("--mul-bits must be in [4, 32], got 2"));
        assertTrue(run("compress", "--from", "nowhere.ckpt", "--epochs", "0")[1].contains("--from nowhere.ckpt: no such checkpoint"));
        assertTrue(run("compress", "--data", "cifar10")[1].contains("unknown data set 'cifar10'"));
    }

    @Test
    void optionsAreCheckedByTheirNamesBeforeTheWork(@TempDir Path dir) throws Exception {
        String model = "../models/lenet-mnist-a16m12-wrap.dova";
        assertTrue(run("simulate", "--model", model, "--acc-bits", "40")[1].contains("--acc-bits must be in [8, 32], got 40"));
        for (String n : new String[] {"0", "-5"}) {
            String[] r = run("simulate", "--model", model, "--limit", n);
            assertEquals("2", r[0]);
            assertTrue(r[1].contains("--limit must be in [1, "), r[1]);
        }
        assertTrue(run("simulate", "--model", model, "--threads", "0")[1].contains("--threads must be in [1, 1024], got 0"));
        Path file = Files.writeString(dir.resolve("file.txt"), "x");
        String[] j = run("simulate", "--model", model, "--json", file.resolve("out.json").toString());
        assertTrue(j[1].contains("--json") && j[1].contains("cannot create its folder"), j[1]);
        assertTrue(run("simulate", "--model", model, "--overflow", "clip")[1]
                .contains("--overflow must be one of wrap, saturate, got 'clip'"));
        String[] f = run("replay", "--bootstrap-servers", "127.0.0.1:1", "--format", "bmp");
        assertTrue(f[1].contains("--format must be one of raw8, png, jpeg, got 'bmp'"), f[1]);
        long start = System.nanoTime();
        String[] b = run("replay", "--bootstrap-servers", "127.0.0.1:1", "--frames", "1");
        assertEquals("2", b[0]);
        assertTrue(b[1].contains("cannot reach a Kafka broker at 127.0.0.1:1"), b[1]);
        assertTrue(System.nanoTime() - start < 30_000_000_000L, "an unreachable broker fails fast");
        assertTrue(run("train", "--lr", "-1")[1].contains("--lr and --qat-lr must be > 0"));
        String[] src = run("demo", "--source", dir.resolve("missing.mp4").toString());
        assertEquals("2", src[0]);
        assertTrue(src[1].contains("--source") && src[1].contains("no such file"), src[1]);
        String[] replicas = run("demo", "--replicas", "9");
        assertEquals("2", replicas[0]);
        assertTrue(replicas[1].contains("--replicas must be in [1, 8], got 9"), replicas[1]);
        String[] fleet = run("models", "rollback", "2", "--bootstrap-servers", "127.0.0.1:1");
        assertEquals("2", fleet[0]);
        assertTrue(fleet[1].contains("127.0.0.1:1") && fleet[1].contains("-models"), fleet[1]);
        String[] cam = run("camera", "--source", "rtsp://admin:hunter2@10.0.0.5/s", "--size", "28", "--bootstrap-servers",
                "127.0.0.1:1");
        assertTrue(cam[1].contains("--size must be WxH"), cam[1]);
        String[] unreachable = run("camera", "--source", "rtsp://admin:hunter2@10.0.0.5/s", "--bootstrap-servers", "127.0.0.1:1");
        assertEquals("2", unreachable[0]);
        assertTrue(unreachable[1].contains("127.0.0.1:1") && !unreachable[1].contains("hunter2"), unreachable[1]);
    }

    @Test
    void corruptModelAndMissingDataAreNamed(@TempDir Path dir) throws Exception {
        Path bad = Files.write(dir.resolve("bad.dova"), new byte[] {1, 2, 3});
        String[] r = run("simulate", "--model", bad.toString());
        assertEquals("2", r[0]);
        assertTrue(r[1].contains("bad.dova") && r[1].contains("bad magic"), r[1]);
        String[] d = run("simulate", "--model", "../models/lenet-mnist-a16m12-wrap.dova", "--data-dir", dir.toString());
        assertTrue(d[1].contains("no such file") && d[1].contains("fetch-data"), d[1]);
        String[] o = run("simulate", "--model", "../models/lenet-mnist-a16m12-wrap.dova", "--overflow", "clip");
        assertTrue(o[1].contains("--overflow must be one of wrap, saturate, got 'clip'"), o[1]);
    }

    @Test
    void exportOnnxWritesTheExportersBytes(@TempDir Path dir) throws Exception {
        Path model = Path.of("../models/lenet-mnist-a16m12-wrap.dova");
        Path out = dir.resolve("sub/lenet.onnx");
        String[] r = run("export-onnx", "--model", model.toString(), "--out", out.toString());
        assertEquals("0", r[0], r[1]);
        org.junit.jupiter.api.Assertions.assertArrayEquals(
                dova.sim.onnx.OnnxExporter.export(dova.sim.model.ModelIo.read(model), dova.sim.onnx.OnnxExporter.Flavour.INT8),
                Files.readAllBytes(out));
        String[] f = run("export-onnx", "--model", model.toString(), "--out", out.toString(), "--flavour", "half");
        assertEquals("2", f[0]);
        assertTrue(f[1].contains("half"), f[1]);
    }

    /** The exported file reads back into simulate; a broken .onnx file stops with one line naming it. */
    @Test
    void simulateReadsAnOnnxModelAndNamesABrokenOne(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("lenet.onnx");
        assertEquals("0", run("export-onnx", "--model", "../models/lenet-mnist-a16m12-wrap.dova", "--out", out.toString())[0]);
        String[] r = run("simulate", "--model", out.toString(), "--data-dir", "../data", "--limit", "100", "--no-baseline",
                "--threads", "1");
        assertEquals("0", r[0], r[1]);
        byte[] bytes = Files.readAllBytes(out);
        Path cut = Files.write(dir.resolve("cut.onnx"), java.util.Arrays.copyOf(bytes, bytes.length / 2));
        String[] c = run("simulate", "--model", cut.toString(), "--limit", "10");
        assertEquals("2", c[0], c[1]);
        assertTrue(c[1].contains("ONNX cut") && c[1].contains("exceeds"), c[1]);
    }
}
