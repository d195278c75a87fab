# Sourced by ./dova and the benchmark scripts: glibc malloc settings for the PyTorch engine.
# Quantization-aware training allocates and frees many activation-sized temporaries per step;
# with glibc's defaults large ones are mmap'ed and unmapped (and the heap trimmed) over and
# over, and the page faults cost up to a fifth of a step. A fixed mmap threshold and a larger
# trim threshold keep that memory mapped (resident memory stays up to 256 MiB higher).
# Values already set in the environment win.
export MALLOC_MMAP_THRESHOLD_="${MALLOC_MMAP_THRESHOLD_:-67108864}"
export MALLOC_TRIM_THRESHOLD_="${MALLOC_TRIM_THRESHOLD_:-268435456}"
export MALLOC_TOP_PAD_="${MALLOC_TOP_PAD_:-67108864}"
