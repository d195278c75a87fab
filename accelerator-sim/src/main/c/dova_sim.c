/*
 * dova's native execution kernels: one whole integer network per call, bit-exact with
 * docs/datapath.md and with dova.sim.exec.ReferenceExecutor (overflow events included).
 *
 * Built by accelerator-sim's Maven build with the machine's gcc (src/main/c/build.sh); when it
 * cannot be built or loaded, dova.sim.exec.FastExecutor (pure Java) runs instead. The plan
 * format (what every word means) is written by dova.sim.exec.NativePlan; keep the two in step.
 *
 * Layout: every activation tensor is int16, NHWC, in one arena. Weights are widened to int16
 * and packed so that one 256-bit vpmaddwd multiplies a broadcast pair of inputs (x[k], x[k+1])
 * with 8 output channels' (w[k], w[k+1]) and adds the pair: 16 exact MACs. vpmaddubsw (u8 x s8,
 * 32 MACs) saturates its pairwise int16 sum in general (2 * 255 * 127 = 64770 > 32767), so it is
 * used only in "u8 mode": layers (S or grouped mode) where the planner has checked every pair of
 * adjacent weights against the input's largest value, so that no pair sum can reach the int16
 * limit (|w| <= 64 always suffices for 8-bit inputs; trained and overflow-aware models mostly
 * qualify). Such a layer reads a uint8 copy of its input and its int8 weights packed in quads.
 *
 * Exactness argument (docs/datapath.md section 2). WRAP's final value is wrap_A(bias + exact sum)
 * in any order; overflow events and SATURATE's value depend on the canonical group order, but
 * only for an output where some prefix of that order leaves the A-bit range. Every input to a
 * conv here is unsigned (checked by the planner), so with P = x.max(w,0) and N = x.max(-w,0)
 * every prefix lies in [bias - N, bias + P]. If both ends fit A bits, no group update overflows
 * and the accumulator is bias + P - N. Otherwise the output is replayed group by group in
 * canonical order (replay_dense / replay_depthwise), exactly as the reference does. Where a
 * per-channel static bound (|bias| + sum|w| * max x) already fits, the layer computes S = x.w
 * alone ("S mode"); otherwise it computes P and N ("PN mode", twice the multiplies).
 */
#include <jni.h>
#include <stdint.h>
#include <string.h>
#include <stdlib.h>
#include <stddef.h>
#include <math.h>
#ifdef DOVA_PROFILE
#include <stdio.h>
#include <time.h>
#endif
#if defined(__AVX2__)
#include <immintrin.h>
#define DOVA_X86 1 /* the AVX2 kernels are compiled in (libdovasim-avx2.so, built with -mavx2) */
#endif
#if defined(__AVX2__) && defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VNNI__)
#define DOVA_VNNI 1 /* and the AVX-512 VNNI kernels (libdovasim-vnni.so) */
#endif

enum { OP_DENSE = 1, OP_DEPTHWISE = 2, OP_MAXPOOL = 3, OP_AVGPOOL = 4, OP_GAP = 5, OP_ADD = 6 };
/* the kernels a plan runs (NativeKernels.ISA_*); a library built for a level also runs the ones below it */
enum { ISA_GENERIC = 0, ISA_AVX2 = 1, ISA_VNNI = 2 };

/* Row tile of the GEMM micro-kernels: 6 output pixels. */
#define MR 6

typedef struct {
    int bits;
    int saturate;
    int64_t min, max;
} Acc;

typedef struct {
    uint8_t *plan;
    uint8_t *arena;
    int isa;
    Acc acc;
    int lanes;
    int64_t *events;
    /* calibration capture: every conv layer's final accumulators (int32, NHWC, at the layer's
       capture offset), or NULL (the usual case); capturing runs the scalar epilogues */
    int32_t *capture;
} Ctx;

static inline int64_t wrap_bits(int64_t v, int bits) {
    int drop = 64 - bits;
    return drop == 0 ? v : (int64_t)((uint64_t)v << drop) >> drop;
}

/* One group update of the A-bit accumulator: count the event, then wrap or saturate. */
static inline int64_t acc_update(const Acc *a, int64_t acc, int64_t p, int64_t *events) {
    int64_t e = acc + p;
    if (e < a->min || e > a->max) {
        (*events)++;
        if (a->saturate) {
            return e < a->min ? a->min : a->max;
        }
        return wrap_bits(e, a->bits);
    }
    return e;
}

/* (v + 2^(s-1)) >> s, arithmetic shift (round half up); v for s = 0. s <= 62 (validated in Java). */
static inline int64_t round_shift(int64_t v, int s) {
    return s == 0 ? v : (v >> s) + ((v >> (s - 1)) & 1);
}

static inline int16_t clamp16(int64_t v, int lo, int hi) {
    return (int16_t)(v < lo ? lo : (v > hi ? hi : v));
}

#define I32(off) ((int32_t *)(c->plan + (off)))
#define I16(off) ((int16_t *)(c->plan + (off)))
#define I64(off) ((int64_t *)(c->plan + (off)))
#define A16(off) ((int16_t *)(c->arena + (off)))

/* ---------------------------------------------------------------- dense convolution */

/* Words of a dense conv record (offsets are bytes into the plan or the arena). */
typedef struct {
    int layer, in_off, out_off;
    int in_c, in_h, in_w, out_c, out_h, out_w;
    int kh, kw, sh, sw, ph, pw;
    int k;       /* canonical length kh*kw*in_c */
    int kp;      /* k rounded up to even */
    int np;      /* out_c rounded up to 16 */
    int direct;  /* 1: the input rows are the A matrix (1x1, stride 1, no padding, even in_c);
                    2: implicit GEMM, the A rows are read tap by tap from the input (even in_c); 0: im2col */
    int pn;      /* 0: S mode, 1: PN mode, 2: grouped mode (canonical order in the kernel) */
    int req32;   /* 1: acc * m fits int32 (A + M <= 31) */
    int lo, hi;
    int w_off;      /* S: [np/16][kp/2][16][2] int16; PN: [np/8][kp/2][P 8x2 | N 8x2] int16 */
    int wc_off;     /* canonical weights int16 [out_c][k] (replay) */
    int perm_off;   /* -1, or int32 [k]: row position of canonical index (flatten-fed dense) */
    int bias_off;   /* int32 [np] */
    int capp_off;   /* int32 [np]: min(accMax - bias, INT32_MAX) */
    int capn_off;   /* int32 [np]: min(bias - accMin, INT32_MAX) */
    int m_off;      /* int64 [np] */
    int s_off;      /* int32 [np] */
    int m32_off;    /* int32 [np] (req32 only) */
    int sm1_off;    /* int32 [np]: s - 1, or 32 when s = 0 */
    int rm_off;     /* int32 [np]: 1 when s > 0, else 0 */
    int hp_off;     /* int64 [np]: 2^(s-1), or 0 when s = 0 */
    int hn_off;     /* int64 [np]: 2^(s-1) - 1, or 0 when s = 0 */
    int s64_off;    /* int64 [np]: s */
    int dbl_limit;  /* > 0: the double epilogue is exact for |acc| <= dbl_limit (A + M > 31 layers) */
    int md_off, hd_off, id_off; /* double [np]: m, 2^(s-1) (0 for s = 0), 2^-s */
    int tile_off;   /* arena scratch: int16 [MR][kp] */
    int nchunk;     /* output channels per pass over the rows (a multiple of 16) */
    int zero_off;   /* arena: in_c zero int16 (the padding row of implicit GEMM), never written */
    int capture_off; /* byte offset of this layer's accumulators in the capture buffer */
    int u8;         /* 1: S mode on uint8 rows with vpmaddubsw (no weight pair can saturate its int16 sum) */
    int kq;         /* k rounded up to a multiple of 4 (u8 rows) */
    int w8_off;     /* u8: int8 [np/16][kq/4][16][4] */
    int x8_off;     /* u8: arena uint8 copy of the input, NHWC */
} Dense;

/* Replays one output value in canonical order (ky, kx, channel block); returns the accumulator. */
static int64_t replay_dense(const Ctx *c, const Dense *d, const int16_t *row, int oc) {
    const int16_t *w = I16(d->wc_off) + (size_t)oc * d->k;
    const int32_t *perm = d->perm_off >= 0 ? I32(d->perm_off) : NULL;
    int64_t acc = I32(d->bias_off)[oc];
    int taps = d->kh * d->kw;
    int64_t *ev = &c->events[d->layer];
    for (int t = 0; t < taps; t++) {
        for (int b = 0; b < d->in_c; b += c->lanes) {
            int end = b + c->lanes < d->in_c ? b + c->lanes : d->in_c;
            int64_t p = 0;
            for (int i = t * d->in_c + b; i < t * d->in_c + end; i++) {
                p += (int64_t)w[i] * row[perm ? perm[i] : i];
            }
            acc = acc_update(&c->acc, acc, p, ev);
        }
    }
    return acc;
}

static inline int16_t requant_scalar(const Ctx *c, const Dense *d, int64_t acc, int oc) {
    return clamp16(round_shift(acc * I64(d->m_off)[oc], I32(d->s_off)[oc]), d->lo, d->hi);
}

/* Stores one accumulator for calibration when capturing. */
static inline int64_t captured(const Ctx *c, int capture_off, size_t index, int64_t acc) {
    if (c->capture != NULL) {
        c->capture[capture_off / 4 + index] = (int32_t)acc;
    }
    return acc;
}

/*
 * The A operand of the micro-kernels: for each of the MR rows (output pixels) and each of `taps`
 * kernel taps, a pointer to `pairs` pairs of int16 inputs (a tap's channels, a zero row where the
 * tap falls into the padding). Direct and im2col layers have one tap of kp/2 pairs.
 */
typedef struct {
    const void *p[MR * 9];
    const void **rows; /* p, or a larger array for kernels over 9 taps */
    int taps, pairs;   /* pairs: of int16 inputs per tap; u8 layers: quads of uint8 inputs */
} Operand;

/* Generic micro-kernel: MR rows x 16 channels of S, or of P and N (panel layouts as the AVX2 kernels'). */
static void micro_generic(const Dense *d, const Operand *a, const int16_t *panel, int32_t out[MR][16],
                          int32_t outn[MR][16]) {
    int kpairs = d->kp / 2;
    memset(out, 0, sizeof(int32_t) * MR * 16);
    memset(outn, 0, sizeof(int32_t) * MR * 16);
    for (int t = 0; t < a->taps; t++) {
        for (int q = 0; q < a->pairs; q++) {
            int kq = t * a->pairs + q;
            for (int r = 0; r < MR; r++) {
                const int16_t *row = a->rows[r * a->taps + t];
                int32_t x0 = row[2 * q], x1 = row[2 * q + 1];
                if (d->pn != 1) {
                    const int16_t *b = panel + (size_t)kq * 32;
                    for (int j = 0; j < 16; j++) {
                        out[r][j] += x0 * b[2 * j] + x1 * b[2 * j + 1];
                    }
                } else {
                    for (int half = 0; half < 2; half++) {
                        const int16_t *bp = panel + (size_t)half * kpairs * 32 + (size_t)kq * 32;
                        const int16_t *bn = bp + 16;
                        for (int j = 0; j < 8; j++) {
                            out[r][8 * half + j] += x0 * bp[2 * j] + x1 * bp[2 * j + 1];
                            outn[r][8 * half + j] += x0 * bn[2 * j] + x1 * bn[2 * j + 1];
                        }
                    }
                }
            }
        }
    }
}

#ifdef DOVA_X86
static inline __attribute__((always_inline)) __m256i bcast_pair(const int16_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return _mm256_set1_epi32(v);
}


/* One pair step of the 6-row x 2-vector tile: rows r0..r5, weight vectors b0 and b1 (c<row><col>). */
#define DOVA_TILE_STEP(kq)                                                                                         \
    do {                                                                                                         \
        __m256i b0 = _mm256_loadu_si256((const __m256i *)(b + (size_t)(kq) * 32));                              \
        __m256i b1 = _mm256_loadu_si256((const __m256i *)(b + (size_t)(kq) * 32 + 16));                         \
        __m256i x;                                                                                               \
        x = bcast_pair(r0 + 2 * (kq)); c00 = _mm256_add_epi32(c00, _mm256_madd_epi16(x, b0)); c01 = _mm256_add_epi32(c01, _mm256_madd_epi16(x, b1)); \
        x = bcast_pair(r1 + 2 * (kq)); c10 = _mm256_add_epi32(c10, _mm256_madd_epi16(x, b0)); c11 = _mm256_add_epi32(c11, _mm256_madd_epi16(x, b1)); \
        x = bcast_pair(r2 + 2 * (kq)); c20 = _mm256_add_epi32(c20, _mm256_madd_epi16(x, b0)); c21 = _mm256_add_epi32(c21, _mm256_madd_epi16(x, b1)); \
        x = bcast_pair(r3 + 2 * (kq)); c30 = _mm256_add_epi32(c30, _mm256_madd_epi16(x, b0)); c31 = _mm256_add_epi32(c31, _mm256_madd_epi16(x, b1)); \
        x = bcast_pair(r4 + 2 * (kq)); c40 = _mm256_add_epi32(c40, _mm256_madd_epi16(x, b0)); c41 = _mm256_add_epi32(c41, _mm256_madd_epi16(x, b1)); \
        x = bcast_pair(r5 + 2 * (kq)); c50 = _mm256_add_epi32(c50, _mm256_madd_epi16(x, b0)); c51 = _mm256_add_epi32(c51, _mm256_madd_epi16(x, b1)); \
    } while (0)

