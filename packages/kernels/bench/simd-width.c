/*
 * onebit's two ternary kernels written in C, for `bench:simd-width` (simd-width.bench.ts): what the same work costs
 * natively with 128-bit vectors (as wasm SIMD has them) and with 256-bit ones (AVX2, as bitnet.cpp's I2_S and
 * llama.cpp's TQ2_0 kernels use).
 *
 * lut-*: the row sweep of the prefill GEMM (src/wasm/t2-gemm-lut.wat.ts, tri5 rows, tiles of 32 tokens). A 3-block
 * chunk's 48 tables of 243 entries × 32 tokens (i16, 64 bytes an entry, 15 552 bytes a table), read in passes of 8
 * tables over every row; rows in pairs (row 2p's 16 bytes of a block, then row 2p + 1's); per row and pass 8 entry
 * addresses from its 8 weight bytes, then per 8-token vector a tree of 8 entry loads, plus the row's i16 sums after
 * the chunk's first pass, stored (the chunk's last pass adds them, widened, into the row's i32 sums instead).
 * Prints nanoseconds per row and table ("row-group": 5 weights × 32 tokens = 160 multiply-adds).
 *
 * gemv-*: the decode GEMV t2_dot_1r (src/wasm/kernels.wat.ts): onebit-t2 rows in pairs (per 64 inputs, row 2p's 16
 * bytes then row 2p + 1's), one shift a block, codes masked in place (3 and 12), i16x8 products of codes and int8
 * activations (pmaddubsw), i16 sums widened every 8 blocks; 6912 × 2560 matrices, `matrices` of them cycled so the
 * weights stream from DRAM as a token's do. Prints microseconds per matrix.
 *
 * Variants: 128 — the instruction mix V8 emits (every vector loaded into a register, then used: wasm has no memory
 * operands); 128-fused — the compiler's own code (it folds loads into the arithmetic); 256 — AVX2 (lut: an entry's
 * 32 tokens in two loads instead of four; gemv: two blocks of a row pair at once).
 * Output, one line: `<kernel>-<variant> <time> <checksum>` (the checksum of the results, the same for every variant).
 *
 * Build: cc -O2 -march=native simd-width.c -o simd-width   (the benchmark does this itself, with $CC or cc)
 * Run:   ./simd-width <lut|gemv>-<128|128-fused|256> [rows (lut) or matrices (gemv)] [repetitions]
 */
#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ENTRIES 243
#define ENTRY_BYTES 64 /* 32 tokens × i16 */
#define TABLE_BYTES (ENTRIES * ENTRY_BYTES)
#define CHUNK_BLOCKS 3
#define GROUPS (CHUNK_BLOCKS * 16)
#define PASS 8

/* a value the optimiser must keep in a register: the load stays an instruction of its own */
#define KEEP(x) __asm__("" : "+x"(x))

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

#define FIRST 0
#define MIDDLE 1
#define LAST 2
#define INLINE static inline __attribute__((always_inline))

/* the 8 entries a row's 8 weight bytes select, one per table of the pass */
#define ADDRESSES(wb)                                                                                                  \
  const uint8_t *p0 = tables + 0 * TABLE_BYTES + (size_t)(wb)[0] * ENTRY_BYTES, *p1 = tables + 1 * TABLE_BYTES + (size_t)(wb)[1] * ENTRY_BYTES, \
                *p2 = tables + 2 * TABLE_BYTES + (size_t)(wb)[2] * ENTRY_BYTES, *p3 = tables + 3 * TABLE_BYTES + (size_t)(wb)[3] * ENTRY_BYTES, \
                *p4 = tables + 4 * TABLE_BYTES + (size_t)(wb)[4] * ENTRY_BYTES, *p5 = tables + 5 * TABLE_BYTES + (size_t)(wb)[5] * ENTRY_BYTES, \
                *p6 = tables + 6 * TABLE_BYTES + (size_t)(wb)[6] * ENTRY_BYTES, *p7 = tables + 7 * TABLE_BYTES + (size_t)(wb)[7] * ENTRY_BYTES

