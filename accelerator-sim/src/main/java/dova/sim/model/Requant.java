package dova.sim.model;

import dova.sim.FixedPoint;

/** Choice of requantization multipliers for layers, with errors that name the layer and channel. */
final class Requant {
    private Requant() {
    }

    static FixedPoint.Multiplier choose(double r, int bits, String layer, int channel) {
        FixedPoint.Multiplier q;
        try {
            q = FixedPoint.chooseMultiplier(r, bits);
        } catch (IllegalArgumentException e) {
            throw new InvalidModelException("layer " + layer + ", channel " + channel + ": " + e.getMessage());
        }
        if (q.m() == 0) {
            throw new InvalidModelException("layer " + layer + ", channel " + channel + ": dead channel, real multiplier "
                    + r + " rounds to 0 with " + bits + "-bit multipliers (zero the channel explicitly if intended)");
        }
        return q;
    }

    /** Two multipliers with one shared shift: the smaller of the two individual shifts keeps both within M bits. */
    static Add add(String name, int left, int right, int output, double sl, double sr, double sy, int bits,
                   Activation act) {
        choose(sl / sy, bits, name, 0);
        choose(sr / sy, bits, name, 1);
        FixedPoint.SharedShift q = FixedPoint.chooseSharedShift(sl / sy, sr / sy, bits);
        long ml = q.first().m();
        long mr = q.second().m();
        int s = q.shift();
        if (ml == 0 || mr == 0) {
            throw new InvalidModelException("layer " + name + ": operand scales " + sl + " and " + sr
                    + " are too far apart for one shared shift with " + bits + "-bit multipliers");
        }
        return new Add(name, left, right, output, ml, mr, s, act);
    }
}