/* The tile's rows for tap t. */
#define DOVA_TILE_ROWS(t)                                                                                          \
    const int16_t *r0 = a->rows[0 * taps + (t)], *r1 = a->rows[1 * taps + (t)], *r2 = a->rows[2 * taps + (t)];   \
    const int16_t *r3 = a->rows[3 * taps + (t)], *r4 = a->rows[4 * taps + (t)], *r5 = a->rows[5 * taps + (t)]

#define DOVA_TILE_STORE(out)                                                                                       \
    do {                                                                                                         \
        _mm256_storeu_si256((__m256i *)(out)[0], c00); _mm256_storeu_si256((__m256i *)((out)[0] + 8), c01);      \
        _mm256_storeu_si256((__m256i *)(out)[1], c10); _mm256_storeu_si256((__m256i *)((out)[1] + 8), c11);      \
        _mm256_storeu_si256((__m256i *)(out)[2], c20); _mm256_storeu_si256((__m256i *)((out)[2] + 8), c21);      \
        _mm256_storeu_si256((__m256i *)(out)[3], c30); _mm256_storeu_si256((__m256i *)((out)[3] + 8), c31);      \
        _mm256_storeu_si256((__m256i *)(out)[4], c40); _mm256_storeu_si256((__m256i *)((out)[4] + 8), c41);      \
        _mm256_storeu_si256((__m256i *)(out)[5], c50); _mm256_storeu_si256((__m256i *)((out)[5] + 8), c51);      \
    } while (0)

/*
 * 6 rows x 16 channels of S: 12 accumulators, 2 weight vectors, 1 broadcast. Panel [kpairs][16][2].
 * PN mode runs the same kernel on a panel of [kpairs][P 8x2 | N 8x2]: columns 0-7 are then P and
 * 8-15 are N of 8 channels.
 */
