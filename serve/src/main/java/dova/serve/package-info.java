/**
 * The dova application: the picocli command line (demo, serve, replay, train, compress,
 * simulate, eval, models), the Kafka-to-Kafka stream graph over a pool of simulated
 * processors, the model registry with atomic hot swap, the recalibration and retraining
 * loop, and the Prometheus metrics and health endpoints.
 */
package dova.serve;
