/* mldsl's own single-precision GEMM for the shapes a training step has (AVX-512).
 *
 * Training multiplies by a small batch: the forward pass is (batch x in) @ (in x out), the input
 * gradient (batch x out) @ (in x out)^T, the weight gradient (batch x in)^T @ (batch x out). At
 * batch 100 OpenBLAS reaches 75-90% of its large-square rate on these; this kernel reaches about
 * its square rate (see README, "Benchmarks", and the closing note of issue 6).
 *
 * Method: for each block of 32 columns of B and 256 of its rows (the K dimension), B is copied into a
 * contiguous 32 KB panel (rows of a transposed B are transposed 16 x 16 in registers), then every
 * block of 12 rows of A is multiplied into a 12 x 32 tile of C held in 24 zmm registers, one rank-1
 * update per k (two B vectors, twelve broadcasts of A). When K fits one block (a weight gradient, whose
 * K is the batch), all of B is packed at once into a per-thread workspace (up to 1 MB, allocated on the
 * first such product and kept) and each 12-row strip of C is computed across all its columns, so that an
 * epilogue (the training step's optimizer update) streams whole rows. Each element of C is summed in k
 * order in blocks of 256, whatever the split over threads, so results do not depend on the team size.
 *
 * The code is compiled for AVX-512 through function target attributes whatever the module's flags, and
 * called only when mldsl_sgemm_cpu_ok() says this CPU has AVX-512 F/VL/BW/DQ; elsewhere (another
 * compiler or architecture) MLDSL_HAVE_OWN_SGEMM is 0 and the kernels use BLAS for everything.
 */
#ifndef MLDSL_SGEMM_H
#define MLDSL_SGEMM_H

#if (defined(__x86_64__) || defined(_M_X64)) && defined(__GNUC__) && !defined(MLDSL_NO_OWN_SGEMM)
#define MLDSL_HAVE_OWN_SGEMM 1
#include <immintrin.h>
#include <stdlib.h>

#define MLDSL_SG_MR 12   /* rows of A (and C) per tile */
#define MLDSL_SG_NR 32   /* columns of B (and C) per tile: two zmm */
#define MLDSL_SG_KC 256  /* rows of B per packed panel */
#define MLDSL_SG_STACK 8192   /* floats of packed B on the stack (32 KB): one KC x 32 panel */
#ifndef MLDSL_SG_WORKSPACE
#define MLDSL_SG_WORKSPACE (1L << 18)  /* most floats of packed B per thread (1 MB) for single-K-block products */
#endif
#define MLDSL_SG_TARGET __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,fma,avx2")))

static int mldsl_sgemm_cpu_ok(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl")
        && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq");
}

static inline __attribute__((always_inline)) MLDSL_SG_TARGET __mmask16 mldsl_sg_mask(int count)
{
    return count >= 16 ? (__mmask16)0xFFFF : count <= 0 ? (__mmask16)0 : (__mmask16)((1u << count) - 1u);
}

/* C[0:mr, 0:nr] (row stride ldc) = (acc ? C : 0) + A(0:mr, 0:kb) @ Bp, with A(i, k) = A[i*ars + k*acs]
 * and Bp the packed kb x 32 panel. mr is a constant at each call site, so the tile stays in registers. */