static __attribute__((noinline)) void micro_s_avx2(const Operand *a, const int16_t *panel, int32_t out[MR][16]) {
    __m256i c00 = _mm256_setzero_si256(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    __m256i c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    const int pairs = a->pairs, taps = a->taps;
    for (int t = 0; t < taps; t++) {
        DOVA_TILE_ROWS(t);
        const int16_t *b = panel + (size_t)t * pairs * 32;
        for (int kq = 0; kq < pairs; kq++) {
            DOVA_TILE_STEP(kq);
        }
    }
    DOVA_TILE_STORE(out);
}



/*
 * u8 mode: 6 rows x 16 channels of S from uint8 rows and int8 weights, panel [kquads][16][4].
 * vpmaddubsw multiplies 4 broadcast inputs with 8 channels' 4 weights and adds adjacent products
 * into int16 with saturation; the planner enables this kernel only where no weight pair can reach
 * the int16 limit for inputs up to the layer's largest, so every pair sum is exact. vpmaddwd
 * against ones then adds the two pairs of each quad into int32: 32 exact MACs per two multiplies
 * and one add, against 16 per multiply and add on int16 rows.
 */
/* One row of a u8 quad step: 4 inputs of row r against the quad's weight vectors b0 and b1. */
#define DOVA_U8_ROW(r, c0, c1)                                                                                 \
    do {                                                                                                     \
        int32_t v;                                                                                           \
        memcpy(&v, (const uint8_t *)(r) + 4 * (size_t)q, 4);                                                 \
        __m256i x = _mm256_set1_epi32(v);                                                                    \
        c0 = _mm256_add_epi32(c0, _mm256_madd_epi16(_mm256_maddubs_epi16(x, b0), ones));                      \
        c1 = _mm256_add_epi32(c1, _mm256_madd_epi16(_mm256_maddubs_epi16(x, b1), ones));                      \
    } while (0)

/* One quad step of the 6-row x 2-vector tile (u8 rows r0..r5, panel b of the tap). */
#define DOVA_U8_STEP(q)                                                                                        \
    do {                                                                                                     \
        __m256i b0 = _mm256_loadu_si256((const __m256i *)(b + (size_t)(q) * 64));                             \
        __m256i b1 = _mm256_loadu_si256((const __m256i *)(b + (size_t)(q) * 64 + 32));                        \
        DOVA_U8_ROW(r0, c00, c01); DOVA_U8_ROW(r1, c10, c11); DOVA_U8_ROW(r2, c20, c21);                      \
        DOVA_U8_ROW(r3, c30, c31); DOVA_U8_ROW(r4, c40, c41); DOVA_U8_ROW(r5, c50, c51);                      \
    } while (0)

#define DOVA_U8_ROWS(t)                                                                                        \
    const uint8_t *r0 = a->rows[0 * taps + (t)], *r1 = a->rows[1 * taps + (t)], *r2 = a->rows[2 * taps + (t)]; \
    const uint8_t *r3 = a->rows[3 * taps + (t)], *r4 = a->rows[4 * taps + (t)], *r5 = a->rows[5 * taps + (t)]

static __attribute__((noinline)) void micro_u8_avx2(const Operand *a, const int8_t *panel, int32_t out[MR][16]) {
    __m256i c00 = _mm256_setzero_si256(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    __m256i c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    const __m256i ones = _mm256_set1_epi16(1);
    const int quads = a->pairs, taps = a->taps;
    for (int t = 0; t < taps; t++) {
        DOVA_U8_ROWS(t);
        const int8_t *b = panel + (size_t)t * quads * 64;
        for (int q = 0; q < quads; q++) {
            DOVA_U8_STEP(q);
        }
    }
    DOVA_TILE_STORE(out);
}

#ifdef DOVA_VNNI
/*
 * AVX-512 VNNI: vpdpbusd multiplies 4 uint8 inputs with 4 int8 weights in each of 16 int32 lanes
 * and adds the 4 products to the lane exactly (no intermediate saturation, unlike vpmaddubsw), so
 * every layer with uint8 rows runs here, whatever its weights. The u8 panel [kquads][16][4] is one
 * zmm per quad: 16 channels' 4 weights (tile_vnni, tile2_vnni: 6 rows x 16 or 32 channels).
 */
static inline __attribute__((always_inline)) __m512i bcast_quad(const uint8_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return _mm512_set1_epi32(v);
}

#define DOVA_VNNI_STORE(out)                                                                                   \
    do {                                                                                                     \
        _mm512_storeu_si512((void *)(out)[0], v0); _mm512_storeu_si512((void *)(out)[1], v1);                 \
        _mm512_storeu_si512((void *)(out)[2], v2); _mm512_storeu_si512((void *)(out)[3], v3);                 \
        _mm512_storeu_si512((void *)(out)[4], v4); _mm512_storeu_si512((void *)(out)[5], v5);                 \
    } while (0)

/* Requantization constants of one 16-channel panel for the AVX-512 epilogue (as finish_rows_avx2's). */
typedef struct {
    __m512i bias, m, sh, sm1, rm, limit, lo, hi;
    __m512d md0, md1, hd0, hd1, lod, hid; /* md, hd: m 2^-s and 2^(s-1) 2^-s (the double path) */
    __mmask16 store; /* the panel's channels below out_c */
} Epi512;

/*
 * The epilogue constants of channels [n0, n0 + 16) (per-channel arrays [np] as in Dense; bias_off
 * -1: the accumulators already hold the bias), mode as epi_row_vnni's; `live` channels are stored.
 */
static inline __attribute__((always_inline)) void epi_load(Epi512 *e, const Ctx *c, int mode, int bias_off, int m32_off,
                                                           int s_off, int sm1_off, int rm_off, int md_off, int hd_off,
                                                           int id_off, int lo, int hi, int dbl_limit, int n0, int live) {
    e->m = e->sh = e->sm1 = e->rm = e->limit = e->lo = e->hi = _mm512_setzero_si512();
    e->md0 = e->md1 = e->hd0 = e->hd1 = e->lod = e->hid = _mm512_setzero_pd();
    e->bias = bias_off < 0 ? _mm512_setzero_si512() : _mm512_loadu_si512((const void *)(I32(bias_off) + n0));
    e->store = (__mmask16)((1u << live) - 1);
    if (mode == 1) {
        e->m = _mm512_loadu_si512((const void *)(I32(m32_off) + n0));
        e->sh = _mm512_loadu_si512((const void *)(I32(s_off) + n0));
        e->sm1 = _mm512_loadu_si512((const void *)(I32(sm1_off) + n0));
        e->rm = _mm512_loadu_si512((const void *)(I32(rm_off) + n0));
        e->lo = _mm512_set1_epi32(lo);
        e->hi = _mm512_set1_epi32(hi);
    } else {
        const double *md = (const double *)(c->plan + md_off) + n0;
        const double *hd = (const double *)(c->plan + hd_off) + n0;
        const double *id = (const double *)(c->plan + id_off) + n0;
        /* m * 2^-s and 2^(s-1) * 2^-s: scaling by a power of two is exact, so
           fma(acc, m 2^-s, 2^(s-1) 2^-s) is the exact (acc m + 2^(s-1)) 2^-s wherever
           fma(acc, m, 2^(s-1)) is exact (|acc| <= dbl_limit), one multiply less per row */
        __m512d i0 = _mm512_loadu_pd(id), i1 = _mm512_loadu_pd(id + 8);
        e->md0 = _mm512_mul_pd(_mm512_loadu_pd(md), i0), e->md1 = _mm512_mul_pd(_mm512_loadu_pd(md + 8), i1);
        e->hd0 = _mm512_mul_pd(_mm512_loadu_pd(hd), i0), e->hd1 = _mm512_mul_pd(_mm512_loadu_pd(hd + 8), i1);
        e->lod = _mm512_set1_pd(lo);
        e->hid = _mm512_set1_pd(hi);
        e->limit = _mm512_set1_epi32(dbl_limit);
    }
}

/*
 * Requantizes one row's 16 accumulators to int16 at y (mode 1: int32 product; 2: double, exact for
 * |acc| <= dbl_limit). Returns 1 without writing when the double path's guard fails. Clamping
 * before the floor gives the same value as after it (the bounds are integers), and lets one
 * floor-rounding conversion replace the rounding and the conversion.
 */
static inline __attribute__((always_inline)) int epi_row_vnni(const Epi512 *e, int mode, __m512i acc, int16_t *y) {
    acc = _mm512_add_epi32(acc, e->bias);
    __m512i q;
    if (mode == 1) {
        __m512i v = _mm512_mullo_epi32(acc, e->m);
        q = _mm512_add_epi32(_mm512_srav_epi32(v, e->sh), _mm512_and_si512(_mm512_srav_epi32(v, e->sm1), e->rm));
        q = _mm512_min_epi32(_mm512_max_epi32(q, e->lo), e->hi);
    } else {
        if (_mm512_cmpgt_epi32_mask(_mm512_abs_epi32(acc), e->limit)) {
            return 1;
        }
        __m512d a0 = _mm512_cvtepi32_pd(_mm512_castsi512_si256(acc));
        __m512d a1 = _mm512_cvtepi32_pd(_mm512_extracti64x4_epi64(acc, 1));
        a0 = _mm512_min_pd(_mm512_max_pd(_mm512_fmadd_pd(a0, e->md0, e->hd0), e->lod), e->hid);
        a1 = _mm512_min_pd(_mm512_max_pd(_mm512_fmadd_pd(a1, e->md1, e->hd1), e->lod), e->hid);
        __m256i q0 = _mm512_cvt_roundpd_epi32(a0, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
        __m256i q1 = _mm512_cvt_roundpd_epi32(a1, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
        q = _mm512_inserti64x4(_mm512_castsi256_si512(q0), q1, 1);
    }
    _mm256_mask_storeu_epi16(y, e->store, _mm512_cvtepi32_epi16(q));
    return 0;
}

/*
 * One tile on uint8 rows: 6 rows x 16 channels [n0, n0 + 16), S mode (S = x.w) or grouped mode (the
 * accumulators start at the bias, each group, a tap's block of `lanes` channels, lanes / 4 quads,
 * is added exactly, then the A-bit update is applied, as micro_grouped_avx2 does: the same int32
 * argument, |acc| < 2^29 and a group sum < 2^23; one range test of all 96 values per group, the
 * per-vector wrap or clamp and the event count only when it fails). Then the epilogue from the
 * registers: the `count` rows are requantized into y0 (row stride ystride) and the rows it could
 * not write (the double guard failed, a 64-bit product, or capturing) are stored to s and returned
 * as a bit per row, for the caller's exact paths.
 */
static inline __attribute__((always_inline)) int tile_vnni_body(const Ctx *c, const Dense *d, const Operand *a,
                                                                const int8_t *panel, int n0, int count, int16_t *y0,
                                                                int ystride, int32_t s[MR][16], int32_t s2[MR][16],
                                                                int64_t *events, const int two) {
    const int quads = a->pairs, taps = a->taps;
    const size_t second = (size_t)d->kq * 16; /* the next panel's weights */
    __m512i v0, v1, v2, v3, v4, v5, u0, u1, u2, u3, u4, u5;
#define DOVA_VNNI_STEP2(q)                                                                                     \
    do {                                                                                                     \
        __m512i w0 = _mm512_loadu_si512((const void *)(b + (size_t)(q) * 64)), w1 = w0, x;                   \
        if (two) {                                                                                           \
            w1 = _mm512_loadu_si512((const void *)(b + second + (size_t)(q) * 64));                          \
        }                                                                                                    \
        x = bcast_quad(r0 + 4 * (size_t)(q)); v0 = _mm512_dpbusd_epi32(v0, x, w0); if (two) u0 = _mm512_dpbusd_epi32(u0, x, w1); \
        x = bcast_quad(r1 + 4 * (size_t)(q)); v1 = _mm512_dpbusd_epi32(v1, x, w0); if (two) u1 = _mm512_dpbusd_epi32(u1, x, w1); \
        x = bcast_quad(r2 + 4 * (size_t)(q)); v2 = _mm512_dpbusd_epi32(v2, x, w0); if (two) u2 = _mm512_dpbusd_epi32(u2, x, w1); \
        x = bcast_quad(r3 + 4 * (size_t)(q)); v3 = _mm512_dpbusd_epi32(v3, x, w0); if (two) u3 = _mm512_dpbusd_epi32(u3, x, w1); \
        x = bcast_quad(r4 + 4 * (size_t)(q)); v4 = _mm512_dpbusd_epi32(v4, x, w0); if (two) u4 = _mm512_dpbusd_epi32(u4, x, w1); \
        x = bcast_quad(r5 + 4 * (size_t)(q)); v5 = _mm512_dpbusd_epi32(v5, x, w0); if (two) u5 = _mm512_dpbusd_epi32(u5, x, w1); \
    } while (0)
    if (d->pn != 2) {
        v0 = _mm512_setzero_si512(), v1 = v0, v2 = v0, v3 = v0, v4 = v0, v5 = v0;
        u0 = v0, u1 = v0, u2 = v0, u3 = v0, u4 = v0, u5 = v0;
        for (int t = 0; t < taps; t++) {
            DOVA_U8_ROWS(t);
            const int8_t *b = panel + (size_t)t * quads * 64;
            for (int q = 0; q < quads; q++) {
                DOVA_VNNI_STEP2(q);
            }
        }
    } else {
        __m512i bias = _mm512_loadu_si512((const void *)(I32(d->bias_off) + n0));
        v0 = bias, v1 = bias, v2 = bias, v3 = bias, v4 = bias, v5 = bias;
        __m512i bias2 = two ? _mm512_loadu_si512((const void *)(I32(d->bias_off) + n0 + 16)) : bias;
        u0 = bias2, u1 = bias2, u2 = bias2, u3 = bias2, u4 = bias2, u5 = bias2;
        const int gq = c->lanes / 4;
        const int sat = c->acc.saturate;
        const __m128i drop = _mm_cvtsi32_si128(32 - c->acc.bits);
        const __m512i lo = _mm512_set1_epi32((int32_t)c->acc.min), hi = _mm512_set1_epi32((int32_t)c->acc.max);
        int64_t ev = 0;
#define DOVA_UPDATE512(v, row)                                                                               \
    do {                                                                                                     \
        __mmask16 o = _mm512_cmpgt_epi32_mask(v, hi) | _mm512_cmpgt_epi32_mask(lo, v);                       \
        if (o) {                                                                                             \
            if ((row) < count) {                                                                             \
                ev += __builtin_popcount(o);                                                                 \
            }                                                                                                \
            v = sat ? _mm512_min_epi32(_mm512_max_epi32(v, lo), hi)                                          \
                    : _mm512_sra_epi32(_mm512_sll_epi32(v, drop), drop);                                     \
        }                                                                                                    \
    } while (0)
        for (int t = 0; t < taps; t++) {
            DOVA_U8_ROWS(t);
            const int8_t *b = panel + (size_t)t * quads * 64;
            for (int g0 = 0; g0 < quads; g0 += gq) {
                int g1 = g0 + gq < quads ? g0 + gq : quads;
                for (int q = g0; q < g1; q++) {
                    DOVA_VNNI_STEP2(q);
                }
                __m512i mx = _mm512_max_epi32(_mm512_max_epi32(_mm512_max_epi32(v0, v1), _mm512_max_epi32(v2, v3)),
                                              _mm512_max_epi32(v4, v5));
                __m512i mn = _mm512_min_epi32(_mm512_min_epi32(_mm512_min_epi32(v0, v1), _mm512_min_epi32(v2, v3)),
                                              _mm512_min_epi32(v4, v5));
                if (two) {
                    mx = _mm512_max_epi32(mx, _mm512_max_epi32(_mm512_max_epi32(_mm512_max_epi32(u0, u1), _mm512_max_epi32(u2, u3)),
                                                               _mm512_max_epi32(u4, u5)));
                    mn = _mm512_min_epi32(mn, _mm512_min_epi32(_mm512_min_epi32(_mm512_min_epi32(u0, u1), _mm512_min_epi32(u2, u3)),
                                                               _mm512_min_epi32(u4, u5)));
                }
                if (__builtin_expect((_mm512_cmpgt_epi32_mask(mx, hi) | _mm512_cmpgt_epi32_mask(lo, mn)) != 0, 0)) {
                    DOVA_UPDATE512(v0, 0); DOVA_UPDATE512(v1, 1); DOVA_UPDATE512(v2, 2);
                    DOVA_UPDATE512(v3, 3); DOVA_UPDATE512(v4, 4); DOVA_UPDATE512(v5, 5);
                    if (two) {
                        DOVA_UPDATE512(u0, 0); DOVA_UPDATE512(u1, 1); DOVA_UPDATE512(u2, 2);
                        DOVA_UPDATE512(u3, 3); DOVA_UPDATE512(u4, 4); DOVA_UPDATE512(u5, 5);
                    }
                }
            }
        }
#undef DOVA_UPDATE512
        *events += ev;
    }
#undef DOVA_VNNI_STEP2
    const int mode = c->capture != NULL ? 0 : d->req32 ? 1 : d->dbl_limit > 0 ? 2 : 0;
    if (mode == 0) {
        DOVA_VNNI_STORE(s);
        if (two) {
            _mm512_storeu_si512((void *)s2[0], u0); _mm512_storeu_si512((void *)s2[1], u1);
            _mm512_storeu_si512((void *)s2[2], u2); _mm512_storeu_si512((void *)s2[3], u3);
            _mm512_storeu_si512((void *)s2[4], u4); _mm512_storeu_si512((void *)s2[5], u5);
            return ((1 << count) - 1) * 0x101;
        }
        return (1 << count) - 1;
    }
    Epi512 e, e2;
    epi_load(&e, c, mode, d->pn == 2 ? -1 : d->bias_off, d->m32_off, d->s_off, d->sm1_off, d->rm_off, d->md_off, d->hd_off,
             d->id_off, d->lo, d->hi, d->dbl_limit, n0, d->out_c - n0 < 16 ? d->out_c - n0 : 16);
    if (two) {
        epi_load(&e2, c, mode, d->pn == 2 ? -1 : d->bias_off, d->m32_off, d->s_off, d->sm1_off, d->rm_off, d->md_off,
                 d->hd_off, d->id_off, d->lo, d->hi, d->dbl_limit, n0 + 16, d->out_c - n0 - 16 < 16 ? d->out_c - n0 - 16 : 16);
    }
    int left = 0;
#define DOVA_EPI_ROW(md, ep, v, r, out, bit, n)                                                               \
    do {                                                                                                     \
        if ((r) < count && epi_row_vnni(ep, md, v, y0 + (size_t)(r) * ystride + (n))) {                      \
            _mm512_storeu_si512((void *)(out)[r], v);                                                        \
            left |= 1 << (bit);                                                                              \
        }                                                                                                    \
    } while (0)
#define DOVA_EPI_ROWS(md)                                                                                    \
    do {                                                                                                     \
        DOVA_EPI_ROW(md, &e, v0, 0, s, 0, n0); DOVA_EPI_ROW(md, &e, v1, 1, s, 1, n0);                          \
        DOVA_EPI_ROW(md, &e, v2, 2, s, 2, n0); DOVA_EPI_ROW(md, &e, v3, 3, s, 3, n0);                          \
        DOVA_EPI_ROW(md, &e, v4, 4, s, 4, n0); DOVA_EPI_ROW(md, &e, v5, 5, s, 5, n0);                          \
        if (two) {                                                                                           \
            DOVA_EPI_ROW(md, &e2, u0, 0, s2, 8, n0 + 16); DOVA_EPI_ROW(md, &e2, u1, 1, s2, 9, n0 + 16);        \
            DOVA_EPI_ROW(md, &e2, u2, 2, s2, 10, n0 + 16); DOVA_EPI_ROW(md, &e2, u3, 3, s2, 11, n0 + 16);      \
            DOVA_EPI_ROW(md, &e2, u4, 4, s2, 12, n0 + 16); DOVA_EPI_ROW(md, &e2, u5, 5, s2, 13, n0 + 16);      \
        }                                                                                                    \
    } while (0)
    if (mode == 1) { /* each mode with a constant, so that the other's branch and constants fold away */
        DOVA_EPI_ROWS(1);
    } else {
        DOVA_EPI_ROWS(2);
    }
#undef DOVA_EPI_ROWS
#undef DOVA_EPI_ROW
    return left;
}

/* One panel: channels [n0, n0 + 16); returns the rows left (a bit per row). */
static __attribute__((noinline)) int tile_vnni(const Ctx *c, const Dense *d, const Operand *a, const int8_t *panel,
                                               int n0, int count, int16_t *y0, int ystride, int32_t s[MR][16],
                                               int64_t *events) {
    return tile_vnni_body(c, d, a, panel, n0, count, y0, ystride, s, s, events, 0);
}

/*
 * Two panels, channels [n0, n0 + 32): 12 accumulators (enough independent chains to cover
 * vpdpbusd's latency, where 6 are not) and one broadcast of each input quad for 32 channels. The
 * rows left are bits 0-7 for the first panel (accumulators in s) and 8-15 for the second (in s2).
 */
static __attribute__((noinline)) int tile2_vnni(const Ctx *c, const Dense *d, const Operand *a, const int8_t *panel,
                                                int n0, int count, int16_t *y0, int ystride, int32_t s[MR][16],
                                                int32_t s2[MR][16], int64_t *events) {
    return tile_vnni_body(c, d, a, panel, n0, count, y0, ystride, s, s2, events, 1);
}
#endif

/*
 * 6 rows x 16 channels in canonical group order ("grouped mode", A <= 30): the accumulators start
 * at the bias; each group (a tap's block of `lanes` channels, lanes and in_c even) is added with
 * vpmaddwd, then the A-bit update is applied to the exact int32 value: |acc| < 2^29 and a group
 * sum |p| <= 256 * 255 * 127 < 2^23, so acc + p never leaves int32. An update that changes the
 * value is an overflow event; events are rare in a feasible model, so they are counted off the
 * fast path (one compare and a not-taken branch per update).
 */
static __attribute__((noinline)) void micro_grouped_avx2(const Ctx *c, const Dense *d, const Operand *a,
                                                              const void *panel, int n0, int count,
                                                              int32_t out[MR][16], int64_t *events) {
    /* u8 layers: uint8 rows, int8 quad panel, a group of `lanes` channels is lanes / 4 quads */
    const int u8 = d->u8;
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i bias0 = _mm256_loadu_si256((const __m256i *)(I32(d->bias_off) + n0));
    __m256i bias1 = _mm256_loadu_si256((const __m256i *)(I32(d->bias_off) + n0 + 8));
    __m256i c00 = bias0, c01 = bias1, c10 = bias0, c11 = bias1, c20 = bias0, c21 = bias1;
    __m256i c30 = bias0, c31 = bias1, c40 = bias0, c41 = bias1, c50 = bias0, c51 = bias1;
    const int pairs = a->pairs, taps = a->taps, gpairs = u8 ? c->lanes / 4 : c->lanes / 2;
    const int sat = c->acc.saturate;
    const __m128i drop = _mm_cvtsi32_si128(32 - c->acc.bits);
    const __m256i lo = _mm256_set1_epi32((int32_t)c->acc.min), hi = _mm256_set1_epi32((int32_t)c->acc.max);
    int64_t ev = 0;
    /* hot path: two compares and a not-taken branch; the wrap or clamp runs only when a lane left the range */
#define DOVA_UPDATE(v, row)                                                                                  \
    do {                                                                                                     \
        __m256i o = _mm256_or_si256(_mm256_cmpgt_epi32(v, hi), _mm256_cmpgt_epi32(lo, v));                  \
        if (__builtin_expect(!_mm256_testz_si256(o, o), 0)) {                                                \
            if ((row) < count) {                                                                             \
                ev += __builtin_popcount(_mm256_movemask_ps(_mm256_castsi256_ps(o)));                        \
            }                                                                                                \
            v = sat ? _mm256_min_epi32(_mm256_max_epi32(v, lo), hi)                                          \
                    : _mm256_sra_epi32(_mm256_sll_epi32(v, drop), drop);                                     \
        }                                                                                                    \
    } while (0)
    for (int t = 0; t < taps; t++) {
        DOVA_TILE_ROWS(t);
        for (int g0 = 0; g0 < pairs; g0 += gpairs) {
            int g1 = g0 + gpairs < pairs ? g0 + gpairs : pairs;
            if (u8) {
                const int8_t *b = (const int8_t *)panel + (size_t)t * pairs * 64;
                for (int q = g0; q < g1; q++) {
                    DOVA_U8_STEP(q);
                }
            } else {
                const int16_t *b = (const int16_t *)panel + (size_t)t * pairs * 32;
                for (int kq = g0; kq < g1; kq++) {
                    DOVA_TILE_STEP(kq);
                }
            }
            /* one range test for all 96 values (max and min trees), the per-vector updates only when it fails */
            __m256i mx = _mm256_max_epi32(_mm256_max_epi32(_mm256_max_epi32(c00, c01), _mm256_max_epi32(c10, c11)),
                                          _mm256_max_epi32(_mm256_max_epi32(c20, c21), _mm256_max_epi32(c30, c31)));
            __m256i mn = _mm256_min_epi32(_mm256_min_epi32(_mm256_min_epi32(c00, c01), _mm256_min_epi32(c10, c11)),
                                          _mm256_min_epi32(_mm256_min_epi32(c20, c21), _mm256_min_epi32(c30, c31)));
            mx = _mm256_max_epi32(mx, _mm256_max_epi32(_mm256_max_epi32(c40, c41), _mm256_max_epi32(c50, c51)));
            mn = _mm256_min_epi32(mn, _mm256_min_epi32(_mm256_min_epi32(c40, c41), _mm256_min_epi32(c50, c51)));
            __m256i outside = _mm256_or_si256(_mm256_cmpgt_epi32(mx, hi), _mm256_cmpgt_epi32(lo, mn));
            if (__builtin_expect(!_mm256_testz_si256(outside, outside), 0)) {
                DOVA_UPDATE(c00, 0); DOVA_UPDATE(c01, 0); DOVA_UPDATE(c10, 1); DOVA_UPDATE(c11, 1);
                DOVA_UPDATE(c20, 2); DOVA_UPDATE(c21, 2); DOVA_UPDATE(c30, 3); DOVA_UPDATE(c31, 3);
                DOVA_UPDATE(c40, 4); DOVA_UPDATE(c41, 4); DOVA_UPDATE(c50, 5); DOVA_UPDATE(c51, 5);
            }
        }
    }
#undef DOVA_UPDATE
    *events += ev;
    DOVA_TILE_STORE(out);
}

/*
 * roundShift(acc * m, s) clamped to [lo, hi] for 4 lanes when acc * m needs 64 bits (A + M > 31).
 * AVX2 has no 64-bit arithmetic shift, so the magnitude is shifted: with u = |acc| * m (exact:
 * |acc| <= 2^31, m < 2^32) and h = 2^(s-1), roundShift is (u + h) >> s for acc >= 0 and
 * -((u + h - 1) >> s) for acc < 0 (h - 1 -> 0 when s = 0); the clamp bound of a negative lane is
 * -lo (lo <= 0 <= hi for every activation).
 */
static inline __attribute__((always_inline)) __m256i requant64x4(__m128i acc, __m256i m, __m256i s, __m256i hp,
                                                                  __m256i hn, __m256i hi, __m256i neglo) {
    __m256i u = _mm256_mul_epu32(_mm256_cvtepu32_epi64(_mm_abs_epi32(acc)), m);
    __m256i neg = _mm256_cvtepi32_epi64(_mm_srai_epi32(acc, 31));
    __m256i q = _mm256_srlv_epi64(_mm256_add_epi64(u, _mm256_blendv_epi8(hp, hn, neg)), s);
    __m256i cap = _mm256_blendv_epi8(hi, neglo, neg);
    q = _mm256_blendv_epi8(q, cap, _mm256_cmpgt_epi64(q, cap));
    return _mm256_sub_epi64(_mm256_xor_si256(q, neg), neg);
}

/* Requantizes 8 accumulators of channels [oc0, oc0 + 8) to int16 at y (per-channel arrays as in Dense). */
static inline __attribute__((always_inline)) void requant8_avx2(const Ctx *c, __m256i acc, int oc0, int req32, int lo,
                                                                int hi, int m_off, int m32_off, int s_off, int sm1_off,
                                                                int rm_off, int hp_off, int hn_off, int s64_off,
                                                                int dbl_limit, int md_off, int hd_off, int id_off, int16_t *y) {
    if (!req32 && dbl_limit > 0) {
        __m256i big = _mm256_cmpgt_epi32(_mm256_abs_epi32(acc), _mm256_set1_epi32(dbl_limit));
        if (_mm256_testz_si256(big, big)) {
            const double *md = (const double *)(c->plan + md_off) + oc0;
            const double *hd = (const double *)(c->plan + hd_off) + oc0;
            const double *id = (const double *)(c->plan + id_off) + oc0;
            __m256d lov = _mm256_set1_pd(lo), hiv = _mm256_set1_pd(hi);
            __m256d a0 = _mm256_cvtepi32_pd(_mm256_castsi256_si128(acc));
            __m256d a1 = _mm256_cvtepi32_pd(_mm256_extracti128_si256(acc, 1));
            a0 = _mm256_floor_pd(_mm256_mul_pd(_mm256_fmadd_pd(a0, _mm256_loadu_pd(md), _mm256_loadu_pd(hd)), _mm256_loadu_pd(id)));
            a1 = _mm256_floor_pd(_mm256_mul_pd(_mm256_fmadd_pd(a1, _mm256_loadu_pd(md + 4), _mm256_loadu_pd(hd + 4)),
                                               _mm256_loadu_pd(id + 4)));
            a0 = _mm256_min_pd(_mm256_max_pd(a0, lov), hiv);
            a1 = _mm256_min_pd(_mm256_max_pd(a1, lov), hiv);
            _mm_storeu_si128((__m128i *)y, _mm_packs_epi32(_mm256_cvtpd_epi32(a0), _mm256_cvtpd_epi32(a1)));
            return;
        }
    }
    if (!req32) {
        const int64_t *m = I64(m_off) + oc0, *hp = I64(hp_off) + oc0, *hn = I64(hn_off) + oc0, *sh = I64(s64_off) + oc0;
        __m256i hi64 = _mm256_set1_epi64x(hi), neglo = _mm256_set1_epi64x(-(int64_t)lo);
        __m256i a4 = requant64x4(_mm256_castsi256_si128(acc), _mm256_loadu_si256((const __m256i *)m),
                                 _mm256_loadu_si256((const __m256i *)sh), _mm256_loadu_si256((const __m256i *)hp),
                                 _mm256_loadu_si256((const __m256i *)hn), hi64, neglo);
        __m256i b4 = requant64x4(_mm256_extracti128_si256(acc, 1), _mm256_loadu_si256((const __m256i *)(m + 4)),
                                 _mm256_loadu_si256((const __m256i *)(sh + 4)), _mm256_loadu_si256((const __m256i *)(hp + 4)),
                                 _mm256_loadu_si256((const __m256i *)(hn + 4)), hi64, neglo);
        __m256i idx = _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6);
        __m128i a = _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(a4, idx));
        __m128i b = _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(b4, idx));
        _mm_storeu_si128((__m128i *)y, _mm_packs_epi32(a, b));
        return;
    }
    __m256i v = _mm256_mullo_epi32(acc, _mm256_loadu_si256((const __m256i *)(I32(m32_off) + oc0)));
    __m256i q = _mm256_add_epi32(_mm256_srav_epi32(v, _mm256_loadu_si256((const __m256i *)(I32(s_off) + oc0))),
                                 _mm256_and_si256(_mm256_srav_epi32(v, _mm256_loadu_si256((const __m256i *)(I32(sm1_off) + oc0))),
                                                  _mm256_loadu_si256((const __m256i *)(I32(rm_off) + oc0))));
    q = _mm256_min_epi32(_mm256_max_epi32(q, _mm256_set1_epi32(lo)), _mm256_set1_epi32(hi));
    _mm_storeu_si128((__m128i *)y, _mm_packs_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1)));
}

