#ifndef FIT_CKERNELS_H
#define FIT_CKERNELS_H

/*
 * The elementwise kernels around FiT's GEMMs (softmax, SiLU, GELU, LayerNorm with adaLN
 * modulation, gated residuals, float32 -> bfloat16), compiled three times — AVX-512, AVX2 with
 * FMA, and baseline x86-64 (SSE2) — and chosen once at run time by what the CPU reports
 * (`__builtin_cpu_supports`). Swift cannot compile one function for a wider ISA without unsafe
 * compiler flags, which would keep FiTKit from being a package dependency; a function-level
 * `target` attribute in C needs no flags (docs/cpu.md, "Elementwise kernels").
 *
 * Every kernel works on one contiguous row of `count` floats; callers parallelise over rows.
 */

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// The instruction set the kernels run with on this CPU: "avx512", "avx2" or "sse2" — the widest
/// it runs, or a narrower one named by the environment variable FIT_KERNELS (for benchmarks).
const char *fit_kernels_isa(void);

/// The kernels of one instruction set, for tests that compare the sets.
struct fit_kernel_table {
    void (*exp)(const float *, float *, long);
    void (*softmax)(float *, long);
    void (*softmax_bf16)(float *, long, float, uint16_t *);
    void (*silu)(float *, long);
    void (*silu_multiply)(float *, const float *, long);
    void (*gelu_tanh)(float *, long);
    void (*affine)(const float *, float *, long, float, float, int);
    void (*gated_add)(const float *, const float *, float *, long);
    void (*layer_norm)(const float *, float *, long, float, const float *, const float *);
    void (*to_bf16)(const float *, uint16_t *, long);
};

/// The kernels of `isa` ("avx512", "avx2", "sse2"), or NULL where this CPU cannot run them.
const struct fit_kernel_table *fit_kernels_table(const char *isa);

/// `out[i] = e^x[i]` with the polynomial the other kernels use (relative error < 2e-7;
/// inputs are clamped to [-87.34, 88.38]).
void fit_exp(const float *x, float *out, long count);

/// Softmax of one row in place (the row maximum is subtracted first).
void fit_softmax(float *x, long count);

/// `out = bf16(softmax(scale * x))`, rounded to nearest even; `x` is left holding the
/// unnormalised exponentials. `scale` > 0; entries of -inf come out below 1e-30 (the exponent
/// is clamped at -87.34).
void fit_softmax_bf16(float *x, long count, float scale, uint16_t *out);

/// `x = x * sigmoid(x)` in place.
void fit_silu(float *x, long count);

/// SwiGLU's gate: `gate = silu(gate) * value`.
void fit_silu_multiply(float *gate, const float *value, long count);

/// GELU, tanh approximation, in place, as `x * sigmoid(2u)`, `u = sqrt(2/pi) (x + 0.044715 x^3)`.
void fit_gelu_tanh(float *x, long count);

/// `y = x * a + b`, then SiLU when `silu` is non-zero (GroupNorm's per-channel affine step).
void fit_affine(const float *x, float *y, long count, float a, float b, int silu);

/// Gated residual: `x = x + gate * y`.
void fit_gated_add(const float *y, const float *gate, float *x, long count);

/// LayerNorm without affine parameters (`eps` inside the root), then `y * (1 + scale) + shift`
/// when both are non-null. `input` and `output` may be the same row.
void fit_layer_norm(const float *input, float *output, long count, float eps,
                    const float *shift, const float *scale);

/// float32 -> bfloat16 bits, rounded to nearest even; NaN becomes the quiet NaN 0x7FC0.
void fit_to_bf16(const float *source, uint16_t *destination, long count);

#ifdef __cplusplus
}
#endif

#endif
