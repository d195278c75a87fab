// This core's AVX2 integer multiply-add throughput, the physical limit of the simulator's kernels
// on a CPU without AVX-512 VNNI: vpmaddwd ymm (16 exact int16 x int16 MACs, what dova's kernels use)
// and vpmaddubsw ymm (32 u8 x s8 MACs with a saturating int16 pair sum, what int8 runtimes use without
// VNNI), each with 12 independent accumulators and register operands, timed on the thread's CPU clock.
//   gcc -O2 -mavx2 -mfma scripts/peak-avx2.c -o peak-avx2 && ./peak-avx2
#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static double clock_ghz(void) {
    long n = 200000000L;
    double t0 = now();
    uint64_t x = 0;
    // 8 dependent adds per iteration: ~8 cycles per iteration
    for (long i = 0; i < n; i++) {
        __asm__ volatile("add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\t"
                         "add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0" : "+r"(x));
    }
    return 8.0 * n / (now() - t0) / 1e9;
}

#define ACC12(OP)                                                                                            \
    __asm__ volatile(OP " %%ymm12, %%ymm13, %%ymm0\n\t" OP " %%ymm12, %%ymm13, %%ymm1\n\t"                    \
                     OP " %%ymm12, %%ymm13, %%ymm2\n\t" OP " %%ymm12, %%ymm13, %%ymm3\n\t"                    \
                     OP " %%ymm12, %%ymm13, %%ymm4\n\t" OP " %%ymm12, %%ymm13, %%ymm5\n\t"                    \
                     OP " %%ymm12, %%ymm13, %%ymm6\n\t" OP " %%ymm12, %%ymm13, %%ymm7\n\t"                    \
                     OP " %%ymm12, %%ymm13, %%ymm8\n\t" OP " %%ymm12, %%ymm13, %%ymm9\n\t"                    \
                     OP " %%ymm12, %%ymm13, %%ymm10\n\t" OP " %%ymm12, %%ymm13, %%ymm11" ::: "xmm0", "xmm1",   \
                     "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11")

static double rate(int which) {
    long n = 50000000L;
    double t0 = now();
    for (long i = 0; i < n; i++) {
        if (which == 0) {
            ACC12("vpmaddwd");
        } else {
            ACC12("vpmaddubsw");
        }
    }
    return 12.0 * n / (now() - t0) / 1e9;
}

int main(void) {
    double ghz = clock_ghz();
    double wd = rate(0);
    double ubsw = rate(1);
    printf("clock %.2f GHz\n", ghz);
    printf("vpmaddwd ymm:   %.2f G/s (%.2f per cycle) = %.1f G exact int16 MAC/s\n", wd, wd / ghz, 16 * wd);
    printf("vpmaddubsw ymm: %.2f G/s (%.2f per cycle) = %.1f G u8xs8 MAC/s (plus a vpmaddwd each to widen)\n", ubsw,
           ubsw / ghz, 32 * ubsw);
    return 0;
}
