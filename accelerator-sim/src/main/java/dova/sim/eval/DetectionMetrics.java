package dova.sim.eval;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Mean average precision at an IoU threshold, VOC style with all-point interpolation (the
 * PASCAL VOC 2010+ rule): per class, detections of every image sorted by score; each is a true
 * positive when its best-overlapping ground-truth box of that class in its image has IoU at or
 * above the threshold and is not yet matched, else a false positive (a second detection of a
 * matched object is a duplicate: false positive). AP is the area under the precision-recall
 * curve after making precision non-increasing from the right; mAP the mean over the classes that
 * have ground truth (a class with ground truth and no detection has AP 0; detections of a class
 * without ground truth are not counted). Boxes are continuous: {@code [x, x + w) x [y, y + h)}.
 */
public final class DetectionMetrics {
    private DetectionMetrics() {
    }

    /** A box in pixels, top-left corner {@code (x, y)}. */
    public record Box(int label, double x, double y, double w, double h) {
        public double area() {
            return Math.max(0, w) * Math.max(0, h);
        }
    }

    /** A detection: a box and its score. */
    public record Detection(Box box, double score) {
    }

    /** Intersection over union of two boxes (0 when they do not overlap or both are empty). */
    public static double iou(Box a, Box b) {
        double iw = Math.min(a.x() + a.w(), b.x() + b.w()) - Math.max(a.x(), b.x());
        double ih = Math.min(a.y() + a.h(), b.y() + b.h()) - Math.max(a.y(), b.y());
        if (iw <= 0 || ih <= 0) {
            return 0;
        }
        double inter = iw * ih;
        double union = a.area() + b.area() - inter;
        return union <= 0 ? 0 : inter / union;
    }

    /** Per-class average precision and their mean. */
    public record Result(double[] ap, boolean[] hasTruth, double map) {
    }

    /**
     * @param truth per image, its ground-truth boxes
     * @param detections per image, its detections (same number of images as {@code truth})
     * @param classes number of classes (labels in [0, classes))
     */
    public static Result map(List<List<Box>> truth, List<List<Detection>> detections, int classes, double iouThreshold) {
        if (truth.size() != detections.size()) {
            throw new IllegalArgumentException(truth.size() + " images of ground truth but " + detections.size()
                    + " of detections");
        }
        double[] ap = new double[classes];
        boolean[] has = new boolean[classes];
        double sum = 0;
        int counted = 0;
        for (int c = 0; c < classes; c++) {
            int positives = 0;
            List<double[]> dets = new ArrayList<>(); // {score, image, index}
            for (int i = 0; i < truth.size(); i++) {
                for (Box b : truth.get(i)) {
                    positives += b.label() == c ? 1 : 0;
                }
                List<Detection> d = detections.get(i);
                for (int k = 0; k < d.size(); k++) {
                    if (d.get(k).box().label() == c) {
                        dets.add(new double[] {d.get(k).score(), i, k});
                    }
                }
            }
            if (positives == 0) {
                continue;
            }
            has[c] = true;
            // highest score first; ties in image, then detection order, so that the result is deterministic
            dets.sort(Comparator.<double[]>comparingDouble(v -> -v[0]).thenComparingDouble(v -> v[1])
                    .thenComparingDouble(v -> v[2]));
            boolean[][] matched = new boolean[truth.size()][];
            for (int i = 0; i < truth.size(); i++) {
                matched[i] = new boolean[truth.get(i).size()];
            }
            int n = dets.size();
            double[] precision = new double[n];
            double[] recall = new double[n];
            int tp = 0;
            for (int j = 0; j < n; j++) {
                int img = (int) dets.get(j)[1];
                Box box = detections.get(img).get((int) dets.get(j)[2]).box();
                List<Box> gts = truth.get(img);
                int best = -1;
                double bestIou = 0;
                for (int g = 0; g < gts.size(); g++) {
                    if (gts.get(g).label() != c) {
                        continue;
                    }
                    double o = iou(box, gts.get(g));
                    if (o > bestIou) {
                        bestIou = o;
                        best = g;
                    }
                }
                if (best >= 0 && bestIou >= iouThreshold && !matched[img][best]) {
                    matched[img][best] = true;
                    tp++;
                }
                precision[j] = (double) tp / (j + 1);
                recall[j] = (double) tp / positives;
            }
            ap[c] = allPoint(precision, recall);
            sum += ap[c];
            counted++;
        }
        return new Result(ap, has, counted == 0 ? Double.NaN : sum / counted);
    }

    /** Area under the interpolated precision-recall curve (precision made non-increasing from the right). */
    static double allPoint(double[] precision, double[] recall) {
        int n = precision.length;
        if (n == 0) {
            return 0;
        }
        double[] p = Arrays.copyOf(precision, n);
        for (int i = n - 2; i >= 0; i--) {
            p[i] = Math.max(p[i], p[i + 1]);
        }
        double area = 0;
        double prev = 0;
        for (int i = 0; i < n; i++) {
            area += (recall[i] - prev) * p[i];
            prev = recall[i];
        }
        return area;
    }
}
