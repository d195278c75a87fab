/**
 * The simulated fixed-point vision processor: the versioned integer model format, the
 * processor configuration, a reference and a fast bit-exact executor of
 * {@code docs/datapath.md} (A-bit accumulators with WRAP or SATURATE, M-bit requantization
 * multipliers), overflow counting, and the cycle / energy / area cost model. It depends on
 * no other dova module and on neither Kafka, Akka nor DJL.
 */
package dova.sim;
