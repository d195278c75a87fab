package dova.serve.pool;

import dova.sim.model.IntegerModel;
import dova.sim.model.Layer;
import java.util.List;

/** A model version as deployed to the pool. */
public record Deployment(int version, IntegerModel model) {
    public List<String> layerNames() {
        return model.layers().stream().map(Layer::name).toList();
    }
}
