package dova.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dova.serve.cli.Main;
import dova.sim.Overflow;
import dova.sim.data.DataSet;
import dova.sim.data.LabelledImages;
import dova.sim.model.IntegerModel;
import dova.sim.model.ModelInfo;
import dova.sim.model.ModelIo;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Evaluating on your own images (an IDX pair, an image folder, a stratified sample) and what a model file records. */
class OwnDataCliTest {
    static final Path SHIPPED = Path.of("../models/lenet-mnist-a16m12-wrap.dova");

    /** Runs dova with stdout and stderr captured: {exit code, stdout, stderr}. */
    static String[] dova(String... args) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(o, true));
            System.setErr(new PrintStream(e, true));
            var cl = Main.commandLine();
            cl.setErr(new java.io.PrintWriter(System.err, true));
            int rc = cl.execute(args);
            return new String[] {Integer.toString(rc), o.toString(), e.toString()};
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }

    static double accuracy(String out) {
        Matcher m = Pattern.compile("accuracy ([0-9.]+)%, (\\d+) overflow events").matcher(out);
        assertTrue(m.find(), out);
        return Double.parseDouble(m.group(1));
    }

    static void idx(Path images, Path labels, LabelledImages set) throws Exception {
        try (DataOutputStream d = new DataOutputStream(Files.newOutputStream(images))) {
            d.writeInt(0x0803);
            d.writeInt(set.count());
            d.writeInt(set.rows());
            d.writeInt(set.cols());
            d.write(set.pixels());
        }
        try (DataOutputStream d = new DataOutputStream(Files.newOutputStream(labels))) {
            d.writeInt(0x0801);
            d.writeInt(set.count());
            d.write(set.labels());
        }
    }

    @Test
    void ownImagesAsAnIdxPairOrAnImageFolderGiveTheSameAccuracy(@TempDir Path dir) throws Exception {
        LabelledImages mnist = DataSet.MNIST.load(Path.of("../data"), DataSet.Split.TEST).stratifiedSample(300, 3);
        Path images = dir.resolve("imgs.idx");
        Path labels = dir.resolve("labels.idx");
        idx(images, labels, mnist);
        Path folder = dir.resolve("folder");
        String[] names = {"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"};
        for (int i = 0; i < mnist.count(); i++) {
            BufferedImage img = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
            img.getRaster().setDataElements(0, 0, 28, 28,
                    java.util.Arrays.copyOfRange(mnist.pixels(), i * 784, (i + 1) * 784));
            // folder names sorted alphabetically must give labels 0..9: prefix the digit
            Path f = folder.resolve(mnist.label(i) + "-" + names[mnist.label(i)]).resolve(String.format("%04d.png", i));
            Files.createDirectories(f.getParent());
            ImageIO.write(img, "png", f.toFile());
        }
        String[] a = dova("eval", "--model", SHIPPED.toString(), "--images", images.toString(), "--labels", labels.toString());
        assertEquals("0", a[0], a[2]);
        String[] b = dova("eval", "--model", SHIPPED.toString(), "--image-folder", folder.toString(),
                "--confusion-png", dir.resolve("c.png").toString());
        assertEquals("0", b[0], b[2]);
        assertEquals(accuracy(a[1]), accuracy(b[1]), "the same pixels, as PNG files or IDX");
        assertTrue(accuracy(a[1]) > 95, a[1]);
        assertTrue(b[1].contains("300 images"), b[1]);
        assertTrue(b[1].contains("3-three"), "the folder's class names label the confusion matrix: " + b[1]);
        assertTrue(Files.size(dir.resolve("c.png")) > 1000);
        String[] half = dova("eval", "--model", SHIPPED.toString(), "--image-folder", folder.toString(), "--sample", "100");
        assertTrue(half[1].contains("100 images"), half[1]);

        String[] both = dova("eval", "--model", SHIPPED.toString(), "--images", images.toString());
        assertEquals("2", both[0]);
        assertTrue(both[2].contains("--images and --labels go together"), both[2]);
        String[] zero = dova("simulate", "--model", SHIPPED.toString(), "--sample", "0");
        assertTrue(zero[2].contains("--sample must be in [1, "), zero[2]);
    }

    @Test
    void evalUsesWhatTheFileRecordsAndWarnsOnAMismatch(@TempDir Path dir) throws Exception {
        IntegerModel shipped = ModelIo.read(SHIPPED);
        assertEquals("mnist", shipped.info().dataSet(), "the shipped file records its data set");
        assertEquals(Overflow.WRAP, shipped.info().overflow());
        Path unknown = dir.resolve("lenet-unknown.dova");
        ModelIo.write(shipped.withInfo(ModelInfo.UNKNOWN), unknown);
        Path sat = dir.resolve("lenet-sat.dova");
        ModelIo.write(shipped.withInfo(ModelInfo.of("mnist", DataSet.MNIST.classNames(), shipped.inputSpec(),
                Overflow.SATURATE)), sat);
        String[] r = dova("eval", "--model", sat.toString(), "--data-dir", "../data", "--sample", "200");
        assertEquals("0", r[0], r[2]);
        assertTrue(r[1].contains("saturate"), "the recorded overflow mode is used: " + r[1]);
        assertTrue(!r[2].contains("warning"), r[2]);
        String[] old = dova("eval", "--model", unknown.toString(), "--data-dir", "../data", "--sample", "200");
        assertTrue(old[2].contains("does not record its overflow mode") && old[1].contains(" wrap:"), old[2] + old[1]);
        String[] fashion = dova("eval", "--model", sat.toString(), "--data", "fashion-mnist", "--data-dir", "../data",
                "--sample", "200");
        assertTrue(fashion[2].contains("was trained on mnist, not fashion-mnist"), fashion[2]);
        assertTrue(fashion[2].contains("names its classes"), fashion[2]);
        String[] wrap = dova("eval", "--model", sat.toString(), "--data-dir", "../data", "--overflow", "wrap", "--sample", "50");
        assertTrue(wrap[2].contains("was trained for saturate; evaluating wrap"), wrap[2]);
    }

    @Test
    void trainsOnYourOwnIdxFilesOrImageFolder(@TempDir Path dir) throws Exception {
        LabelledImages train = DataSet.MNIST.load(Path.of("../data"), DataSet.Split.TRAIN).stratifiedSample(2000, 5);
        LabelledImages test = DataSet.MNIST.load(Path.of("../data"), DataSet.Split.TEST).stratifiedSample(300, 6);
        Path own = dir.resolve("digits");
        Files.createDirectories(own);
        idx(own.resolve("train-images"), own.resolve("train-labels"), train);
        idx(own.resolve("test-images"), own.resolve("test-labels"), test);
        Path out = dir.resolve("out");
        String[] r = dova("train", "--model", "lenet", "--train-images", own.resolve("train-images").toString(),
                "--train-labels", own.resolve("train-labels").toString(), "--test-images", own.resolve("test-images").toString(),
                "--test-labels", own.resolve("test-labels").toString(), "--data-name", "My Digits", "--epochs", "1",
                "--acc-bits", "32", "--mul-bits", "32", "--out", out.toString());
        assertEquals("0", r[0], r[2]);
        Path model = out.resolve("lenet-my-digits-a32m32-wrap.dova");
        assertTrue(r[1].contains("model written to " + model), r[1]);
        IntegerModel m = ModelIo.read(model);
        assertEquals("my-digits", m.info().dataSet(), "the file records the data it was trained on");
        assertEquals(10, m.info().classNames().size());
        assertTrue(Files.exists(out.resolve("lenet-my-digits-fp32.ckpt")));
        // trained on 2,000 images for one epoch and measured on the 300 own test images, on the processor
        Matcher acc = Pattern.compile("A32/M32 wrap +([0-9.]+)%").matcher(r[1]);
        assertTrue(acc.find(), r[1]);
        assertTrue(Double.parseDouble(acc.group(1)) > 70, r[1]);

        // an image folder with train/ and test/: three classes, their folder names recorded
        Path folder = dir.resolve("shapes");
        for (String split : new String[] {"train", "test"}) {
            LabelledImages set = split.equals("train") ? train : test;
            for (int i = 0; i < set.count(); i++) {
                if (set.label(i) > 2 || (split.equals("train") && i % 3 != 0)) {
                    continue;
                }
                BufferedImage img = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
                img.getRaster().setDataElements(0, 0, 28, 28, java.util.Arrays.copyOfRange(set.pixels(), i * 784, (i + 1) * 784));
                Path f = folder.resolve(split).resolve("class-" + set.label(i)).resolve(i + ".png");
                Files.createDirectories(f.getParent());
                ImageIO.write(img, "png", f.toFile());
            }
        }
        String[] f = dova("train", "--model", "lenet", "--image-folder", folder.toString(), "--epochs", "1",
                "--acc-bits", "32", "--mul-bits", "32", "--out", out.toString());
        assertEquals("0", f[0], f[2]);
        IntegerModel fm = ModelIo.read(out.resolve("lenet-shapes-a32m32-wrap.dova"));
        assertEquals(java.util.List.of("class-0", "class-1", "class-2"), fm.info().classNames());
        assertEquals("shapes", fm.info().dataSet());

        String[] three = dova("train", "--train-images", own.resolve("train-images").toString(), "--train-labels",
                own.resolve("train-labels").toString(), "--test-images", own.resolve("test-images").toString(), "--out",
                out.toString());
        assertEquals("2", three[0], three[2]);
        assertTrue(three[2].contains("give all four IDX files"), three[2]);
        String[] missing = dova("compress", "--train-images", dir.resolve("nope").toString(), "--train-labels",
                own.resolve("train-labels").toString(), "--test-images", own.resolve("test-images").toString(),
                "--test-labels", own.resolve("test-labels").toString(), "--out", out.toString());
        assertTrue(missing[2].contains(dir.resolve("nope").toString()) && missing[2].contains("no such IDX file"), missing[2]);
        String[] flat = dova("baseline", "--model", "lenet", "--image-folder", own.toString(), "--out", out.toString());
        assertEquals("2", flat[0], flat[2]);
        assertTrue(flat[2].contains("needs train/ and test/ sub-folders"), flat[2]);
    }
}