/*
 * Epilogue of 8 channels of one pixel, vectorised: returns 0 (nothing written) when a lane fails
 * the P/N bound (those outputs are replayed by the caller), else requantizes all 8.
 */
static inline int finish8_avx2(const Ctx *c, const Dense *d, int oc0, const int32_t *s,
                                                       const int32_t *n, int16_t *y) {
    __m256i sv = _mm256_loadu_si256((const __m256i *)s);
    if (d->pn == 1) {
        __m256i nv = _mm256_loadu_si256((const __m256i *)n);
        __m256i fail = _mm256_or_si256(_mm256_cmpgt_epi32(sv, _mm256_loadu_si256((const __m256i *)(I32(d->capp_off) + oc0))),
                                       _mm256_cmpgt_epi32(nv, _mm256_loadu_si256((const __m256i *)(I32(d->capn_off) + oc0))));
        if (!_mm256_testz_si256(fail, fail)) {
            return 0;
        }
        sv = _mm256_sub_epi32(sv, nv);
    }
    __m256i acc = d->pn == 2 ? sv : _mm256_add_epi32(sv, _mm256_loadu_si256((const __m256i *)(I32(d->bias_off) + oc0)));
    requant8_avx2(c, acc, oc0, d->req32, d->lo, d->hi, d->m_off, d->m32_off, d->s_off, d->sm1_off, d->rm_off, d->hp_off,
                  d->hn_off, d->s64_off, d->dbl_limit, d->md_off, d->hd_off, d->id_off, y);
    return 1;
}
#endif


#ifdef DOVA_X86
/*
 * The epilogue of 8 channels [oc0, oc0 + 8) of `count` rows, with the per-channel constants loaded
 * once (S and grouped modes, the int32 or the double requantization). Returns the rows it did not
 * write (a bit per row: the double path's exactness guard failed, or PN mode), for finish8_avx2.
 */
static inline int finish_rows_avx2(const Ctx *c, const Dense *d, int oc0, int32_t s[MR][16], int h, int count,
                                   int16_t *y0, int ystride) {
    if (d->pn == 1 || (!d->req32 && d->dbl_limit <= 0)) {
        return (1 << count) - 1;
    }
    __m256i bias = d->pn == 2 ? _mm256_setzero_si256() : _mm256_loadu_si256((const __m256i *)(I32(d->bias_off) + oc0));
    int left = 0;
    if (d->req32) {
        __m256i m = _mm256_loadu_si256((const __m256i *)(I32(d->m32_off) + oc0));
        __m256i sh = _mm256_loadu_si256((const __m256i *)(I32(d->s_off) + oc0));
        __m256i sm1 = _mm256_loadu_si256((const __m256i *)(I32(d->sm1_off) + oc0));
        __m256i rm = _mm256_loadu_si256((const __m256i *)(I32(d->rm_off) + oc0));
        __m256i lo = _mm256_set1_epi32(d->lo), hi = _mm256_set1_epi32(d->hi);
        for (int r = 0; r < count; r++) {
            __m256i acc = _mm256_add_epi32(_mm256_loadu_si256((const __m256i *)&s[r][h]), bias);
            __m256i v = _mm256_mullo_epi32(acc, m);
            __m256i q = _mm256_add_epi32(_mm256_srav_epi32(v, sh), _mm256_and_si256(_mm256_srav_epi32(v, sm1), rm));
            q = _mm256_min_epi32(_mm256_max_epi32(q, lo), hi);
            _mm_storeu_si128((__m128i *)(y0 + (size_t)r * ystride + oc0),
                             _mm_packs_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1)));
        }
        return 0;
    }
    const double *mdp = (const double *)(c->plan + d->md_off) + oc0;
    const double *hdp = (const double *)(c->plan + d->hd_off) + oc0;
    const double *idp = (const double *)(c->plan + d->id_off) + oc0;
    __m256d m0 = _mm256_loadu_pd(mdp), m1 = _mm256_loadu_pd(mdp + 4);
    __m256d h0 = _mm256_loadu_pd(hdp), h1 = _mm256_loadu_pd(hdp + 4);
    __m256d i0 = _mm256_loadu_pd(idp), i1 = _mm256_loadu_pd(idp + 4);
    __m256d lo = _mm256_set1_pd(d->lo), hi = _mm256_set1_pd(d->hi);
    __m256i limit = _mm256_set1_epi32(d->dbl_limit);
    for (int r = 0; r < count; r++) {
        __m256i acc = _mm256_add_epi32(_mm256_loadu_si256((const __m256i *)&s[r][h]), bias);
        __m256i big = _mm256_cmpgt_epi32(_mm256_abs_epi32(acc), limit);
        if (!_mm256_testz_si256(big, big)) {
            left |= 1 << r;
            continue;
        }
        __m256d a0 = _mm256_cvtepi32_pd(_mm256_castsi256_si128(acc));
        __m256d a1 = _mm256_cvtepi32_pd(_mm256_extracti128_si256(acc, 1));
        a0 = _mm256_min_pd(_mm256_max_pd(_mm256_floor_pd(_mm256_mul_pd(_mm256_fmadd_pd(a0, m0, h0), i0)), lo), hi);
        a1 = _mm256_min_pd(_mm256_max_pd(_mm256_floor_pd(_mm256_mul_pd(_mm256_fmadd_pd(a1, m1, h1), i1)), lo), hi);
        _mm_storeu_si128((__m128i *)(y0 + (size_t)r * ystride + oc0),
                         _mm_packs_epi32(_mm256_cvtpd_epi32(a0), _mm256_cvtpd_epi32(a1)));
    }
    return left;
}
#endif

