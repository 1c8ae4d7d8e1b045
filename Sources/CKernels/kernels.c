#include "CKernels.h"

#include <stdlib.h>
#include <string.h>

#define LANES 16
#define TARGET __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,fma")))
#define NAME(x) avx512_##x
#include "kernels_body.h"
#undef LANES
#undef TARGET
#undef NAME

#define LANES 8
#define TARGET __attribute__((target("avx2,fma")))
#define NAME(x) avx2_##x
#include "kernels_body.h"
#undef LANES
#undef TARGET
#undef NAME

#define LANES 4
#define TARGET
#define NAME(x) sse2_##x
#include "kernels_body.h"
#undef LANES
#undef TARGET
#undef NAME

static int supports_avx512(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
        && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
}

static int supports_avx2(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

const struct fit_kernel_table *fit_kernels_table(const char *isa) {
    if (strcmp(isa, "avx512") == 0) return supports_avx512() ? &avx512_set : NULL;
    if (strcmp(isa, "avx2") == 0) return supports_avx2() ? &avx2_set : NULL;
    if (strcmp(isa, "sse2") == 0) return &sse2_set;
    return NULL;
}

/* Chosen on first use; a data race on first use stores the same pointer from every thread. */
static const struct fit_kernel_table *_Atomic chosen;

static const struct fit_kernel_table *kernels(void) {
    const struct fit_kernel_table *set = chosen;
    if (set) return set;
    /* FIT_KERNELS=avx2|sse2 picks a narrower set (for benchmarks); an unknown or unsupported name is ignored */
    const char *asked = getenv("FIT_KERNELS");
    if (!asked || !(set = fit_kernels_table(asked)))
        set = supports_avx512() ? &avx512_set : supports_avx2() ? &avx2_set : &sse2_set;
    chosen = set;
    return set;
}

const char *fit_kernels_isa(void) {
    const struct fit_kernel_table *set = kernels();
    return set == &avx512_set ? "avx512" : set == &avx2_set ? "avx2" : "sse2";
}


void fit_exp(const float *x, float *out, long count) { kernels()->exp(x, out, count); }
void fit_softmax(float *x, long count) { kernels()->softmax(x, count); }
void fit_softmax_bf16(float *x, long count, float scale, uint16_t *out) { kernels()->softmax_bf16(x, count, scale, out); }
void fit_silu(float *x, long count) { kernels()->silu(x, count); }
void fit_silu_multiply(float *gate, const float *value, long count) { kernels()->silu_multiply(gate, value, count); }
void fit_gelu_tanh(float *x, long count) { kernels()->gelu_tanh(x, count); }
void fit_affine(const float *x, float *y, long count, float a, float b, int silu) { kernels()->affine(x, y, count, a, b, silu); }
void fit_gated_add(const float *y, const float *gate, float *x, long count) { kernels()->gated_add(y, gate, x, count); }
void fit_layer_norm(const float *input, float *output, long count, float eps, const float *shift, const float *scale) {
    kernels()->layer_norm(input, output, count, eps, shift, scale);
}
void fit_to_bf16(const float *source, uint16_t *destination, long count) { kernels()->to_bf16(source, destination, count); }