static inline __attribute__((always_inline)) MLDSL_SG_TARGET void
mldsl_sg_tile(const int mr, int nr, int kb, const float* A, long ars, long acs, const float* Bp,
              float* C, long ldc, int acc)
{
    __m512 c0[MLDSL_SG_MR], c1[MLDSL_SG_MR];
    for (int r = 0; r < MLDSL_SG_MR; r++) { c0[r] = _mm512_setzero_ps(); c1[r] = _mm512_setzero_ps(); }
    for (int k = 0; k < kb; k++) {
        const __m512 b0 = _mm512_load_ps(Bp + k * 32), b1 = _mm512_load_ps(Bp + k * 32 + 16);
        const float* a = A + k * acs;
        for (int r = 0; r < MLDSL_SG_MR; r++) {
            if (r < mr) {
                const __m512 av = _mm512_set1_ps(a[r * ars]);
                c0[r] = _mm512_fmadd_ps(av, b0, c0[r]);
                c1[r] = _mm512_fmadd_ps(av, b1, c1[r]);
            }
        }
    }
    const __mmask16 m0 = mldsl_sg_mask(nr), m1 = mldsl_sg_mask(nr - 16);
    for (int r = 0; r < MLDSL_SG_MR; r++) {
        if (r < mr) {
            float* c = C + r * ldc;
            if (nr == 32) {
                if (acc) {
                    c0[r] = _mm512_add_ps(c0[r], _mm512_loadu_ps(c));
                    c1[r] = _mm512_add_ps(c1[r], _mm512_loadu_ps(c + 16));
                }
                _mm512_storeu_ps(c, c0[r]);
                _mm512_storeu_ps(c + 16, c1[r]);
            } else {
                if (acc) {
                    c0[r] = _mm512_add_ps(c0[r], _mm512_maskz_loadu_ps(m0, c));
                    c1[r] = _mm512_add_ps(c1[r], _mm512_maskz_loadu_ps(m1, c + 16));
                }
                _mm512_mask_storeu_ps(c, m0, c0[r]);
                _mm512_mask_storeu_ps(c + 16, m1, c1[r]);
            }
        }
    }
}

#define MLDSL_SG_LO(a, b) _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(a), _mm512_castps_pd(b)))
#define MLDSL_SG_HI(a, b) _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(a), _mm512_castps_pd(b)))

/* Transposes 16 rows of 16 floats in registers: afterwards r[k] holds what was column k. */
static inline __attribute__((always_inline)) MLDSL_SG_TARGET void mldsl_sg_transpose16(__m512* r)
{
    __m512 t[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
        r[i] = MLDSL_SG_LO(t[i], t[i + 2]);
        r[i + 1] = MLDSL_SG_HI(t[i], t[i + 2]);
        r[i + 2] = MLDSL_SG_LO(t[i + 1], t[i + 3]);
        r[i + 3] = MLDSL_SG_HI(t[i + 1], t[i + 3]);
    }
    for (int i = 0; i < 4; i++) {
        t[i] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0x88);
        t[i + 4] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0xdd);
        t[i + 8] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0x88);
        t[i + 12] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0xdd);
    }
    for (int i = 0; i < 8; i++) {
        r[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88);
        r[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0xdd);
    }
}

/* Packs B(k, j) for k < kb, j < nr into Bp[k*32 + j], zeros for j >= nr. B is either row-major
 * (B(k, j) = B[k*ld + j]) or transposed (B(k, j) = B[j*ld + k]). */
static MLDSL_SG_TARGET void mldsl_sg_pack(int kb, int nr, const float* B, long ld, int transposed, float* Bp)
{
    if (!transposed) {
        const __mmask16 m0 = mldsl_sg_mask(nr), m1 = mldsl_sg_mask(nr - 16);
        for (int k = 0; k < kb; k++) {
            _mm512_store_ps(Bp + k * 32, _mm512_maskz_loadu_ps(m0, B + k * ld));
            _mm512_store_ps(Bp + k * 32 + 16, _mm512_maskz_loadu_ps(m1, B + k * ld + 16));
        }
        return;
    }
    for (int jb = 0; jb < 32; jb += 16) {
        const int rows = nr - jb;
        if (rows <= 0) {
            for (int k = 0; k < kb; k++)
                _mm512_store_ps(Bp + k * 32 + jb, _mm512_setzero_ps());
            continue;
        }
        for (int k0 = 0; k0 < kb; k0 += 16) {
            const int kn = kb - k0 < 16 ? kb - k0 : 16;
            const __mmask16 km = mldsl_sg_mask(kn);
            __m512 r[16];
            for (int j = 0; j < 16; j++)
                r[j] = j < rows ? _mm512_maskz_loadu_ps(km, B + (long)(jb + j) * ld + k0) : _mm512_setzero_ps();
            mldsl_sg_transpose16(r);
            for (int k = 0; k < kn; k++)
                _mm512_store_ps(Bp + (k0 + k) * 32 + jb, r[k]);
        }
    }
}

