package dova.compress.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import org.junit.jupiter.api.Test;

class ProgressTest {
    @Test
    void aLogGetsPlainLinesAndATerminalARedrawnBar() {
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        Progress p = new Progress(new PrintStream(log, true), "fp32", 100, false);
        for (int step = 1; step <= 100; step++) {
            p.update(1, 2, step, 0.5, 0.9);
        }
        String s = log.toString();
        assertFalse(s.contains("\r"), "no carriage return in a log: " + s);
        assertEquals(1, s.lines().count(), "within 15 s only the end-of-epoch line: " + s);
        assertTrue(s.startsWith("fp32 epoch 1/2 [") && s.contains("100/100"), s);

        ByteArrayOutputStream tty = new ByteArrayOutputStream();
        Progress t = new Progress(new PrintStream(tty, true), "qat", 10, true);
        for (int step = 1; step <= 10; step++) {
            t.update(1, 1, step, 0.5, 0.9);
        }
        assertTrue(tty.toString().startsWith("\rqat epoch 1/1"), tty.toString());
        assertTrue(tty.toString().endsWith("\n"), "the bar ends its line at the end of the epoch");
    }
}
