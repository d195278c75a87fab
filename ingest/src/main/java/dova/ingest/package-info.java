/**
 * Frames in and out of dova: the IDX data-set reader ({@link dova.sim.data}), the
 * versioned Kafka wire format of camera frames, Kafka sources and sinks as Akka Streams
 * stages, the embedded single-node KRaft broker used by the tests and the demo, and the
 * camera replayer. Nothing here knows about models or processors.
 */
package dova.ingest;
