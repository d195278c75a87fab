package dova.serve.recal;

import dova.serve.metrics.Metrics;
import dova.serve.pool.Deployment;
import dova.serve.pool.ProcessorPool;
import dova.serve.registry.ModelRegistry;
import dova.sim.model.IntegerModel;
import java.io.IOException;
import java.util.Locale;

/**
 * Puts an accepted candidate into service: publishes it in the registry, swaps it into the
 * pool, moves the registry's pointer, and, for a retrained candidate, keeps its checkpoint as
 * the base of the next retraining.
 */
public final class Deployer {
    private final ProcessorPool pool;
    private final ModelRegistry registry;
    private final Metrics metrics;
    private final Retrainer retrainer;

    public Deployer(ProcessorPool pool, ModelRegistry registry, Metrics metrics, Retrainer retrainer) {
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
        int v = registry.publish(candidate, note);
        Deployment deployment = new Deployment(v, candidate);
        pool.swap(deployment);
        registry.makeCurrent(v);
        if (retrained != null) {
            // the next retraining builds on these weights
            retrainer.adopt(retrained, registry.dir().resolve(String.format(Locale.ROOT, "v%04d-qat.ckpt", v)));
        }
        metrics.modelVersion(v, deployment.layerNames());
        metrics.swapped();
        return v;
    }
}
