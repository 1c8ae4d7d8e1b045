/*
 * One set of kernels, included by kernels.c once per instruction set with these defined:
 *   LANES   floats per vector (16, 8 or 4: one native register, so no vector crosses an ABI edge)
 *   TARGET  the function attribute that enables the instruction set (empty for baseline)
 *   NAME(x) the name of x in this set
 */

typedef float NAME(vf) __attribute__((vector_size(LANES * 4)));
typedef int32_t NAME(vi) __attribute__((vector_size(LANES * 4)));
typedef uint32_t NAME(vu) __attribute__((vector_size(LANES * 4)));
typedef uint16_t NAME(vh) __attribute__((vector_size(LANES * 2)));
#define VF NAME(vf)
#define VI NAME(vi)
#define VU NAME(vu)
#define VH NAME(vh)
#define LOAD(v, p) memcpy(&(v), (p), sizeof(VF))
#define STORE(p, v) memcpy((p), &(v), sizeof(VF))

TARGET static inline VF NAME(splat)(float x) { return (VF){0} + x; }

/* e^x: Cephes-style range reduction by 2^n and a degree-6 polynomial. */
TARGET static inline VF NAME(vexp)(VF x) {
    const VF magic = NAME(splat)(12582912.0f); /* 1.5 * 2^23: rounds to an integer when added */
    x = __builtin_elementwise_max(x, NAME(splat)(-87.3365f));
    x = __builtin_elementwise_min(x, NAME(splat)(88.37626f));
    VF shifted = x * 1.44269504088896341f + magic;
    VF n = shifted - magic;
    x = x - n * 0.693359375f + n * 2.12194440e-4f;
    VF z = x * x;
    VF y = NAME(splat)(1.9875691500e-4f);
    y = y * x + 1.3981999507e-3f;
    y = y * x + 8.3334519073e-3f;
    y = y * x + 4.1665795894e-2f;
    y = y * x + 1.6666665459e-1f;
    y = y * x + 5.0000001201e-1f;
    y = y * z + x + 1.0f;
    VI integer = (VI)shifted - 0x4B400000;
    return y * (VF)((integer + 127) << 23);
}

TARGET static inline float NAME(sexp)(float x) { return NAME(vexp)(NAME(splat)(x))[0]; }

TARGET static inline float NAME(hsum)(VF v) {
    float s = 0;
    for (int i = 0; i < LANES; i++) s += v[i];
    return s;
}

TARGET static inline float NAME(hmax)(VF v) {
    float m = v[0];
    for (int i = 1; i < LANES; i++) m = m > v[i] ? m : v[i];
    return m;
}

TARGET static inline VF NAME(sigmoid_times)(VF v, VF w) { return v / (1.0f + NAME(vexp)(-w)); }

/* bf16 bits of finite values, nearest even. */
TARGET static inline VH NAME(round_bf16)(VF v) {
    VU b = (VU)v;
    return __builtin_convertvector((b + 0x7FFF + ((b >> 16) & 1)) >> 16, VH);
}

TARGET static void NAME(exp)(const float *x, float *out, long count) {
    long i = 0;
    for (; i + LANES <= count; i += LANES) { VF v; LOAD(v, x + i); v = NAME(vexp)(v); STORE(out + i, v); }
    for (; i < count; i++) out[i] = NAME(sexp)(x[i]);
}

/* max of a row, exponentials of (x * scale - max * scale) in place; returns their sum */
TARGET static inline float NAME(exp_row)(float *x, long count, float scale) {
    VF mv = NAME(splat)(-__builtin_inff());
    long i = 0;
    for (; i + LANES <= count; i += LANES) { VF v; LOAD(v, x + i); mv = __builtin_elementwise_max(mv, v); }
    float m = NAME(hmax)(mv);
    for (; i < count; i++) m = m > x[i] ? m : x[i];
    float shift = m * scale;
    VF sv = NAME(splat)(0);
    i = 0;
    for (; i + LANES <= count; i += LANES) {
        VF v; LOAD(v, x + i);
        VF e = NAME(vexp)(v * scale - shift);
        STORE(x + i, e);
        sv += e;
    }
    float sum = NAME(hsum)(sv);
    for (; i < count; i++) { float e = NAME(sexp)(x[i] * scale - shift); x[i] = e; sum += e; }
    return sum;
}

TARGET static void NAME(softmax)(float *x, long count) {
    float inverse = 1.0f / NAME(exp_row)(x, count, 1.0f);
    long i = 0;
    for (; i + LANES <= count; i += LANES) { VF v; LOAD(v, x + i); v *= inverse; STORE(x + i, v); }
    for (; i < count; i++) x[i] *= inverse;
}

TARGET static void NAME(softmax_bf16)(float *x, long count, float scale, uint16_t *out) {
    float inverse = 1.0f / NAME(exp_row)(x, count, scale);
    long i = 0;
    for (; i + LANES <= count; i += LANES) {
        VF v; LOAD(v, x + i);
        VH h = NAME(round_bf16)(v * inverse);
        memcpy(out + i, &h, sizeof h);
    }
    for (; i < count; i++) { VH h = NAME(round_bf16)(NAME(splat)(x[i] * inverse)); out[i] = h[0]; }
}

TARGET static void NAME(silu)(float *x, long count) {
    long i = 0;
    for (; i + LANES <= count; i += LANES) { VF v; LOAD(v, x + i); v = NAME(sigmoid_times)(v, v); STORE(x + i, v); }
    for (; i < count; i++) x[i] = x[i] / (1.0f + NAME(sexp)(-x[i]));
}

