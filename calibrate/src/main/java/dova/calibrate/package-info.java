/**
 * Streaming calibration: bounded-memory range observers (min/max, moving averages,
 * histograms with percentiles) as Akka Streams stages, the overflow-aware rescaling
 * planner that turns observed ranges and a processor configuration into a new integer
 * model, and the drift detector. Uses {@code accelerator-sim}'s model format.
 */
package dova.calibrate;
