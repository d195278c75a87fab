package dova.ingest.replay;

import java.util.Locale;
import java.util.Random;

/**
 * A synthetic change of camera conditions, applied to 8-bit grey pixels (one image of
 * {@code width x height}), to exercise recalibration.
 */
public enum Drift {
    NONE,
    /** Adds {@code 70 * strength} to every pixel (over-exposure). */
    BRIGHTNESS,
    /** Scales pixels by {@code 1 - 0.9 * strength} (an under-exposed, low-contrast camera). */
    CONTRAST,
    /** Adds Gaussian noise of standard deviation {@code 40 * strength}. */
    NOISE,
    /** Box blur of radius 1, repeated {@code round(2 * strength)} times. */
    BLUR;

    public static Drift parse(String s) {
        for (Drift d : values()) {
            if (d.name().equalsIgnoreCase(s)) {
                return d;
            }
        }
        throw new IllegalArgumentException("unknown drift '" + s + "'; expected none, brightness, contrast, noise or blur");
    }

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Applies the drift in place. */
    public void apply(byte[] px, int width, int height, double strength, Random rnd) {
        switch (this) {
            case NONE -> {
            }
            case BRIGHTNESS -> {
                int add = (int) Math.round(70 * strength);
                for (int i = 0; i < px.length; i++) {
                    px[i] = (byte) Math.min(255, (px[i] & 0xff) + add);
                }
            }
            case CONTRAST -> {
                double f = 1 - 0.9 * strength;
                for (int i = 0; i < px.length; i++) {
                    px[i] = (byte) Math.round((px[i] & 0xff) * f);
                }
            }
            case NOISE -> {
                double sd = 40 * strength;
                for (int i = 0; i < px.length; i++) {
                    px[i] = (byte) Math.max(0, Math.min(255, Math.round((px[i] & 0xff) + sd * rnd.nextGaussian())));
                }
            }
            case BLUR -> {
                int passes = (int) Math.round(2 * strength);
                byte[] tmp = new byte[px.length];
                for (int p = 0; p < passes; p++) {
                    for (int y = 0; y < height; y++) {
                        for (int x = 0; x < width; x++) {
                            int sum = 0;
                            int n = 0;
                            for (int dy = -1; dy <= 1; dy++) {
                                for (int dx = -1; dx <= 1; dx++) {
                                    int yy = y + dy;
                                    int xx = x + dx;
                                    if (yy >= 0 && yy < height && xx >= 0 && xx < width) {
                                        sum += px[yy * width + xx] & 0xff;
                                        n++;
                                    }
                                }
                            }
                            tmp[y * width + x] = (byte) Math.round((double) sum / n);
                        }
                    }
                    System.arraycopy(tmp, 0, px, 0, px.length);
                }
            }
            default -> throw new IllegalStateException();
        }
    }
}