/*
 * Builds the A rows of output pixels [p0, p0 + count) into the tile (canonical (ky, kx, c) order,
 * zero padding): rows of `row_len` elements of `es` bytes from the NHWC input `x` (int16 rows of kp
 * elements, or a u8 layer's uint8 rows of kq), the row's tail past k zeroed.
 */
/* One tap of tap_bytes bytes: a constant-size copy for the small taps of stems (RGB in 4 channels). */
static inline __attribute__((always_inline)) void copy_tap(char *t, const char *src, size_t tap_bytes) {
    switch (tap_bytes) {
        case 4: memcpy(t, src, 4); break;
        case 8: memcpy(t, src, 8); break;
        case 16: memcpy(t, src, 16); break;
        default: memcpy(t, src, tap_bytes); break;
    }
}

static inline __attribute__((always_inline)) void zero_tap(char *t, size_t tap_bytes) {
    switch (tap_bytes) {
        case 4: memset(t, 0, 4); break;
        case 8: memset(t, 0, 8); break;
        case 16: memset(t, 0, 16); break;
        default: memset(t, 0, tap_bytes); break;
    }
}

static void im2col_tile(const Dense *d, const char *x, int es, int row_len, int p0, int count, char *tile) {
    size_t tap_bytes = (size_t)d->in_c * es;
    for (int r = 0; r < count; r++) {
        int p = p0 + r;
        int oy = p / d->out_w, ox = p % d->out_w;
        char *dst = tile + (size_t)r * row_len * es;
        for (int fy = 0; fy < d->kh; fy++) {
            int iy = oy * d->sh - d->ph + fy;
            for (int fx = 0; fx < d->kw; fx++) {
                int ix = ox * d->sw - d->pw + fx;
                char *t = dst + (size_t)(fy * d->kw + fx) * tap_bytes;
                if (iy < 0 || iy >= d->in_h || ix < 0 || ix >= d->in_w) {
                    zero_tap(t, tap_bytes);
                } else {
                    copy_tap(t, x + ((size_t)iy * d->in_w + ix) * tap_bytes, tap_bytes);
                }
            }
        }
        if (row_len > d->k) {
            memset(dst + (size_t)d->k * es, 0, (size_t)(row_len - d->k) * es);
        }
    }
}

/* The uint8 copy of n int16 values in [0, 255] (a u8 layer's input). */
static void to_u8(const int16_t *x, uint8_t *y, size_t n) {
    size_t i = 0;
#ifdef DOVA_X86
    for (; i + 32 <= n; i += 32) {
        __m256i a = _mm256_loadu_si256((const __m256i *)(x + i));
        __m256i b = _mm256_loadu_si256((const __m256i *)(x + i + 16));
        _mm256_storeu_si256((__m256i *)(y + i), _mm256_permute4x64_epi64(_mm256_packus_epi16(a, b), 0xD8));
    }
#endif
    for (; i < n; i++) {
        y[i] = (uint8_t)x[i];
    }
}


static void conv_dense(const Ctx *c, const int32_t *w) {
    Dense d;
    memcpy(&d, w + 1, sizeof(Dense));
    int pixels = d.out_h * d.out_w;
    int kpairs = d.kp / 2;
    int taps = d.kh * d.kw;
    int16_t *y = A16(d.out_off);
    int16_t *tile = A16(d.tile_off);
    const int16_t *zero = A16(d.zero_off);
    const int16_t *x = A16(d.in_off);
    const int16_t *panels = I16(d.w_off);
    int32_t s[MR][16], n[MR][16];
    Operand op;
    const void *many[MR * 64];
    op.rows = taps <= 9 ? op.p : many;
    /* the rows the kernels read: int16, or in u8 mode the uint8 copy (es: bytes per element) */
    const int es = d.u8 ? 1 : 2;
    const char *xb = (const char *)x;
    if (d.u8) {
        uint8_t *x8 = (uint8_t *)(c->arena + d.x8_off);
        to_u8(x, x8, (size_t)d.in_h * d.in_w * d.in_c);
        xb = (const char *)x8;
    }
    const int row_len = d.u8 ? d.kq : d.kp;   /* elements per row of direct == 1 and im2col */
    const int per_step = d.u8 ? 4 : 2;        /* elements per pair (int16) or quad (u8) */
    ptrdiff_t tap_delta[64];
    for (int t = 0; t < taps && t < 64; t++) {
        tap_delta[t] = ((ptrdiff_t)(t / d.kw) * d.in_w + t % d.kw) * d.in_c;
    }
    if (d.direct == 2 && taps > 64) {
        d.direct = 0; /* the planner keeps kernels of up to 8x8 taps implicit */
    }
    for (int nc0 = 0; nc0 < d.np; nc0 += d.nchunk) {
        int nc1 = nc0 + d.nchunk < d.np ? nc0 + d.nchunk : d.np;
        for (int p0 = 0; p0 < pixels; p0 += MR) {
            int count = pixels - p0 < MR ? pixels - p0 : MR;
            int built = 0; /* im2col rows of this tile exist in `tile` */
            if (d.direct == 1) {
                op.taps = 1;
                op.pairs = row_len / per_step;
                for (int r = 0; r < MR; r++) {
                    op.rows[r] = xb + (size_t)(p0 + (r < count ? r : count - 1)) * row_len * es;
                }
            } else if (d.direct == 2) {
                op.taps = taps;
                op.pairs = d.in_c / per_step;
                int ty = p0 / d.out_w, tx = p0 - ty * d.out_w; /* one division per tile */
                for (int r = 0; r < MR; r++) {
                    int oy = ty, ox = tx;
                    if (r < count - 1) {
                        if (++tx == d.out_w) {
                            tx = 0;
                            ty++;
                        }
                    }
                    int iy0 = oy * d.sh - d.ph, ix0 = ox * d.sw - d.pw;
                    if (iy0 >= 0 && iy0 + d.kh <= d.in_h && ix0 >= 0 && ix0 + d.kw <= d.in_w) {
                        /* the whole window is inside: one base and the layer's tap offsets */
                        const char *base = xb + ((size_t)iy0 * d.in_w + ix0) * d.in_c * es;
                        for (int t = 0; t < taps; t++) {
                            op.rows[r * taps + t] = base + tap_delta[t] * es;
                        }
                        continue;
                    }
                    for (int fy = 0; fy < d.kh; fy++) {
                        int iy = oy * d.sh - d.ph + fy;
                        for (int fx = 0; fx < d.kw; fx++) {
                            int ix = ox * d.sw - d.pw + fx;
                            op.rows[r * taps + fy * d.kw + fx] = iy < 0 || iy >= d.in_h || ix < 0 || ix >= d.in_w
                                ? (const void *)zero : (const void *)(xb + ((size_t)iy * d.in_w + ix) * d.in_c * es);
                        }
                    }
                }
            } else if (d.u8) {
                uint8_t *tile8 = (uint8_t *)tile;
                im2col_tile(&d, xb, 1, d.kq, p0, count, (char *)tile8);
                op.taps = 1;
                op.pairs = d.kq / 4;
                for (int r = 0; r < MR; r++) {
                    op.rows[r] = tile8 + (size_t)(r < count ? r : count - 1) * d.kq;
                }
            } else {
                im2col_tile(&d, xb, 2, d.kp, p0, count, (char *)tile);
                built = 1;
                op.taps = 1;
                op.pairs = kpairs;
                for (int r = 0; r < MR; r++) {
                    op.rows[r] = tile + (size_t)(r < count ? r : count - 1) * d.kp;
                }
            }
#ifdef DOVA_VNNI
            int carry = -1; /* >= 0: the rows of panel n0 the two-panel kernel left (accumulators in s2) */
            int32_t s2[MR][16];
#endif
            for (int n0 = nc0; n0 < nc1; n0 += 16) {
                const int16_t *panel = panels + (size_t)(n0 / 16) * kpairs * (d.pn == 1 ? 64 : 32);
                int pending[2] = {(1 << count) - 1, (1 << count) - 1}; /* rows each half still has to write */
                int fused = 0; /* the kernel wrote what it could and set pending */
                (void)fused;
#ifdef DOVA_X86
                const int8_t *panel8 = (const int8_t *)(c->plan + d.w8_off) + (size_t)(n0 / 16) * d.kq * 16;
#ifdef DOVA_VNNI
                if (d.u8 && c->isa == ISA_VNNI) {
                    int16_t *y0 = y + (size_t)p0 * d.out_c;
                    if (carry >= 0) { /* the second panel of the last two-panel tile */
                        pending[0] = pending[1] = carry;
                        if (carry != 0) {
                            memcpy(s, s2, sizeof(s2));
                        }
                        carry = -1;
                    } else if (n0 + 16 < nc1) {
                        int left = tile2_vnni(c, &d, &op, panel8, n0, count, y0, d.out_c, s, s2, &c->events[d.layer]);
                        pending[0] = pending[1] = left & 0xff;
                        carry = left >> 8;
                    } else {
                        pending[0] = pending[1] = tile_vnni(c, &d, &op, panel8, n0, count, y0, d.out_c, s, &c->events[d.layer]);
                    }
                    fused = 1;
                } else
#endif
                if (d.u8 && d.pn == 2) { /* u8 is planned for AVX2 and VNNI only */
                    micro_grouped_avx2(c, &d, &op, panel8, n0, count, s, &c->events[d.layer]);
                } else if (d.u8) {
                    micro_u8_avx2(&op, panel8, s);
                } else if (c->isa >= ISA_AVX2 && d.pn == 2) {
                    micro_grouped_avx2(c, &d, &op, panel, n0, count, s, &c->events[d.layer]);
                } else if (c->isa >= ISA_AVX2) {
                    if (d.pn) {
                        int32_t pn[MR][16];
                        for (int half = 0; half < 2; half++) {
                            micro_s_avx2(&op, panel + (size_t)half * kpairs * 32, pn);
                            for (int r = 0; r < MR; r++) {
                                memcpy(&s[r][8 * half], &pn[r][0], 8 * sizeof(int32_t));
                                memcpy(&n[r][8 * half], &pn[r][8], 8 * sizeof(int32_t));
                            }
                        }
                    } else {
                        micro_s_avx2(&op, panel, s);
                    }
                } else
#endif
                {
                    micro_generic(&d, &op, panel, s, n);
                }
#ifdef DOVA_X86
                if (!fused && c->isa >= ISA_AVX2 && c->capture == NULL) {
                    for (int h = 0; h < 16 && n0 + h + 8 <= d.out_c; h += 8) {
                        pending[h / 8] = finish_rows_avx2(c, &d, n0 + h, s, h, count, y + (size_t)p0 * d.out_c, d.out_c);
                    }
                }
#endif
                if ((pending[0] | pending[1]) == 0) {
                    continue;
                }
                for (int r = 0; r < count; r++) {
                    int16_t *yr = y + (size_t)(p0 + r) * d.out_c;
                    for (int h = 0; h < 16; h += 8) {
                        int oc0 = n0 + h;
                        if (oc0 >= d.out_c) {
                            break;
                        }
                        if (!(pending[h / 8] >> r & 1)) {
                            continue;
                        }
#ifdef DOVA_X86
                        if (c->isa >= ISA_AVX2 && c->capture == NULL && oc0 + 8 <= d.out_c && finish8_avx2(c, &d, oc0, &s[r][h], &n[r][h], yr + oc0)) {
                            continue;
                        }
#endif
                        int end = oc0 + 8 < d.out_c ? oc0 + 8 : d.out_c;
                        for (int oc = oc0; oc < end; oc++) {
                            int grouped_generic = d.pn == 2 && c->isa < ISA_AVX2;
                            if (d.pn == 2 && !grouped_generic) {
                                yr[oc] = requant_scalar(c, &d, captured(c, d.capture_off, (size_t)(p0 + r) * d.out_c + oc,
                                                                        s[r][oc - n0]), oc);
                            } else if (grouped_generic
                                       || (d.pn == 1 && (s[r][oc - n0] > I32(d.capp_off)[oc] || n[r][oc - n0] > I32(d.capn_off)[oc]))) {
                                /* the bound fails: replay this output in canonical order from its input row */
                                if (!built) {
                                    for (int rr = 0; rr < count; rr++) {
                                        if (d.direct == 1) {
                                            memcpy(tile + (size_t)rr * d.kp, op.rows[rr], sizeof(int16_t) * d.kp);
                                        } else {
                                            for (int t = 0; t < taps; t++) {
                                                memcpy(tile + (size_t)rr * d.kp + (size_t)t * d.in_c, op.rows[rr * taps + t],
                                                       sizeof(int16_t) * d.in_c);
                                            }
                                        }
                                    }
                                    built = 1;
                                }
                                yr[oc] = requant_scalar(c, &d, captured(c, d.capture_off, (size_t)(p0 + r) * d.out_c + oc,
                                                                        replay_dense(c, &d, tile + (size_t)r * d.kp, oc)), oc);
                            } else {
                                yr[oc] = requant_scalar(c, &d, captured(c, d.capture_off, (size_t)(p0 + r) * d.out_c + oc,
                                                        (int64_t)I32(d.bias_off)[oc]
                                                        + (d.pn == 1 ? (int64_t)s[r][oc - n0] - n[r][oc - n0] : s[r][oc - n0])), oc);
                            }
                        }
                    }
                }
            }
        }
    }
}