INLINE __m128i ld128(const uint8_t *p, int keep) {
  __m128i t = _mm_loadu_si128((const __m128i *)p);
  if (keep) KEEP(t);
  return t;
}
#define A128 _mm_add_epi16
#define TREE128(o)                                                                                                     \
  A128(A128(A128(ld128(p0 + (o), keep), ld128(p1 + (o), keep)), A128(ld128(p2 + (o), keep), ld128(p3 + (o), keep))), \
       A128(A128(ld128(p4 + (o), keep), ld128(p5 + (o), keep)), A128(ld128(p6 + (o), keep), ld128(p7 + (o), keep))))

/* one 8-token vector of a row: its tree, + the row's i16 sums, stored (the last pass: widened into the i32 sums) */
INLINE void vec128(__m128i s, uint8_t *a, int32_t *q, int mode) {
  if (mode != FIRST) s = _mm_add_epi16(s, _mm_loadu_si128((const __m128i *)a));
  if (mode == LAST) {
    _mm_storeu_si128((__m128i *)q, _mm_add_epi32(_mm_loadu_si128((const __m128i *)q), _mm_cvtepi16_epi32(s)));
    _mm_storeu_si128((__m128i *)q + 1, _mm_add_epi32(_mm_loadu_si128((const __m128i *)q + 1), _mm_cvtepi16_epi32(_mm_unpackhi_epi64(s, s))));
  } else
    _mm_storeu_si128((__m128i *)a, s);
}

INLINE void row128(const uint8_t *tables, const uint8_t *wb, uint8_t *a, int32_t *q, int mode, int keep) {
  ADDRESSES(wb);
  vec128(TREE128(0), a, q, mode);
  vec128(TREE128(16), a + 16, q + 8, mode);
  vec128(TREE128(32), a + 32, q + 16, mode);
  vec128(TREE128(48), a + 48, q + 24, mode);
}

/* one pass of PASS tables over every row pair, 128-bit vectors (4 per entry) */
INLINE void pass128(const uint8_t *tables, const uint8_t *w, uint8_t *acc, int32_t *acc32, int rows, int mode, int keep) {
  for (int r = 0; r < rows; r += 2) {
    const uint8_t *wb = w + (size_t)(r / 2) * CHUNK_BLOCKS * 32;
    row128(tables, wb, acc + (size_t)r * ENTRY_BYTES, acc32 + (size_t)r * 32, mode, keep);
    row128(tables, wb + 16, acc + (size_t)(r + 1) * ENTRY_BYTES, acc32 + (size_t)(r + 1) * 32, mode, keep);
  }
}

__attribute__((target("avx2"))) INLINE __m256i ld256(const uint8_t *p) {
  __m256i t = _mm256_loadu_si256((const __m256i *)p);
  KEEP(t);
  return t;
}
#define A256 _mm256_add_epi16
#define TREE256(o) \
  A256(A256(A256(ld256(p0 + (o)), ld256(p1 + (o))), A256(ld256(p2 + (o)), ld256(p3 + (o)))), A256(A256(ld256(p4 + (o)), ld256(p5 + (o))), A256(ld256(p6 + (o)), ld256(p7 + (o)))))

__attribute__((target("avx2"))) INLINE void vec256(__m256i s, uint8_t *a, int32_t *q, int mode) {
  if (mode != FIRST) s = _mm256_add_epi16(s, _mm256_loadu_si256((const __m256i *)a));
  if (mode == LAST) {
    _mm256_storeu_si256((__m256i *)q, _mm256_add_epi32(_mm256_loadu_si256((const __m256i *)q), _mm256_cvtepi16_epi32(_mm256_castsi256_si128(s))));
    _mm256_storeu_si256((__m256i *)q + 1, _mm256_add_epi32(_mm256_loadu_si256((const __m256i *)q + 1), _mm256_cvtepi16_epi32(_mm256_extracti128_si256(s, 1))));
  } else
    _mm256_storeu_si256((__m256i *)a, s);
}

