package dova.serve.recal;

import dova.serve.metrics.Metrics;
import dova.serve.pool.Deployment;
import dova.serve.pool.ProcessorPool;
import dova.serve.registry.ModelStore;
import dova.sim.model.IntegerModel;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Puts an accepted candidate into service: publishes it (with its QAT checkpoint, if retrained)
 * in the store, moves the store's pointer, swaps it into the pool, and, for a retrained
 * candidate, keeps its checkpoint as the base of the next retraining. The pointer moves before
 * the swap: if publishing fails, this replica keeps serving what the rest of the fleet serves.
 */
public final class Deployer {
    private final ProcessorPool pool;
    private final ModelStore registry;
    private final Metrics metrics;
    private final Retrainer retrainer;

    public Deployer(ProcessorPool pool, ModelStore registry, Metrics metrics, Retrainer retrainer) {
        this.pool = pool;
        this.registry = registry;
        this.metrics = metrics;
        this.retrainer = retrainer;
    }

    /**
     * @param retrained the retraining result {@code candidate} came from, or null
     * @return the new version
     */
    public int deploy(IntegerModel candidate, String note, Retrainer.Result retrained) throws IOException {
        if (!candidate.info().known()) {
            // a recalibrated or retrained model is for what the model it replaces was for
            candidate = candidate.withInfo(pool.current().model().info());
        }
        // every version carries the float weights it came from: a recalibrated one its parent's
        Path checkpoint = retrained != null ? retrained.checkpoint() : retrainer != null ? retrainer.base() : null;
        int v = registry.publish(candidate, note, checkpoint);
        registry.makeCurrent(v);
        Deployment deployment = new Deployment(v, candidate);
        pool.swap(deployment);
        if (retrained != null) {
            // the next retraining builds on these weights
            retrainer.adopt(retrained, registry.checkpointFile(v));
        }
        metrics.modelVersion(v, deployment.layerNames());
        metrics.swapped();
        return v;
    }
}