/* ---------------------------------------------------------------- depthwise convolution */

typedef struct {
    int layer, in_off, out_off;
    int ch, in_h, in_w, out_h, out_w;
    int kh, kw, sh, sw, ph, pw;
    int pn, lo, hi;
    int w_off;      /* int16 [kh*kw][ch], canonical tap order */
    int bias_off;   /* int32 [ch] */
    int m_off;      /* int64 [ch] */
    int s_off;      /* int32 [ch] */
    int scratch_off; /* arena: int32 [2][ch] */
    int req32;      /* as Dense */
    int m32_off, sm1_off, rm_off, hp_off, hn_off, s64_off; /* as Dense, [ch] */
    int dbl_limit, md_off, hd_off, id_off; /* as Dense */
    int capture_off; /* as Dense */
} Depthwise;


#ifdef DOVA_X86

/* One depthwise output in canonical order (each product a group, taps ky then kx); counts its events. */
static int64_t replay_depthwise(const Ctx *c, const Depthwise *d, int oy, int ox, int k) {
    const int16_t *x = A16(d->in_off);
    const int16_t *w = I16(d->w_off);
    int64_t acc = I32(d->bias_off)[k];
    for (int fy = 0; fy < d->kh; fy++) {
        int iy = oy * d->sh - d->ph + fy;
        for (int fx = 0; fx < d->kw; fx++) {
            int ix = ox * d->sw - d->pw + fx;
            if (iy < 0 || iy >= d->in_h || ix < 0 || ix >= d->in_w) {
                continue; /* a padded product is 0: adding it to an in-range value never overflows */
            }
            acc = acc_update(&c->acc, acc, (int64_t)x[((size_t)iy * d->in_w + ix) * d->ch + k] * w[(size_t)(fy * d->kw + fx) * d->ch + k],
                             &c->events[d->layer]);
        }
    }
    return acc;
}



/*
 * Depthwise, 16 channels of a row of output pixels. Products x * w are exact int32 through
 * vpmaddwd against weights with every other lane zeroed: one multiply per tap and 8 channels gives
 * the even channels' products, another the odd channels', with no widening shuffles; the
 * accumulators hold the even and the odd channels and are interleaved back once per output. In
 * grouped mode (each product is a group, docs/datapath.md section 2) every prefix of the canonical
 * order (taps ky then kx) passes through the accumulator: its extremes are tracked and tested once
 * per output, and the 16 outputs are replayed in canonical order where one left the A-bit range.
 */
#define DW_TAP(xp, t)                                                                         \
    do {                                                                                      \
        __m256i xv_ = _mm256_loadu_si256((const __m256i *)(xp));                              \
        ae = _mm256_add_epi32(ae, _mm256_madd_epi16(xv_, wk[2 * (t)]));                       \
        ao = _mm256_add_epi32(ao, _mm256_madd_epi16(xv_, wk[2 * (t) + 1]));                   \
        if (grouped) {                                                                        \
            mxe = _mm256_max_epi32(mxe, ae);                                                  \
            mne = _mm256_min_epi32(mne, ae);                                                  \
            mxo = _mm256_max_epi32(mxo, ao);                                                  \
            mno = _mm256_min_epi32(mno, ao);                                                  \
        }                                                                                     \
    } while (0)

static inline __attribute__((always_inline)) void depthwise16_row(const Ctx *c, const Depthwise *d, int oy, int c0,
                                                                  int16_t *yrow, const int grouped) {
    const int16_t *x = A16(d->in_off);
    const int16_t *w = I16(d->w_off);
    const int taps = d->kh * d->kw;
    const int ch = d->ch;
    __m256i wk[18]; /* per tap: the even channels' weights (odd lanes 0), then the odd channels' */
    const __m256i zero = _mm256_setzero_si256();
    for (int t = 0; t < taps; t++) {
        __m256i wv = _mm256_loadu_si256((const __m256i *)(w + (size_t)t * ch + c0));
        wk[2 * t] = _mm256_blend_epi16(wv, zero, 0xAA);
        wk[2 * t + 1] = _mm256_blend_epi16(wv, zero, 0x55);
    }
    int32_t be[8], bo[8];
    for (int i = 0; i < 8; i++) {
        be[i] = I32(d->bias_off)[c0 + 2 * i];
        bo[i] = I32(d->bias_off)[c0 + 2 * i + 1];
    }
    const __m256i bev = _mm256_loadu_si256((const __m256i *)be), bov = _mm256_loadu_si256((const __m256i *)bo);
    const __m256i lo = _mm256_set1_epi32((int32_t)c->acc.min), hi = _mm256_set1_epi32((int32_t)c->acc.max);
    int fy0 = 0, fy1 = d->kh; /* the kernel rows inside the input */
    while (oy * d->sh - d->ph + fy0 < 0) {
        fy0++;
    }
    while (oy * d->sh - d->ph + fy1 - 1 >= d->in_h) {
        fy1--;
    }
    const int full3 = d->kh == 3 && d->kw == 3 && fy0 == 0 && fy1 == 3;
    const size_t xs = (size_t)ch; /* one pixel to the next */
    const size_t rs = (size_t)d->in_w * ch; /* one input row to the next */
    for (int ox = 0; ox < d->out_w; ox++) {
        __m256i ae = bev, ao = bov;
        __m256i mxe = bev, mne = bev, mxo = bov, mno = bov;
        int ix0 = ox * d->sw - d->pw;
        if (full3 && ix0 >= 0 && ix0 + 2 < d->in_w) {
            /* interior of a 3x3 kernel: the nine taps unrolled, no padding tests */
            const int16_t *xp = x + (size_t)(oy * d->sh - d->ph) * rs + (size_t)ix0 * xs + c0;
            DW_TAP(xp, 0);
            DW_TAP(xp + xs, 1);
            DW_TAP(xp + 2 * xs, 2);
            DW_TAP(xp + rs, 3);
            DW_TAP(xp + rs + xs, 4);
            DW_TAP(xp + rs + 2 * xs, 5);
            DW_TAP(xp + 2 * rs, 6);
            DW_TAP(xp + 2 * rs + xs, 7);
            DW_TAP(xp + 2 * rs + 2 * xs, 8);
        } else {
            for (int fy = fy0; fy < fy1; fy++) {
                const int16_t *xr = x + (size_t)(oy * d->sh - d->ph + fy) * rs + c0;
                for (int fx = 0; fx < d->kw; fx++) {
                    int ix = ix0 + fx;
                    if (ix < 0 || ix >= d->in_w) {
                        continue; /* a padded product is 0: adding it never overflows */
                    }
                    DW_TAP(xr + (size_t)ix * xs, fy * d->kw + fx);
                }
            }
        }
        int16_t *yr = yrow + (size_t)ox * ch;
        if (grouped) {
            __m256i out = _mm256_or_si256(_mm256_or_si256(_mm256_cmpgt_epi32(mxe, hi), _mm256_cmpgt_epi32(lo, mne)),
                                          _mm256_or_si256(_mm256_cmpgt_epi32(mxo, hi), _mm256_cmpgt_epi32(lo, mno)));
            if (__builtin_expect(!_mm256_testz_si256(out, out), 0)) {
                /* some prefix left the A-bit range: these 16 outputs are replayed in canonical order */
                for (int k = c0; k < c0 + 16; k++) {
                    int64_t acc = replay_depthwise(c, d, oy, ox, k);
                    yr[k] = clamp16(round_shift(acc * I64(d->m_off)[k], I32(d->s_off)[k]), d->lo, d->hi);
                }
                continue;
            }
        }
        /* even and odd channels back into channel order: [0..3 | 8..11] and [4..7 | 12..15], then 0..7 and 8..15 */
        __m256i l = _mm256_unpacklo_epi32(ae, ao), h = _mm256_unpackhi_epi32(ae, ao);
        __m256i a0 = _mm256_permute2x128_si256(l, h, 0x20), a1 = _mm256_permute2x128_si256(l, h, 0x31);
        requant8_avx2(c, a0, c0, d->req32, d->lo, d->hi, d->m_off, d->m32_off, d->s_off, d->sm1_off, d->rm_off, d->hp_off,
                      d->hn_off, d->s64_off, d->dbl_limit, d->md_off, d->hd_off, d->id_off, yr + c0);
        requant8_avx2(c, a1, c0 + 8, d->req32, d->lo, d->hi, d->m_off, d->m32_off, d->s_off, d->sm1_off, d->rm_off,
                      d->hp_off, d->hn_off, d->s64_off, d->dbl_limit, d->md_off, d->hd_off, d->id_off, yr + c0 + 8);
    }
}
#undef DW_TAP

#ifdef DOVA_VNNI
/*
 * Depthwise on AVX-512 VNNI: 32 channels of a row of output pixels, as depthwise16_row does with
 * 16 (the even and the odd channels' products in separate accumulators, every prefix's extremes
 * tracked in grouped mode), with vpdpwssd adding each tap's products into the accumulator in one
 * instruction, and the epilogue of epi_row_vnni (mode 1 or 2). Channel blocks [c0, c0 + 32), or a last 16.
 * A 16-channel layer at stride 1 (`pair`) runs two neighbouring output pixels per register
 * instead: their inputs are the 32 contiguous int16 of pixels ix and ix + 1, the weights and the
 * bias are the 16 channels' twice; a pixel pair that reaches the padding runs one pixel at a time.
 */
#define DW_TAP512(xp, t)                                                                      \
    do {                                                                                      \
        __m512i xv_ = _mm512_maskz_loadu_epi16(lmx, (const void *)(xp));                      \
        ae = _mm512_dpwssd_epi32(ae, xv_, wk[2 * (t)]);                                       \
        ao = _mm512_dpwssd_epi32(ao, xv_, wk[2 * (t) + 1]);                                   \
        if (grouped) {                                                                        \
            mxe = _mm512_max_epi32(mxe, ae);                                                  \
            mne = _mm512_min_epi32(mne, ae);                                                  \
            mxo = _mm512_max_epi32(mxo, ao);                                                  \
            mno = _mm512_min_epi32(mno, ao);                                                  \
        }                                                                                     \
    } while (0)