__attribute__((target("avx2"))) INLINE void row256(const uint8_t *tables, const uint8_t *wb, uint8_t *a, int32_t *q, int mode) {
  ADDRESSES(wb);
  vec256(TREE256(0), a, q, mode);
  vec256(TREE256(32), a + 32, q + 16, mode);
}

/* the same pass with 256-bit vectors (2 per entry) */
__attribute__((target("avx2"))) INLINE void pass256(const uint8_t *tables, const uint8_t *w, uint8_t *acc, int32_t *acc32, int rows, int mode) {
  for (int r = 0; r < rows; r += 2) {
    const uint8_t *wb = w + (size_t)(r / 2) * CHUNK_BLOCKS * 32;
    row256(tables, wb, acc + (size_t)r * ENTRY_BYTES, acc32 + (size_t)r * 32, mode);
    row256(tables, wb + 16, acc + (size_t)(r + 1) * ENTRY_BYTES, acc32 + (size_t)(r + 1) * 32, mode);
  }
}

/* each pass kind compiled apart (mode and keep constant in each) */
static void sweep128(const uint8_t *t, const uint8_t *w, uint8_t *a, int32_t *q, int rows, int mode) {
  if (mode == FIRST) pass128(t, w, a, q, rows, FIRST, 1);
  else if (mode == MIDDLE) pass128(t, w, a, q, rows, MIDDLE, 1);
  else pass128(t, w, a, q, rows, LAST, 1);
}
static void sweep128fused(const uint8_t *t, const uint8_t *w, uint8_t *a, int32_t *q, int rows, int mode) {
  if (mode == FIRST) pass128(t, w, a, q, rows, FIRST, 0);
  else if (mode == MIDDLE) pass128(t, w, a, q, rows, MIDDLE, 0);
  else pass128(t, w, a, q, rows, LAST, 0);
}
__attribute__((target("avx2"))) static void sweep256(const uint8_t *t, const uint8_t *w, uint8_t *a, int32_t *q, int rows, int mode) {
  if (mode == FIRST) pass256(t, w, a, q, rows, FIRST);
  else if (mode == MIDDLE) pass256(t, w, a, q, rows, MIDDLE);
  else pass256(t, w, a, q, rows, LAST);
}

static int lutMain(int wide, int fused, int rows, int reps) {
  if (rows < 2 || rows % 2 || rows > 1 << 20) {
    fprintf(stderr, "simd-width: lut rows must be even, in [2, 2^20]\n");
    return 2;
  }
  uint8_t *tables = aligned_alloc(4096, (size_t)GROUPS * TABLE_BYTES);
  uint8_t *w = aligned_alloc(64, (size_t)(rows / 2) * CHUNK_BLOCKS * 32);
  uint8_t *acc = aligned_alloc(64, (size_t)rows * ENTRY_BYTES);
  int32_t *acc32 = aligned_alloc(64, (size_t)rows * ENTRY_BYTES * 2);
  double *t = malloc(sizeof(double) * reps);
  if (!tables || !w || !acc || !acc32 || !t) {
    fprintf(stderr, "simd-width: out of memory\n");
    return 1;
  }
  uint32_t x = 12345;
  for (size_t i = 0; i < (size_t)GROUPS * TABLE_BYTES; i++) tables[i] = (uint8_t)((x = x * 1103515245u + 12345u) >> 24);
  for (size_t i = 0; i < (size_t)(rows / 2) * CHUNK_BLOCKS * 32; i++) w[i] = (uint8_t)(((x = x * 1103515245u + 12345u) >> 8) % ENTRIES);
  memset(acc, 0, (size_t)rows * ENTRY_BYTES);
  for (int rep = -3; rep < reps; rep++) { /* 3 untimed */
    memset(acc32, 0, (size_t)rows * ENTRY_BYTES * 2);
    const double t0 = now();
    for (int k = 0; k < CHUNK_BLOCKS; k++)
      for (int b0 = 0; b0 < 16; b0 += PASS) {
        const uint8_t *tb = tables + (size_t)(k * 16 + b0) * TABLE_BYTES;
        const uint8_t *wb = w + k * 32 + b0;
        const int mode = k == 0 && b0 == 0 ? FIRST : k == CHUNK_BLOCKS - 1 && b0 == 16 - PASS ? LAST : MIDDLE;
        (wide ? sweep256 : fused ? sweep128fused : sweep128)(tb, wb, acc, acc32, rows, mode);
      }
    if (rep >= 0) t[rep] = now() - t0;
  }
  qsort(t, reps, sizeof(double), cmp);
  uint32_t check = 0;
  for (size_t i = 0; i < (size_t)rows * 32; i++) check = check * 31 + (uint32_t)acc32[i];
  printf("lut-%s %.4f %08x\n", wide ? "256" : fused ? "128-fused" : "128", t[reps / 2] * 1e9 / ((double)rows * GROUPS), check);
  return 0;
}

