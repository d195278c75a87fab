package dova.sim.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dova.sim.eval.DetectionMetrics.Box;
import dova.sim.eval.DetectionMetrics.Detection;
import java.util.List;
import org.junit.jupiter.api.Test;

/** mAP@0.5 (VOC, all-point) and mean IoU against hand-worked cases. */
class MetricsTest {
    static Box box(int c, double x, double y, double w, double h) {
        return new Box(c, x, y, w, h);
    }

    static Detection det(Box b, double score) {
        return new Detection(b, score);
    }

    @Test
    void iouByHand() {
        assertEquals(1.0 / 7, DetectionMetrics.iou(box(0, 0, 0, 2, 2), box(0, 1, 1, 2, 2)), 1e-12);
        assertEquals(0.5, DetectionMetrics.iou(box(0, 0, 0, 4, 2), box(0, 0, 0, 2, 2)), 1e-12);
        assertEquals(0, DetectionMetrics.iou(box(0, 0, 0, 2, 2), box(0, 2, 0, 2, 2)), "touching boxes do not overlap");
        assertEquals(1, DetectionMetrics.iou(box(0, 3, 4, 5, 6), box(0, 3, 4, 5, 6)));
    }

    @Test
    void perfectBoxesGiveOne() {
        Box a = box(0, 10, 10, 20, 20);
        Box b = box(1, 50, 50, 10, 30);
        Box c = box(0, 0, 0, 8, 8);
        var r = DetectionMetrics.map(List.of(List.of(a, b), List.of(c)), List.of(List.of(det(a, 0.9), det(b, 0.3)),
                List.of(det(c, 0.5))), 2, 0.5);
        assertEquals(1, r.ap()[0], 1e-12);
        assertEquals(1, r.ap()[1], 1e-12);
        assertEquals(1, r.map(), 1e-12);
    }

    @Test
    void oneMissHalvesTheRecall() {
        Box a = box(0, 10, 10, 20, 20);
        Box b = box(0, 50, 50, 20, 20);
        var r = DetectionMetrics.map(List.of(List.of(a, b)), List.of(List.of(det(a, 0.9))), 1, 0.5);
        assertEquals(0.5, r.map(), 1e-12, "precision 1 up to recall 1/2, nothing after");
    }

    @Test
    void duplicatesAreFalsePositives() {
        Box a = box(0, 10, 10, 20, 20);
        Box b = box(0, 50, 50, 20, 20);
        // a duplicate after every true positive costs nothing under all-point interpolation
        var last = DetectionMetrics.map(List.of(List.of(a)), List.of(List.of(det(a, 0.9), det(a, 0.8))), 1, 0.5);
        assertEquals(1, last.map(), 1e-12);
        // ranked between the two objects: precision 1, 1/2, 2/3 at recall 1/2, 1/2, 1;
        // interpolated 1, 2/3, 2/3: AP = 1/2 * 1 + 1/2 * 2/3 = 5/6
        var between = DetectionMetrics.map(List.of(List.of(a), List.of(b)),
                List.of(List.of(det(a, 0.9), det(box(0, 11, 11, 20, 20), 0.8)), List.of(det(b, 0.7))), 1, 0.5);
        assertEquals(5.0 / 6, between.map(), 1e-12);
        // a badly placed box (IoU below 0.5) ranked first: precision 0, then 1/2 at recall 1: AP 1/2
        var bad = DetectionMetrics.map(List.of(List.of(a)), List.of(List.of(det(box(0, 25, 25, 20, 20), 0.9),
                det(a, 0.8))), 1, 0.5);
        assertEquals(0.5, bad.map(), 1e-12);
        // IoU exactly at the threshold counts
        var edge = DetectionMetrics.map(List.of(List.of(box(0, 0, 0, 2, 2))), List.of(List.of(det(box(0, 0, 0, 4, 2), 1))),
                1, 0.5);
        assertEquals(1, edge.map(), 1e-12);
        // the right class only: a perfect box of another class is no match
        var wrong = DetectionMetrics.map(List.of(List.of(a)), List.of(List.of(det(box(1, 10, 10, 20, 20), 0.9))), 2, 0.5);
        assertEquals(0, wrong.ap()[0], 1e-12);
        assertFalse(wrong.hasTruth()[1], "class 1 has no ground truth: left out of the mean");
        assertEquals(0, wrong.map(), 1e-12);
    }

    @Test
    void emptyImages() {
        Box a = box(0, 10, 10, 20, 20);
        Box b = box(0, 50, 50, 20, 20);
        // a detection on an image without objects is a false positive: the same 5/6 as a duplicate
        var r = DetectionMetrics.map(List.of(List.of(a), List.of(), List.of(b), List.of()),
                List.of(List.of(det(a, 0.9)), List.of(det(a, 0.8)), List.of(det(b, 0.7)), List.of()), 1, 0.5);
        assertEquals(5.0 / 6, r.map(), 1e-12);
        // no ground truth at all: no class to average
        var none = DetectionMetrics.map(List.of(List.of()), List.of(List.of(det(a, 0.5))), 1, 0.5);
        assertTrue(Double.isNaN(none.map()));
        // ground truth and no detections: AP 0
        assertEquals(0, DetectionMetrics.map(List.of(List.of(a)), List.of(List.of()), 1, 0.5).map());
        assertThrows(IllegalArgumentException.class, () -> DetectionMetrics.map(List.of(List.of(a)), List.of(), 1, 0.5));
    }

    @Test
    void meanIouByHand() {
        SegmentationMetrics m = new SegmentationMetrics(3);
        m.add(new byte[] {0, 0, 1, 1}, 0, new byte[] {0, 1, 1, 1}, 0, 4);
        // class 0: TP 1, FN 1 -> 1/2; class 1: TP 2, FP 1 -> 2/3; class 2 absent: left out
        assertEquals(0.5, m.iou(0), 1e-12);
        assertEquals(2.0 / 3, m.iou(1), 1e-12);
        assertTrue(Double.isNaN(m.iou(2)));
        assertEquals(7.0 / 12, m.meanIou(), 1e-12);
        assertEquals(0.75, m.pixelAccuracy(), 1e-12);
        // a wrong prediction of the absent class brings it in with IoU 0
        m.add(new byte[] {0}, 0, new byte[] {2}, 0, 1);
        assertEquals(0, m.iou(2), 1e-12);
        assertEquals((1.0 / 3 + 2.0 / 3 + 0) / 3, m.meanIou(), 1e-12);
        assertThrows(IllegalArgumentException.class, () -> m.add(new byte[] {3}, 0, new byte[] {0}, 0, 1));
    }
}
