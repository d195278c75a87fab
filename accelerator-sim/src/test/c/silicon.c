/*
 * Ground truth for the datapath profiles (SiliconProfileTest): reads cases of 64 unsigned and 64
 * signed bytes from stdin and prints, per case, the int32 dot product as the CPU's own int8
 * instructions compute it:
 *   avx2 <v>  vpmaddubsw (adjacent u8 x s8 pairs into saturating int16), vpmaddwd by ones
 *             (adjacent int16 pairs into int32), vpaddd, then the 8 lanes summed;
 *   vnni <v>  vpdpbusd (4 products exact into int32), where the CPU has AVX512-VNNI (else "vnni -").
 * Built by the test with gcc -O1 -mavx2 [-mavx512vnni -mavx512vl].
 */
#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>

static int32_t hsum(__m256i v) {
    int32_t t[8];
    _mm256_storeu_si256((__m256i *)t, v);
    int64_t s = 0;
    for (int i = 0; i < 8; i++) s += t[i];
    return (int32_t)s;
}

#ifdef WITH_VNNI
__attribute__((target("avx512vnni,avx512vl"))) static int32_t vnni(const uint8_t *a, const int8_t *b) {
    __m256i acc = _mm256_setzero_si256();
    for (int k = 0; k < 64; k += 32) {
        acc = _mm256_dpbusd_epi32(acc, _mm256_loadu_si256((const __m256i *)(a + k)), _mm256_loadu_si256((const __m256i *)(b + k)));
    }
    return hsum(acc);
}
#endif

int main(void) {
    uint8_t a[64];
    int8_t b[64];
    int vnni_ok = 0;
#ifdef WITH_VNNI
    __builtin_cpu_init();
    vnni_ok = __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512vl");
#endif
    const __m256i ones = _mm256_set1_epi16(1);
    while (fread(a, 1, 64, stdin) == 64 && fread(b, 1, 64, stdin) == 64) {
        __m256i acc = _mm256_setzero_si256();
        for (int k = 0; k < 64; k += 32) {
            __m256i pairs = _mm256_maddubs_epi16(_mm256_loadu_si256((const __m256i *)(a + k)),
                                                 _mm256_loadu_si256((const __m256i *)(b + k)));
            acc = _mm256_add_epi32(acc, _mm256_madd_epi16(pairs, ones));
        }
        printf("avx2 %d\n", hsum(acc));
#ifdef WITH_VNNI
        if (vnni_ok) {
            printf("vnni %d\n", vnni(a, b));
            continue;
        }
#endif
        printf("vnni -\n");
    }
    return 0;
}