static inline __attribute__((always_inline)) void depthwise32_row(const Ctx *c, const Depthwise *d, int oy, int c0,
                                                                  int live, int16_t *yrow, const int grouped, const int mode,
                                                                  const int pair) {
    const __mmask32 lm = live == 32 ? 0xFFFFFFFFu : 0xFFFFu; /* a last block of 16 channels: the upper half 0 */
    const int16_t *x = A16(d->in_off);
    const int16_t *w = I16(d->w_off);
    const int taps = d->kh * d->kw;
    const int ch = d->ch;
    __m512i wk[18]; /* per tap: the even channels' weights (odd lanes 0), then the odd channels' */
    const __m512i zero = _mm512_setzero_si512();
    for (int t = 0; t < taps; t++) {
        __m512i wv = pair ? _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(w + (size_t)t * ch)))
                          : _mm512_maskz_loadu_epi16(lm, (const void *)(w + (size_t)t * ch + c0));
        wk[2 * t] = _mm512_mask_blend_epi16(0xAAAAAAAAu, wv, zero);
        wk[2 * t + 1] = _mm512_mask_blend_epi16(0x55555555u, wv, zero);
    }
    /* the bias of the even and of the odd channels */
    const __m512i evens = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i b0 = _mm512_loadu_si512((const void *)(I32(d->bias_off) + c0));
    const __m512i b1 = pair ? b0 : live == 32 ? _mm512_loadu_si512((const void *)(I32(d->bias_off) + c0 + 16)) : _mm512_setzero_si512();
    const __m512i bev = _mm512_permutex2var_epi32(b0, evens, b1);
    const __m512i bov = _mm512_permutex2var_epi32(b0, _mm512_add_epi32(evens, _mm512_set1_epi32(1)), b1);
    const __m512i lo = _mm512_set1_epi32((int32_t)c->acc.min), hi = _mm512_set1_epi32((int32_t)c->acc.max);
    /* channel order back from [0-3, 8-11, 16-19, 24-27] (unpacklo) and [4-7, 12-15, ...] (unpackhi), in qwords */
    const __m512i first = _mm512_setr_epi64(0, 1, 8, 9, 2, 3, 10, 11), second = _mm512_setr_epi64(4, 5, 12, 13, 6, 7, 14, 15);
    Epi512 e0, e1;
    epi_load(&e0, c, mode, -1, d->m32_off, d->s_off, d->sm1_off, d->rm_off, d->md_off, d->hd_off, d->id_off, d->lo, d->hi,
             d->dbl_limit, c0, 16);
    epi_load(&e1, c, mode, -1, d->m32_off, d->s_off, d->sm1_off, d->rm_off, d->md_off, d->hd_off, d->id_off, d->lo, d->hi,
             d->dbl_limit, live == 32 ? c0 + 16 : c0, pair ? 16 : live - 16);
    Epi512 e1none = e1; /* the second pixel's half when a pair runs one pixel */
    e1none.store = 0;
    int fy0 = 0, fy1 = d->kh; /* the kernel rows inside the input */
    while (oy * d->sh - d->ph + fy0 < 0) {
        fy0++;
    }
    while (oy * d->sh - d->ph + fy1 - 1 >= d->in_h) {
        fy1--;
    }
    const int full3 = d->kh == 3 && d->kw == 3 && fy0 == 0 && fy1 == 3;
    const size_t xs = (size_t)ch;
    const size_t rs = (size_t)d->in_w * ch;
    for (int ox = 0; ox < d->out_w;) {
        __m512i ae = bev, ao = bov;
        __m512i mxe = bev, mne = bev, mxo = bov, mno = bov;
        int ix0 = ox * d->sw - d->pw;
        const int two = pair && full3 && ox + 1 < d->out_w && ix0 >= 0 && ix0 + 3 < d->in_w; /* pixels ox and ox + 1 */
        const __mmask32 lmx = two ? 0xFFFFFFFFu : lm;
        if (full3 && ix0 >= 0 && ix0 + 2 < d->in_w) {
            const int16_t *xp = x + (size_t)(oy * d->sh - d->ph) * rs + (size_t)ix0 * xs + c0;
            DW_TAP512(xp, 0);
            DW_TAP512(xp + xs, 1);
            DW_TAP512(xp + 2 * xs, 2);
            DW_TAP512(xp + rs, 3);
            DW_TAP512(xp + rs + xs, 4);
            DW_TAP512(xp + rs + 2 * xs, 5);
            DW_TAP512(xp + 2 * rs, 6);
            DW_TAP512(xp + 2 * rs + xs, 7);
            DW_TAP512(xp + 2 * rs + 2 * xs, 8);
        } else {
            for (int fy = fy0; fy < fy1; fy++) {
                const int16_t *xr = x + (size_t)(oy * d->sh - d->ph + fy) * rs + c0;
                for (int fx = 0; fx < d->kw; fx++) {
                    int ix = ix0 + fx;
                    if (ix < 0 || ix >= d->in_w) {
                        continue; /* a padded product is 0: adding it never overflows */
                    }
                    DW_TAP512(xr + (size_t)ix * xs, fy * d->kw + fx);
                }
            }
        }
        int16_t *yr = yrow + (size_t)ox * ch + c0;
        if (grouped && __builtin_expect((_mm512_cmpgt_epi32_mask(mxe, hi) | _mm512_cmpgt_epi32_mask(lo, mne)
                                         | _mm512_cmpgt_epi32_mask(mxo, hi) | _mm512_cmpgt_epi32_mask(lo, mno)) != 0, 0)) {
            /* some prefix left the A-bit range: these outputs are replayed in canonical order */
            for (int px = ox; px <= ox + two; px++) {
                for (int k = c0; k < c0 + live; k++) {
                    int64_t acc = replay_depthwise(c, d, oy, px, k);
                    yrow[(size_t)px * ch + k] = clamp16(round_shift(acc * I64(d->m_off)[k], I32(d->s_off)[k]), d->lo, d->hi);
                }
            }
            ox += 1 + two;
            continue;
        }
        __m512i l = _mm512_unpacklo_epi32(ae, ao), h = _mm512_unpackhi_epi32(ae, ao);
        __m512i a0 = _mm512_permutex2var_epi64(l, first, h), a1 = _mm512_permutex2var_epi64(l, second, h);
        if (epi_row_vnni(&e0, mode, a0, yr) | epi_row_vnni(pair && !two ? &e1none : &e1, mode, a1, yr + 16)) {
            /* the double path's guard failed: these outputs in 64-bit integer arithmetic */
            int32_t acc[32];
            _mm512_storeu_si512((void *)acc, a0);
            _mm512_storeu_si512((void *)(acc + 16), a1);
            for (int k = 0; k < (two ? 32 : live); k++) {
                int kc = c0 + (pair ? k % 16 : k);
                yr[k] = clamp16(round_shift((int64_t)acc[k] * I64(d->m_off)[kc], I32(d->s_off)[kc]), d->lo, d->hi);
            }
        }
        ox += 1 + two;
    }
}
#undef DW_TAP512

/* Channels [c0, c0 + live), live 32 or 16 (the layer's last block), with the modes fixed at compile time. */
static __attribute__((noinline)) void depthwise32_vnni(const Ctx *c, const Depthwise *d, int oy, int c0, int live,
                                                       int16_t *yrow) {
#define DW_MODES(pair)                                                                        \
    do {                                                                                      \
        if (d->pn == 2) {                                                                     \
            if (d->req32) {                                                                   \
                depthwise32_row(c, d, oy, c0, live, yrow, 1, 1, pair);                        \
            } else {                                                                          \
                depthwise32_row(c, d, oy, c0, live, yrow, 1, 2, pair);                        \
            }                                                                                 \
        } else if (d->req32) {                                                                \
            depthwise32_row(c, d, oy, c0, live, yrow, 0, 1, pair);                            \
        } else {                                                                              \
            depthwise32_row(c, d, oy, c0, live, yrow, 0, 2, pair);                            \
        }                                                                                     \
    } while (0)
    if (d->ch == 16 && d->sw == 1) {
        DW_MODES(1);
    } else {
        DW_MODES(0);
    }
#undef DW_MODES
}
#endif

/* The row with the mode fixed at compile time: no per-tap test of it. */
static __attribute__((noinline)) void depthwise16_avx2(const Ctx *c, const Depthwise *d, int oy, int c0,
                                                            int16_t *yrow, int64_t *events) {
    if (d->pn == 2) {
        depthwise16_row(c, d, oy, c0, yrow, 1);
    } else {
        depthwise16_row(c, d, oy, c0, yrow, 0);
    }
}
#endif

static void conv_depthwise(const Ctx *c, const int32_t *words) {
    Depthwise d;
    memcpy(&d, words + 1, sizeof(Depthwise));
    const int16_t *x = A16(d.in_off);
    int16_t *y = A16(d.out_off);
    const int16_t *w = I16(d.w_off);
    const int32_t *bias = I32(d.bias_off);
    const int64_t *m = I64(d.m_off);
    const int32_t *s = I32(d.s_off);
    int32_t *P = (int32_t *)(c->arena + d.scratch_off);
    int32_t *N = P + d.ch;
    int ch = d.ch;
    int64_t *ev = &c->events[d.layer];
    int vec_end = 0, vec32_end = 0;
    (void)vec32_end;
#ifdef DOVA_X86
    if (c->isa >= ISA_AVX2 && d.pn != 1 && d.kh * d.kw <= 9 && c->capture == NULL) {
        vec_end = ch & ~15;
    }
#ifdef DOVA_VNNI
    if (vec_end > 0 && c->isa == ISA_VNNI && (d.req32 || d.dbl_limit > 0)) {
        vec32_end = vec_end; /* every block of 16 channels: 32 at a time, the last 16 alone */
    }
#endif
#endif
    for (int oy = 0; oy < d.out_h; oy++) {
#ifdef DOVA_VNNI
        for (int c0 = 0; c0 < vec32_end; c0 += 32) {
            depthwise32_vnni(c, &d, oy, c0, vec32_end - c0 >= 32 ? 32 : 16, y + (size_t)oy * d.out_w * ch);
        }
#endif
#ifdef DOVA_X86
        for (int c0 = vec32_end; c0 < vec_end; c0 += 16) {
            depthwise16_avx2(c, &d, oy, c0, y + (size_t)oy * d.out_w * ch, ev);
        }
#endif
        for (int ox = 0; ox < d.out_w; ox++) {
            int16_t *yv = y + ((size_t)oy * d.out_w + ox) * ch;
            if (vec_end == ch) {
                continue;
            }
            memset(P, 0, sizeof(int32_t) * ch);
            memset(N, 0, sizeof(int32_t) * ch);
            for (int fy = 0; fy < d.kh; fy++) {
                int iy = oy * d.sh - d.ph + fy;
                if (iy < 0 || iy >= d.in_h) {
                    continue;
                }
                for (int fx = 0; fx < d.kw; fx++) {
                    int ix = ox * d.sw - d.pw + fx;
                    if (ix < 0 || ix >= d.in_w) {
                        continue;
                    }
                    const int16_t *xr = x + ((size_t)iy * d.in_w + ix) * ch;
                    const int16_t *wt = w + (size_t)(fy * d.kw + fx) * ch;
                    if (d.pn) {
                        for (int k = vec_end; k < ch; k++) {
                            int32_t prod = xr[k] * wt[k];
                            P[k] += prod > 0 ? prod : 0;
                            N[k] += prod < 0 ? -prod : 0;
                        }
                    } else {
                        for (int k = vec_end; k < ch; k++) {
                            P[k] += xr[k] * wt[k];
                        }
                    }
                }
            }
            int16_t *yr = yv;
            for (int k = vec_end; k < ch; k++) {
                int64_t acc = (int64_t)bias[k] + P[k] - N[k];
                if (d.pn && ((int64_t)bias[k] + P[k] > c->acc.max || (int64_t)bias[k] - N[k] < c->acc.min)) {
                    acc = bias[k];
                    for (int fy = 0; fy < d.kh; fy++) {
                        int iy = oy * d.sh - d.ph + fy;
                        for (int fx = 0; fx < d.kw; fx++) {
                            int ix = ox * d.sw - d.pw + fx;
                            if (iy < 0 || iy >= d.in_h || ix < 0 || ix >= d.in_w) {
                                continue; /* a padded product is 0: adding it to an in-range value never overflows */
                            }
                            acc = acc_update(&c->acc, acc,
                                             (int64_t)x[((size_t)iy * d.in_w + ix) * ch + k] * w[(size_t)(fy * d.kw + fx) * ch + k], ev);
                        }
                    }
                }
                captured(c, d.capture_off, ((size_t)oy * d.out_w + ox) * ch + k, acc);
                yr[k] = clamp16(round_shift(acc * m[k], s[k]), d.lo, d.hi);
            }
        }
    }
}

/* ---------------------------------------------------------------- other layers */

static void max_pool(const Ctx *c, const int32_t *w) {
    int in_off = w[2], out_off = w[3], ch = w[4], in_h = w[5], in_w = w[6], out_h = w[7], out_w = w[8];
    int k = w[9], st = w[10], pad = w[11];
    const int16_t *x = A16(in_off);
    int16_t *y = A16(out_off);
    for (int oy = 0; oy < out_h; oy++) {
        for (int ox = 0; ox < out_w; ox++) {
            int16_t *yr = y + ((size_t)oy * out_w + ox) * ch;
            for (int q = 0; q < ch; q++) {
                yr[q] = INT16_MIN;
            }
            for (int fy = 0; fy < k; fy++) {
                int iy = oy * st - pad + fy;
                if (iy < 0 || iy >= in_h) {
                    continue;
                }
                for (int fx = 0; fx < k; fx++) {
                    int ix = ox * st - pad + fx;
                    if (ix < 0 || ix >= in_w) {
                        continue;
                    }
                    const int16_t *xr = x + ((size_t)iy * in_w + ix) * ch;
                    for (int q = 0; q < ch; q++) {
                        yr[q] = xr[q] > yr[q] ? xr[q] : yr[q];
                    }
                }
            }
        }
    }
}