TARGET static void NAME(silu_multiply)(float *gate, const float *value, long count) {
    long i = 0;
    for (; i + LANES <= count; i += LANES) {
        VF g, v; LOAD(g, gate + i); LOAD(v, value + i);
        g = NAME(sigmoid_times)(g, g) * v;
        STORE(gate + i, g);
    }
    for (; i < count; i++) gate[i] = gate[i] / (1.0f + NAME(sexp)(-gate[i])) * value[i];
}

TARGET static void NAME(gelu_tanh)(float *x, long count) {
    const float c = 0.7978845608028654f; /* sqrt(2/pi) */
    long i = 0;
    for (; i + LANES <= count; i += LANES) {
        VF v; LOAD(v, x + i);
        VF u = c * (v + 0.044715f * v * v * v);
        v = NAME(sigmoid_times)(v, 2.0f * u);
        STORE(x + i, v);
    }
    for (; i < count; i++) {
        float v = x[i], u = c * (v + 0.044715f * v * v * v);
        x[i] = v / (1.0f + NAME(sexp)(-2.0f * u));
    }
}

TARGET static void NAME(affine)(const float *x, float *y, long count, float a, float b, int silu) {
    long i = 0;
    for (; i + LANES <= count; i += LANES) {
        VF v; LOAD(v, x + i);
        v = v * a + b;
        if (silu) v = NAME(sigmoid_times)(v, v);
        STORE(y + i, v);
    }
    for (; i < count; i++) {
        float v = x[i] * a + b;
        y[i] = silu ? v / (1.0f + NAME(sexp)(-v)) : v;
    }
}

TARGET static void NAME(gated_add)(const float *y, const float *gate, float *x, long count) {
    long i = 0;
    for (; i + LANES <= count; i += LANES) {
        VF a, g, b; LOAD(a, x + i); LOAD(g, gate + i); LOAD(b, y + i);
        a += g * b;
        STORE(x + i, a);
    }
    for (; i < count; i++) x[i] += gate[i] * y[i];
}

TARGET static void NAME(layer_norm)(const float *input, float *output, long count, float eps,
                                    const float *shift, const float *scale) {
    VF s0 = NAME(splat)(0), s1 = NAME(splat)(0);
    long i = 0;
    for (; i + 2 * LANES <= count; i += 2 * LANES) {
        VF a, b; LOAD(a, input + i); LOAD(b, input + i + LANES);
        s0 += a; s1 += b;
    }
    for (; i + LANES <= count; i += LANES) { VF a; LOAD(a, input + i); s0 += a; }
    float sum = NAME(hsum)(s0 + s1);
    for (; i < count; i++) sum += input[i];
    float mean = sum / (float)count;
    s0 = NAME(splat)(0); s1 = NAME(splat)(0);
    i = 0;
    for (; i + 2 * LANES <= count; i += 2 * LANES) {
        VF a, b; LOAD(a, input + i); LOAD(b, input + i + LANES);
        a -= mean; b -= mean;
        s0 += a * a; s1 += b * b;
    }
    for (; i + LANES <= count; i += LANES) { VF a; LOAD(a, input + i); a -= mean; s0 += a * a; }
    float squares = NAME(hsum)(s0 + s1);
    for (; i < count; i++) { float a = input[i] - mean; squares += a * a; }
    float inv = 1.0f / __builtin_sqrtf(squares / (float)count + eps);
    i = 0;
    if (shift && scale) {
        for (; i + LANES <= count; i += LANES) {
            VF v, sh, sc; LOAD(v, input + i); LOAD(sh, shift + i); LOAD(sc, scale + i);
            v = (v - mean) * inv * (1.0f + sc) + sh;
            STORE(output + i, v);
        }
        for (; i < count; i++) output[i] = (input[i] - mean) * inv * (1.0f + scale[i]) + shift[i];
    } else {
        for (; i + LANES <= count; i += LANES) { VF v; LOAD(v, input + i); v = (v - mean) * inv; STORE(output + i, v); }
        for (; i < count; i++) output[i] = (input[i] - mean) * inv;
    }
}

TARGET static void NAME(to_bf16)(const float *source, uint16_t *destination, long count) {
    long i = 0;
    for (; i + LANES <= count; i += LANES) {
        VF v; LOAD(v, source + i);
        VU b = (VU)v;
        VH h = NAME(round_bf16)(v);
        /* NaN (exponent all ones, mantissa non-zero) -> quiet NaN */
        VH nan = __builtin_convertvector((b & 0x7FFFFFFF) > 0x7F800000, VH);
        h = (h & ~nan) | (nan & (VH){0} + 0x7FC0);
        memcpy(destination + i, &h, sizeof h);
    }
    for (; i < count; i++) {
        uint32_t b; memcpy(&b, source + i, 4);
        destination[i] = (b & 0x7FFFFFFF) > 0x7F800000 ? 0x7FC0 : (uint16_t)((b + 0x7FFF + ((b >> 16) & 1)) >> 16);
    }
}

static const struct fit_kernel_table NAME(set) = {
    NAME(exp), NAME(softmax), NAME(softmax_bf16), NAME(silu), NAME(silu_multiply), NAME(gelu_tanh),
    NAME(affine), NAME(gated_add), NAME(layer_norm), NAME(to_bf16),
};

#undef VF
#undef VI
#undef VU
#undef VH
#undef LOAD
#undef STORE
