import CKernels

/// Vectorised float32 kernels over raw pointers: the elementwise work around the GEMMs.
///
/// Every kernel works on one row (a contiguous run of `count` floats) so callers can
/// parallelise over rows. The ones with exponentials or reductions (softmax, SiLU, GELU,
/// LayerNorm, the gated residual, GroupNorm's affine step) are C (`CKernels`), built for AVX-512,
/// AVX2 and SSE2 and chosen at run time — Swift would compile them for baseline x86-64 only;
/// the simple ones stay here, 16 lanes at a time with a scalar tail.
public enum Kernels {
    public typealias Vector = SIMD16<Float>
    static let lanes = 16

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>, _ i: Int) -> Vector {
        UnsafeRawPointer(p + i).loadUnaligned(as: Vector.self)
    }

    @inline(__always)
    static func store(_ v: Vector, _ p: UnsafeMutablePointer<Float>, _ i: Int) {
        UnsafeMutableRawPointer(p + i).storeBytes(of: v, as: Vector.self)
    }

    /// `out[i] = eˣ⁽ⁱ⁾` with the polynomial the other kernels use (relative error below 2e-7;
    /// inputs clamped to [−87.34, 88.38]).
    public static func exp(_ x: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, count: Int) {
        fit_exp(x, out, count)
    }

    /// The instruction set the C kernels run with here: `avx512`, `avx2` or `sse2`.
    public static var instructionSet: String { String(cString: fit_kernels_isa()) }

    /// `x ← x · sigmoid(x)` in place.
    public static func silu(_ x: UnsafeMutablePointer<Float>, count: Int) { fit_silu(x, count) }

    /// SwiGLU's gate: `gate ← SiLU(gate) · value`.
    public static func siluMultiply(gate: UnsafeMutablePointer<Float>, value: UnsafePointer<Float>, count: Int) {
        fit_silu_multiply(gate, value, count)
    }

    /// GELU with the tanh approximation, in place: `0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))`,
    /// written as `x · sigmoid(2u)` so it needs one exp.
    public static func geluTanh(_ x: UnsafeMutablePointer<Float>, count: Int) { fit_gelu_tanh(x, count) }

    /// `x ← x ⊙ w`.
    public static func multiply(_ x: UnsafeMutablePointer<Float>, by w: UnsafePointer<Float>, count: Int) {
        var i = 0
        while i + lanes <= count { store(load(x, i) * load(w, i), x, i); i += lanes }
        while i < count { x[i] *= w[i]; i += 1 }
    }

    /// Numerically stable softmax of one row in place (the row maximum is subtracted first).
    public static func softmax(_ x: UnsafeMutablePointer<Float>, count: Int) { fit_softmax(x, count) }

    /// `x ← x · factor`.
    public static func scale(_ x: UnsafeMutablePointer<Float>, count: Int, by factor: Float) {
        var i = 0
        while i + lanes <= count { store(load(x, i) * factor, x, i); i += lanes }
        while i < count { x[i] *= factor; i += 1 }
    }

    /// `y ← y + b` (a bias row added to one output row).
    public static func add(_ b: UnsafePointer<Float>, to y: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + lanes <= count { store(load(y, i) + load(b, i), y, i); i += lanes }
        while i < count { y[i] += b[i]; i += 1 }
    }

    /// `y ← y + b` for one scalar `b` (a per-channel bias over a run of pixels).
    public static func addScalar(_ b: Float, to y: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + lanes <= count { store(load(y, i) + b, y, i); i += lanes }
        while i < count { y[i] += b; i += 1 }
    }

    /// Sum and sum of squared deviations from `center` over `count` floats, accumulated in
    /// float64 per 4096-element block so that millions of elements keep full precision.
    public static func moments(_ x: UnsafePointer<Float>, count: Int, center: Float) -> (sum: Double, squares: Double) {
        var sum = 0.0, squares = 0.0, start = 0
        while start < count {
            let end = Swift.min(count, start + 4096)
            var s = Vector(repeating: 0), q = Vector(repeating: 0)
            var i = start
            while i + lanes <= end { let v = load(x, i) - center; s += v; q += v * v; i += lanes }
            var ss = Double(s.sum()), qq = Double(q.sum())
            while i < end { let v = Double(x[i] - center); ss += v; qq += v * v; i += 1 }
            sum += ss; squares += qq
            start = end
        }
        return (sum, squares)
    }

    /// `y ← x · a + b`, then SiLU when `silu` (GroupNorm's per-channel affine step).
    public static func affine(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int,
                              scale a: Float, shift b: Float, silu: Bool) {
        fit_affine(x, y, count, a, b, silu ? 1 : 0)
    }

    /// Gated residual: `x ← x + gate ⊙ y`.
    public static func gatedAdd(_ y: UnsafePointer<Float>, gate: UnsafePointer<Float>,
                                to x: UnsafeMutablePointer<Float>, count: Int) {
        fit_gated_add(y, gate, x, count)
    }

    /// LayerNorm without affine parameters (mean 0, variance 1, `eps` inside the root), then the
    /// adaLN modulation `y · (1 + scale) + shift` when `shift`/`scale` are given.
    /// `input` and `output` may be the same row.
    public static func layerNorm(_ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>,
                                 count: Int, eps: Float = 1e-6,
                                 shift: UnsafePointer<Float>? = nil, scale: UnsafePointer<Float>? = nil) {
        fit_layer_norm(input, output, count, eps, shift, scale)
    }
}