static void avg_pool(const Ctx *c, const int32_t *w) {
    int layer = w[1], in_off = w[2], out_off = w[3], ch = w[4], in_w = w[6], out_h = w[7], out_w = w[8];
    int k = w[9], st = w[10], shift = w[11], lo = w[12], hi = w[13];
    int64_t m;
    memcpy(&m, w + 14, 8);
    const int16_t *x = A16(in_off);
    int16_t *y = A16(out_off);
    for (int oy = 0; oy < out_h; oy++) {
        for (int ox = 0; ox < out_w; ox++) {
            for (int q = 0; q < ch; q++) {
                int64_t acc = 0;
                for (int fy = 0; fy < k; fy++) {
                    for (int fx = 0; fx < k; fx++) {
                        acc = acc_update(&c->acc, acc, x[((size_t)(oy * st + fy) * in_w + ox * st + fx) * ch + q], &c->events[layer]);
                    }
                }
                y[((size_t)oy * out_w + ox) * ch + q] = clamp16(round_shift(acc * m, shift), lo, hi);
            }
        }
    }
}

static void global_avg_pool(const Ctx *c, const int32_t *w) {
    int layer = w[1], in_off = w[2], out_off = w[3], ch = w[4], area = w[5], shift = w[6], lo = w[7], hi = w[8];
    int bound_free = w[9]; /* area * max|x| fits A bits: no update can overflow */
    int64_t m;
    memcpy(&m, w + 10, 8);
    const int16_t *x = A16(in_off);
    int16_t *y = A16(out_off);
    int32_t *acc = (int32_t *)(c->arena + w[12]);
    if (bound_free) {
        memset(acc, 0, sizeof(int32_t) * ch);
        for (int i = 0; i < area; i++) {
            const int16_t *xr = x + (size_t)i * ch;
            for (int q = 0; q < ch; q++) {
                acc[q] += xr[q];
            }
        }
        for (int q = 0; q < ch; q++) {
            y[q] = clamp16(round_shift((int64_t)acc[q] * m, shift), lo, hi);
        }
        return;
    }
    for (int q = 0; q < ch; q++) {
        int64_t a = 0;
        for (int i = 0; i < area; i++) {
            a = acc_update(&c->acc, a, x[(size_t)i * ch + q], &c->events[layer]);
        }
        y[q] = clamp16(round_shift(a * m, shift), lo, hi);
    }
}

static void add(const Ctx *c, const int32_t *w) {
    int layer = w[1], l_off = w[2], r_off = w[3], out_off = w[4], count = w[5], shift = w[6], lo = w[7], hi = w[8];
    /* small: 1 = |x1*m1 + x2*m2| < 2^30, computed in int32 without a range check; 2 = no range check
       needed and |x1*m1 + x2*m2| + 2^(s-1) < 2^53: computed in double (AVX2 build) */
    int bits = w[9], small = w[10];
    int64_t m1, m2;
    memcpy(&m1, w + 11, 8);
    memcpy(&m2, w + 13, 8);
    const int16_t *x1 = A16(l_off), *x2 = A16(r_off);
    int16_t *y = A16(out_off);
#ifdef DOVA_X86
    if (small == 2) {
        /* x1*m1 + x2*m2 + 2^(s-1) is an integer below 2^53 (planner): exact in double, then floor(* 2^-s) */
        __m256d a = _mm256_set1_pd((double)m1), b = _mm256_set1_pd((double)m2);
        __m256d h = _mm256_set1_pd(shift > 0 ? ldexp(1.0, shift - 1) : 0.0), inv = _mm256_set1_pd(ldexp(1.0, -shift));
        __m256d lov = _mm256_set1_pd(lo), hiv = _mm256_set1_pd(hi);
        int i = 0;
        for (; i + 8 <= count; i += 8) {
            __m128i v1 = _mm_loadu_si128((const __m128i *)(x1 + i)), v2 = _mm_loadu_si128((const __m128i *)(x2 + i));
            __m256i w1 = _mm256_cvtepi16_epi32(v1), w2 = _mm256_cvtepi16_epi32(v2);
            __m256d p0 = _mm256_fmadd_pd(_mm256_cvtepi32_pd(_mm256_castsi256_si128(w1)), a,
                                         _mm256_fmadd_pd(_mm256_cvtepi32_pd(_mm256_castsi256_si128(w2)), b, h));
            __m256d p1 = _mm256_fmadd_pd(_mm256_cvtepi32_pd(_mm256_extracti128_si256(w1, 1)), a,
                                         _mm256_fmadd_pd(_mm256_cvtepi32_pd(_mm256_extracti128_si256(w2, 1)), b, h));
            p0 = _mm256_min_pd(_mm256_max_pd(_mm256_floor_pd(_mm256_mul_pd(p0, inv)), lov), hiv);
            p1 = _mm256_min_pd(_mm256_max_pd(_mm256_floor_pd(_mm256_mul_pd(p1, inv)), lov), hiv);
            _mm_storeu_si128((__m128i *)(y + i), _mm_packs_epi32(_mm256_cvtpd_epi32(p0), _mm256_cvtpd_epi32(p1)));
        }
        for (; i < count; i++) {
            y[i] = clamp16(round_shift(x1[i] * m1 + x2[i] * m2, shift), lo, hi);
        }
        return;
    }
#endif
    if (small == 1) {
        int32_t a = (int32_t)m1, b = (int32_t)m2;
        int32_t sm1 = shift > 0 ? shift - 1 : 0, rm = shift > 0 ? 1 : 0;
        for (int i = 0; i < count; i++) {
            int32_t v = x1[i] * a + x2[i] * b;
            int32_t q = (v >> shift) + ((v >> sm1) & rm);
            y[i] = (int16_t)(q < lo ? lo : (q > hi ? hi : q));
        }
        return;
    }
    int64_t min = bits >= 64 ? INT64_MIN : -((int64_t)1 << (bits - 1));
    int64_t max = bits >= 64 ? INT64_MAX : ((int64_t)1 << (bits - 1)) - 1;
    for (int i = 0; i < count; i++) {
        int64_t sum = x1[i] * m1 + x2[i] * m2;
        if (sum < min || sum > max) {
            c->events[layer]++;
            sum = c->acc.saturate ? (sum < min ? min : max) : wrap_bits(sum, bits);
        }
        y[i] = clamp16(round_shift(sum, shift), lo, hi);
    }
}

/* ---------------------------------------------------------------- entry points */

/*
 * Plan header (int32 words): [0] magic 0x646f7661, [1] version 1, [2] isa, [3] accumulator bits,
 * [4] saturate, [5] lanes, [6] input arena offset, [7] input channels, [8] height, [9] width,
 * [10] layer count, [11] input channel stride in the arena (channels, or one more to make it
 * even: the extra channel is 0 and its weights are 0), then per layer: [length in words] [op] [fields...].
 */
#ifdef DOVA_PROFILE
static double prof_entry_ns;
static long prof_entries;
#endif
static void run_plan(uint8_t *plan, uint8_t *arena, const uint8_t *px, int64_t *events, int32_t *capture) {
    const int32_t *h = (const int32_t *)plan;
    Ctx c;
    c.plan = plan;
    c.arena = arena;
    c.isa = h[2];
    c.acc.bits = h[3];
    c.acc.saturate = h[4];
    c.acc.min = -((int64_t)1 << (h[3] - 1));
    c.acc.max = ((int64_t)1 << (h[3] - 1)) - 1;
    c.lanes = h[5];
    c.events = events;
    c.capture = capture;
    int16_t *in = (int16_t *)(arena + h[6]);
    int ch = h[7], hw = h[8] * h[9], stride = h[11];
#ifdef DOVA_X86
    if (ch == 3 && stride == 4) {
        /* planar RGB to 4 int16 channels per pixel (the fourth 0), 8 pixels at a time */
        const __m128i z = _mm_setzero_si128();
        int i = 0;
        for (; i + 8 <= hw; i += 8) {
            __m128i r = _mm_cvtepu8_epi16(_mm_loadl_epi64((const __m128i *)(px + i)));
            __m128i g = _mm_cvtepu8_epi16(_mm_loadl_epi64((const __m128i *)(px + hw + i)));
            __m128i b = _mm_cvtepu8_epi16(_mm_loadl_epi64((const __m128i *)(px + 2 * (size_t)hw + i)));
            __m128i rg0 = _mm_unpacklo_epi16(r, g), rg1 = _mm_unpackhi_epi16(r, g);
            __m128i b0 = _mm_unpacklo_epi16(b, z), b1 = _mm_unpackhi_epi16(b, z);
            __m128i *o = (__m128i *)(in + (size_t)i * 4);
            _mm_storeu_si128(o, _mm_unpacklo_epi32(rg0, b0));
            _mm_storeu_si128(o + 1, _mm_unpackhi_epi32(rg0, b0));
            _mm_storeu_si128(o + 2, _mm_unpacklo_epi32(rg1, b1));
            _mm_storeu_si128(o + 3, _mm_unpackhi_epi32(rg1, b1));
        }
        for (; i < hw; i++) {
            in[4 * i] = px[i];
            in[4 * i + 1] = px[hw + i];
            in[4 * i + 2] = px[2 * (size_t)hw + i];
            in[4 * i + 3] = 0;
        }
    } else
#endif
    if (ch == 1 && stride == 2) {
        for (int i = 0; i < hw; i++) {
            in[2 * i] = px[i];
            in[2 * i + 1] = 0;
        }
    } else {
        for (int i = 0; i < hw; i++) {
            for (int q = 0; q < ch; q++) {
                in[(size_t)i * stride + q] = px[(size_t)q * hw + i];
            }
            for (int q = ch; q < stride; q++) {
                in[(size_t)i * stride + q] = 0;
            }
        }
    }
    const int32_t *w = h + 12;
#ifdef DOVA_PROFILE
    static double prof_ns[256];
    static int prof_op[256], prof_runs, prof_layers;
    static int registered;
    struct timespec t0, t1;
    if (!registered) {
        registered = 1;
    }
#endif
    for (int l = 0; l < h[10]; l++) {
#ifdef DOVA_PROFILE
        clock_gettime(CLOCK_MONOTONIC, &t0);
#endif
        switch (w[1]) {
            case OP_DENSE: conv_dense(&c, w + 1); break;
            case OP_DEPTHWISE: conv_depthwise(&c, w + 1); break;
            case OP_MAXPOOL: max_pool(&c, w + 1); break;
            case OP_AVGPOOL: avg_pool(&c, w + 1); break;
            case OP_GAP: global_avg_pool(&c, w + 1); break;
            case OP_ADD: add(&c, w + 1); break;
            default: return;
        }
#ifdef DOVA_PROFILE
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if (l < 256) {
            prof_ns[l] += (t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec);
            prof_op[l] = w[1];
        }
#endif
        w += w[0];
    }
#ifdef DOVA_PROFILE
    prof_layers = h[10];
    if (++prof_runs % 2000 == 0) {
        double tot = 0;
        for (int l = 0; l < prof_layers; l++) tot += prof_ns[l];
        for (int l = 0; l < prof_layers; l++) fprintf(stderr, "layer %2d op %d: %6.1f us %5.1f%%\n", l, prof_op[l], prof_ns[l] / prof_runs / 1e3, 100 * prof_ns[l] / tot);
        fprintf(stderr, "total %.1f us\n", tot / prof_runs / 1e3);
    }
#endif
}

/* The best kernels this library has: each build is loaded only on CPUs that run it (NativeKernels). */
JNIEXPORT jint JNICALL Java_dova_sim_exec_NativeKernels_bestIsa(JNIEnv *env, jclass cls) {
#if defined(DOVA_VNNI)
    return ISA_VNNI;
#elif defined(DOVA_X86)
    return ISA_AVX2;
#else
    return ISA_GENERIC;
#endif
}

JNIEXPORT void JNICALL Java_dova_sim_exec_NativeKernels_run(JNIEnv *env, jclass cls, jobject plan, jobject arena,
                                                           jbyteArray pixels, jint offset, jlongArray events,
                                                           jobject capture) {
    uint8_t *p = (*env)->GetDirectBufferAddress(env, plan);
    uint8_t *a = (*env)->GetDirectBufferAddress(env, arena);
    int32_t *cap = capture == NULL ? NULL : (int32_t *)(*env)->GetDirectBufferAddress(env, capture);
    jbyte *px = (*env)->GetPrimitiveArrayCritical(env, pixels, NULL);
    jlong *ev = (*env)->GetPrimitiveArrayCritical(env, events, NULL);
    if (px != NULL && ev != NULL) {
#ifdef DOVA_PROFILE
        struct timespec e0, e1;
        clock_gettime(CLOCK_MONOTONIC, &e0);
#endif
        run_plan(p, a, (const uint8_t *)px + offset, (int64_t *)ev, cap);
#ifdef DOVA_PROFILE
        clock_gettime(CLOCK_MONOTONIC, &e1);
        prof_entry_ns += (e1.tv_sec - e0.tv_sec) * 1e9 + (e1.tv_nsec - e0.tv_nsec);
        if (++prof_entries % 2000 == 0) {
            fprintf(stderr, "run_plan %.1f us per call\n", prof_entry_ns / prof_entries / 1e3);
        }
#endif
    }
    if (ev != NULL) {
        (*env)->ReleasePrimitiveArrayCritical(env, events, ev, 0);
    }
    if (px != NULL) {
        (*env)->ReleasePrimitiveArrayCritical(env, pixels, px, JNI_ABORT);
    }
}