/* ---- the decode GEMV ---- */
#define GEMV_ROWS 6912
#define GEMV_COLS 2560
#define GEMV_BLOCKS (GEMV_COLS / 64)

INLINE __m128i ldx(const int8_t *p, int keep) {
  __m128i t = _mm_loadu_si128((const __m128i *)p);
  if (keep) KEEP(t);
  return t;
}

/*
 * A block of a row pair (va, vb: rows A and B; ha, hb: the same shifted right by 4) against the activations x0..x3:
 * planes 0 and 2 masked by 3 (codes) into a1, b1; planes 1 and 3 masked by 12 (4·codes) into a4, b4. The same text
 * at either width, from its intrinsics.
 */
#define PAIR_PLANES(AND, DOT, ADD)                                                                 \
  do {                                                                                             \
    a1 = ADD(a1, DOT(AND(va, m3), x0)), b1 = ADD(b1, DOT(AND(vb, m3), x0));                       \
    a4 = ADD(a4, DOT(AND(va, m12), x1)), b4 = ADD(b4, DOT(AND(vb, m12), x1));                     \
    a1 = ADD(a1, DOT(AND(ha, m3), x2)), b1 = ADD(b1, DOT(AND(hb, m3), x2));                       \
    a4 = ADD(a4, DOT(AND(ha, m12), x3)), b4 = ADD(b4, DOT(AND(hb, m12), x3));                     \
  } while (0)
/* the i16 sums widened into the i32 ones (pairs of lanes added: madd by 1) */
#define WIDEN_SUMS(ADD32, MADD)                                                                               \
  do {                                                                                                        \
    accA1 = ADD32(accA1, MADD(a1, one)), accA4 = ADD32(accA4, MADD(a4, one));                                \
    accB1 = ADD32(accB1, MADD(b1, one)), accB4 = ADD32(accB4, MADD(b4, one));                                \
  } while (0)

