package dova.sim.cost;

import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;

/**
 * Per-operation energy (pJ) and area (um^2) with bit-width scaling, read from a properties
 * file (data, not code). Adders scale linearly with width through the 8- and 32-bit anchors;
 * multipliers linearly with the product of operand widths through the 8x8 and 32x32 anchors;
 * SRAM energy is per byte, from the 64-bit read anchor.
 */
public final class CostTable {
    private final String name;
    private final String source;
    private final double add8Pj, add32Pj, mult8Pj, mult32Pj, add8Um2, add32Um2, mult8Um2, mult32Um2, sram64Pj;

    private CostTable(String origin, Properties p) {
        this.name = required(origin, p, "name");
        this.source = required(origin, p, "source");
        this.add8Pj = number(origin, p, "add.energy.8bit.pj");
        this.add32Pj = number(origin, p, "add.energy.32bit.pj");
        this.mult8Pj = number(origin, p, "mult.energy.8bit.pj");
        this.mult32Pj = number(origin, p, "mult.energy.32bit.pj");
        this.add8Um2 = number(origin, p, "add.area.8bit.um2");
        this.add32Um2 = number(origin, p, "add.area.32bit.um2");
        this.mult8Um2 = number(origin, p, "mult.area.8bit.um2");
        this.mult32Um2 = number(origin, p, "mult.area.32bit.um2");
        this.sram64Pj = number(origin, p, "sram.energy.64bit.pj");
    }

    /** The built-in table: Horowitz, ISSCC 2014, 45 nm. */
    public static CostTable horowitz45nm() {
        try (InputStream in = CostTable.class.getResourceAsStream("horowitz-45nm.properties")) {
            Properties p = new Properties();
            p.load(in);
            return new CostTable("built-in horowitz-45nm.properties", p);
        } catch (IOException e) {
            throw new IllegalStateException("built-in cost table unreadable", e);
        }
    }

    /** Loads a user table; the error names the file and the missing or malformed key. */
    public static CostTable load(Path file) throws IOException {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file)) {
            p.load(r);
        }
        return new CostTable(file.toString(), p);
    }

    private static String required(String origin, Properties p, String key) {
        String v = p.getProperty(key);
        if (v == null || v.isBlank()) {
            throw new IllegalArgumentException(origin + ": missing key '" + key + "'");
        }
        return v.trim();
    }

    private static double number(String origin, Properties p, String key) {
        String v = required(origin, p, key);
        try {
            double d = Double.parseDouble(v);
            if (!(d > 0) || Double.isInfinite(d)) {
                throw new NumberFormatException();
            }
            return d;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(origin + ": key '" + key + "' must be a positive number, got '" + v + "'");
        }
    }

    public String name() {
        return name;
    }

    public String source() {
        return source;
    }

    private static double linear(double x, double x0, double y0, double x1, double y1) {
        return y0 + (x - x0) * (y1 - y0) / (x1 - x0);
    }

    /** Energy of one {@code bits}-wide add, pJ. */
    public double addEnergyPicojoules(int bits) {
        return Math.max(0, linear(bits, 8, add8Pj, 32, add32Pj));
    }

    /** Energy of one {@code a x b} bit multiply, pJ. */
    public double multEnergyPicojoules(int aBits, int bBits) {
        return Math.max(0, linear((double) aBits * bBits, 64, mult8Pj, 1024, mult32Pj));
    }

    /** Area of one {@code bits}-wide adder, um^2. */
    public double addAreaSquareMicrometres(int bits) {
        return Math.max(0, linear(bits, 8, add8Um2, 32, add32Um2));
    }

    /** Area of one {@code a x b} bit multiplier, um^2. */
    public double multAreaSquareMicrometres(int aBits, int bBits) {
        return Math.max(0, linear((double) aBits * bBits, 64, mult8Um2, 1024, mult32Um2));
    }

    /** Energy of moving one byte to or from the on-chip SRAM buffer, pJ. */
    public double sramEnergyPicojoulesPerByte() {
        return sram64Pj / 8;
    }
}
