/**
 * Model compression on DJL (PyTorch engine, CPU, offline): FP32 training (batch norm where
 * the architecture has it, folded into the convolutions before anything else), quantization-aware
 * fine-tuning that simulates the processor's M-bit downscaling and A-bit accumulation
 * (downscaling- and overflow-aware training), channel pruning to multiples of 16, and export
 * to {@code accelerator-sim}'s integer model format.
 */
package dova.compress;