/* rows [0, GEMV_ROWS) of one matrix: out = Σ code·x */
INLINE void gemv128(const uint8_t *w, const int8_t *x, int32_t *out, int keep) {
  const __m128i m3 = _mm_set1_epi8(3), m12 = _mm_set1_epi8(12), one = _mm_set1_epi16(1);
  for (int r = 0; r < GEMV_ROWS; r += 2) {
    const uint8_t *wp = w + (size_t)(r / 2) * GEMV_BLOCKS * 32;
    const int8_t *xp = x;
    __m128i accA1 = _mm_setzero_si128(), accA4 = accA1, accB1 = accA1, accB4 = accA1;
    for (int b = 0; b < GEMV_BLOCKS; b += 8) {
      __m128i a1 = _mm_setzero_si128(), a4 = a1, b1 = a1, b4 = a1;
      for (int i = 0; i < 8 && b + i < GEMV_BLOCKS; i++) {
        __m128i va = _mm_loadu_si128((const __m128i *)wp), vb = _mm_loadu_si128((const __m128i *)(wp + 16));
        if (keep) {
          KEEP(va);
          KEEP(vb);
        }
        const __m128i x0 = ldx(xp, keep), x1 = ldx(xp + 16, keep), x2 = ldx(xp + 32, keep), x3 = ldx(xp + 48, keep);
        const __m128i ha = _mm_srli_epi16(va, 4), hb = _mm_srli_epi16(vb, 4);
        PAIR_PLANES(_mm_and_si128, _mm_maddubs_epi16, _mm_add_epi16);
        wp += 32;
        xp += 64;
      }
      WIDEN_SUMS(_mm_add_epi32, _mm_madd_epi16);
    }
    __m128i A = _mm_add_epi32(accA1, _mm_srai_epi32(accA4, 2)), B = _mm_add_epi32(accB1, _mm_srai_epi32(accB4, 2));
    A = _mm_hadd_epi32(A, B);
    A = _mm_hadd_epi32(A, A);
    out[r] = _mm_extract_epi32(A, 0);
    out[r + 1] = _mm_extract_epi32(A, 1);
  }
}

/* the same with 256-bit vectors: two consecutive blocks of a row pair at once (lane 0 block k, lane 1 block k + 1) */
__attribute__((target("avx2"))) INLINE __m256i ldx2(const int8_t *p) {
  return _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)p)), _mm_loadu_si128((const __m128i *)(p + 64)), 1);
}
__attribute__((target("avx2"))) static void gemv256(const uint8_t *w, const int8_t *x, int32_t *out) {
  const __m256i m3 = _mm256_set1_epi8(3), m12 = _mm256_set1_epi8(12), one = _mm256_set1_epi16(1);
  for (int r = 0; r < GEMV_ROWS; r += 2) {
    const uint8_t *wp = w + (size_t)(r / 2) * GEMV_BLOCKS * 32;
    const int8_t *xp = x;
    __m256i accA1 = _mm256_setzero_si256(), accA4 = accA1, accB1 = accA1, accB4 = accA1;
    for (int b = 0; b < GEMV_BLOCKS; b += 16) { /* GEMV_BLOCKS is even: pairs of blocks */
      __m256i a1 = _mm256_setzero_si256(), a4 = a1, b1 = a1, b4 = a1;
      for (int i = 0; i < 16 && b + i < GEMV_BLOCKS; i += 2) {
        const __m256i v0 = _mm256_loadu_si256((const __m256i *)wp), v1 = _mm256_loadu_si256((const __m256i *)(wp + 32));
        const __m256i va = _mm256_permute2x128_si256(v0, v1, 0x20), vb = _mm256_permute2x128_si256(v0, v1, 0x31);
        const __m256i x0 = ldx2(xp), x1 = ldx2(xp + 16), x2 = ldx2(xp + 32), x3 = ldx2(xp + 48);
        const __m256i ha = _mm256_srli_epi16(va, 4), hb = _mm256_srli_epi16(vb, 4);
        PAIR_PLANES(_mm256_and_si256, _mm256_maddubs_epi16, _mm256_add_epi16);
        wp += 64;
        xp += 128;
      }
      WIDEN_SUMS(_mm256_add_epi32, _mm256_madd_epi16);
    }
    const __m256i A = _mm256_add_epi32(accA1, _mm256_srai_epi32(accA4, 2)), B = _mm256_add_epi32(accB1, _mm256_srai_epi32(accB4, 2));
    __m128i a = _mm_add_epi32(_mm256_castsi256_si128(A), _mm256_extracti128_si256(A, 1));
    const __m128i b = _mm_add_epi32(_mm256_castsi256_si128(B), _mm256_extracti128_si256(B, 1));
    a = _mm_hadd_epi32(a, b);
    a = _mm_hadd_epi32(a, a);
    out[r] = _mm_extract_epi32(a, 0);
    out[r + 1] = _mm_extract_epi32(a, 1);
  }
}
static void gemvKeep(const uint8_t *w, const int8_t *x, int32_t *out) { gemv128(w, x, out, 1); }
static void gemvFused(const uint8_t *w, const int8_t *x, int32_t *out) { gemv128(w, x, out, 0); }