/* Each thread's buffer for packing all of B when k <= MLDSL_SG_KC (a weight gradient: k is the batch),
 * grown on the first product that needs more (so a training step allocates only on its first call)
 * and kept for the thread's lifetime. Returns the capacity in floats (0 and NULL if malloc failed). */
static __thread float* mldsl_sg_ws = 0;
static __thread long mldsl_sg_ws_size = 0;

static long mldsl_sg_workspace(long wanted, float** out)
{
    if (wanted > MLDSL_SG_WORKSPACE)
        wanted = MLDSL_SG_WORKSPACE;
    if (wanted > mldsl_sg_ws_size) {
        float* grown = (float*)aligned_alloc(64, (size_t)wanted * sizeof(float));
        if (grown) {
            free(mldsl_sg_ws);
            mldsl_sg_ws = grown;
            mldsl_sg_ws_size = wanted;
        }
    }
    *out = mldsl_sg_ws;
    return mldsl_sg_ws_size;
}

#define MLDSL_SG_TILE(MR) case MR: mldsl_sg_tile(MR, nr, kb, a, ars, acs, bp, c, ldc, acc); break;

/* mldsl_sg_tile for any mr <= MLDSL_SG_MR, each case compiled with its row count a constant. */
static inline __attribute__((always_inline)) MLDSL_SG_TARGET void
mldsl_sg_any_tile(int mr, int nr, int kb, const float* a, long ars, long acs, const float* bp, float* c, long ldc,
                  int acc)
{
    switch (mr) {
        MLDSL_SG_TILE(12) MLDSL_SG_TILE(11) MLDSL_SG_TILE(10) MLDSL_SG_TILE(9) MLDSL_SG_TILE(8) MLDSL_SG_TILE(7)
        MLDSL_SG_TILE(6) MLDSL_SG_TILE(5) MLDSL_SG_TILE(4) MLDSL_SG_TILE(3) MLDSL_SG_TILE(2) MLDSL_SG_TILE(1)
        default: break;
    }
}

/* Called once per finished tile of C (rows [row0, row0 + rows), columns [col0, col0 + cols)), while
 * the tile is still in the L1 cache: the training step applies each weight's L2 term and optimizer
 * update there instead of in a second pass over the whole gradient. */
typedef void (*mldsl_sg_epilogue_t)(void* ctx, int row0, int rows, int col0, int cols);

/* Row-major C[m x n] (row stride ldc) = op(A)[m x k] @ op(B)[k x n] (+ C when accumulate), where
 * op(A) = A (m x k, row stride lda) or, with trans_a, A^T of a (k x m) matrix; likewise op(B).
 * ``epilogue`` (may be NULL) runs on each tile once it is final. */