/* the weights and activations simd-width.bench.ts writes into wasm memory for t2_dot_1r: codes 0 or 2 in each field */
static int gemvMain(int wide, int fused, int matrices, int reps) {
  if (matrices < 1 || matrices > 256) {
    fprintf(stderr, "simd-width: gemv matrices must be in [1, 256]\n");
    return 2;
  }
  const size_t bytes = (size_t)GEMV_ROWS * GEMV_BLOCKS * 16;
  uint8_t *w = aligned_alloc(64, bytes * matrices);
  int8_t *x = aligned_alloc(64, GEMV_COLS);
  int32_t *out = aligned_alloc(64, sizeof(int32_t) * GEMV_ROWS * matrices);
  double *t = malloc(sizeof(double) * reps);
  if (!w || !x || !out || !t) {
    fprintf(stderr, "simd-width: out of memory\n");
    return 1;
  }
  for (size_t i = 0; i < bytes * matrices; i++) w[i] = (uint8_t)(((uint32_t)i * 2654435761u) >> 13) & 0xAA;
  for (int i = 0; i < GEMV_COLS; i++) x[i] = (int8_t)((i * 7919) % 255 - 127);
  void (*gemv)(const uint8_t *, const int8_t *, int32_t *) = wide ? gemv256 : fused ? gemvFused : gemvKeep;
  for (int rep = -2; rep < reps; rep++) {
    const double t0 = now();
    for (int m = 0; m < matrices; m++) gemv(w + bytes * m, x, out + (size_t)GEMV_ROWS * m);
    if (rep >= 0) t[rep] = (now() - t0) / matrices;
  }
  qsort(t, reps, sizeof(double), cmp);
  uint32_t check = 0;
  for (size_t i = 0; i < (size_t)GEMV_ROWS * matrices; i++) check = check * 31 + (uint32_t)out[i];
  printf("gemv-%s %.3f %08x\n", wide ? "256" : fused ? "128-fused" : "128", t[reps / 2] * 1e6, check);
  return 0;
}

int main(int argc, char **argv) {
  const char *v = argc > 1 ? argv[1] : "";
  const int lut = strncmp(v, "lut-", 4) == 0, gemv = strncmp(v, "gemv-", 5) == 0;
  const char *width = v + (lut ? 4 : 5);
  const int wide = strcmp(width, "256") == 0, fused = strcmp(width, "128-fused") == 0;
  if ((!lut && !gemv) || (!wide && !fused && strcmp(width, "128") != 0)) {
    fprintf(stderr, "usage: %s <lut|gemv>-<128|128-fused|256> [rows (lut) or matrices (gemv)] [repetitions]\n", argv[0]);
    return 2;
  }
  if (wide && !__builtin_cpu_supports("avx2")) {
    fprintf(stderr, "simd-width: the 256-bit variants need AVX2, which this CPU lacks\n");
    return 3;
  }
  const int reps = argc > 3 ? atoi(argv[3]) : 21;
  if (reps < 1 || reps > 10000) {
    fprintf(stderr, "simd-width: repetitions must be in [1, 10000]\n");
    return 2;
  }
  if (lut) return lutMain(wide, fused, argc > 2 ? atoi(argv[2]) : 6912, reps);
  return gemvMain(wide, fused, argc > 2 ? atoi(argv[2]) : 60, reps);
}