static MLDSL_SG_TARGET void mldsl_sgemm_ep(int trans_a, int trans_b, int m, int n, int k, const float* A, int lda,
                                           const float* B, int ldb, int accumulate, float* C, int ldc,
                                           mldsl_sg_epilogue_t epilogue, void* ctx)
{
    float Bp[MLDSL_SG_STACK] __attribute__((aligned(64)));
    const long ars = trans_a ? 1 : lda, acs = trans_a ? lda : 1;
    if (m <= 0 || n <= 0)
        return;
    if (k <= 0) {
        if (!accumulate)
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                    C[(long)i * ldc + j] = 0.0f;
        if (epilogue)
            for (int ic = 0; ic < m; ic += MLDSL_SG_MR)
                for (int jc = 0; jc < n; jc += 32)
                    epilogue(ctx, ic, m - ic < MLDSL_SG_MR ? m - ic : MLDSL_SG_MR, jc, n - jc < 32 ? n - jc : 32);
        return;
    }
    float* ws = 0;
    const long ws_size = k <= MLDSL_SG_KC ? mldsl_sg_workspace((long)k * 32 * ((n + 31) / 32), &ws) : 0;
    if (ws_size >= (long)k * 32) {
        /* one K block (a weight gradient: k is the batch): pack as many 32-column panels as the workspace
         * holds (all of B, up to 1 MB), then run each 12-row strip across them: an epilogue then sees
         * whole rows, which it streams far faster than 32-column pieces */
        const int kb = k, acc = accumulate, group = (int)(ws_size / (32L * k));
        float* const Bpanels = ws;
        for (int j0 = 0; j0 < n; j0 += group * 32) {
            const int cols = n - j0 < group * 32 ? n - j0 : group * 32, panels = (cols + 31) / 32;
            for (int p = 0; p < panels; p++) {
                const int jc = j0 + p * 32, nr = n - jc < 32 ? n - jc : 32;
                mldsl_sg_pack(k, nr, trans_b ? B + (long)jc * ldb : B + jc, ldb, trans_b, Bpanels + (long)p * k * 32);
            }
            for (int ic = 0; ic < m; ic += MLDSL_SG_MR) {
                const int mr = m - ic < MLDSL_SG_MR ? m - ic : MLDSL_SG_MR;
                const float* a = A + ic * ars;
                for (int p = 0; p < panels; p++) {
                    const int jc = j0 + p * 32, nr = n - jc < 32 ? n - jc : 32;
                    const float* bp = Bpanels + (long)p * k * 32;
                    float* c = C + (long)ic * ldc + jc;
                    mldsl_sg_any_tile(mr, nr, kb, a, ars, acs, bp, c, ldc, acc);
                }
                if (epilogue)
                    epilogue(ctx, ic, mr, j0, cols);
            }
        }
        return;
    }
    for (int jc = 0; jc < n; jc += 32) {
        const int nr = n - jc < 32 ? n - jc : 32;
        for (int kc = 0; kc < k; kc += MLDSL_SG_KC) {
            const int kb = k - kc < MLDSL_SG_KC ? k - kc : MLDSL_SG_KC;
            const int acc = accumulate || kc > 0;
            const float* bp = Bp;
            mldsl_sg_pack(kb, nr, trans_b ? B + (long)jc * ldb + kc : B + (long)kc * ldb + jc, ldb, trans_b, Bp);
            for (int ic = 0; ic < m; ic += MLDSL_SG_MR) {
                const int mr = m - ic < MLDSL_SG_MR ? m - ic : MLDSL_SG_MR;
                const float* a = A + ic * ars + kc * acs;
                float* c = C + (long)ic * ldc + jc;
                mldsl_sg_any_tile(mr, nr, kb, a, ars, acs, bp, c, ldc, acc);
                if (epilogue && kc + kb >= k)
                    epilogue(ctx, ic, mr, jc, nr);
            }
        }
    }
}

static MLDSL_SG_TARGET void mldsl_sgemm(int trans_a, int trans_b, int m, int n, int k, const float* A, int lda,
                                        const float* B, int ldb, int accumulate, float* C, int ldc)
{
    mldsl_sgemm_ep(trans_a, trans_b, m, n, k, A, lda, B, ldb, accumulate, C, ldc, (mldsl_sg_epilogue_t)0, (void*)0);
}

#else   /* no AVX-512 code on this compiler/architecture: BLAS does every product */
#define MLDSL_HAVE_OWN_SGEMM 0
typedef void (*mldsl_sg_epilogue_t)(void* ctx, int row0, int rows, int col0, int cols);
static int mldsl_sgemm_cpu_ok(void) { return 0; }
static void mldsl_sgemm_ep(int trans_a, int trans_b, int m, int n, int k, const float* A, int lda,
                           const float* B, int ldb, int accumulate, float* C, int ldc,
                           mldsl_sg_epilogue_t epilogue, void* ctx)
{
    (void)trans_a; (void)trans_b; (void)m; (void)n; (void)k; (void)A; (void)lda; (void)B; (void)ldb;
    (void)accumulate; (void)C; (void)ldc; (void)epilogue; (void)ctx;
}
static void mldsl_sgemm(int trans_a, int trans_b, int m, int n, int k, const float* A, int lda,
                        const float* B, int ldb, int accumulate, float* C, int ldc)
{
    (void)trans_a; (void)trans_b; (void)m; (void)n; (void)k; (void)A; (void)lda; (void)B; (void)ldb;
    (void)accumulate; (void)C; (void)ldc;
}
#endif

#endif  /* MLDSL_SGEMM_H */
