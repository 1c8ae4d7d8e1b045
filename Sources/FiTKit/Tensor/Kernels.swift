/// Vectorised float32 kernels over raw pointers: the elementwise work around the GEMMs.
///
/// Every kernel works on one row (a contiguous run of `count` floats) so callers can
/// parallelise over rows; loops run 16 lanes at a time with a scalar tail.
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

    /// e^x for 16 lanes (Cephes polynomial, ≈1 ulp; inputs clamped to ±88.4). Rounding to the
    /// nearest integer uses the 1.5·2²³ trick so that every step stays a vector instruction.
    @inline(__always)
    public static func exp(_ v: Vector) -> Vector {
        let magic = Vector(repeating: 12_582_912) // 1.5 · 2^23
        // (`replacing(with:where:)` compiles to vector selects; `clamped` and `pointwiseMax` to lane loops.)
        let low = Vector(repeating: -87.3365), high = Vector(repeating: 88.37626)
        var x = v.replacing(with: low, where: v .< low).replacing(with: high, where: v .> high)
        let shifted = x * 1.44269504088896341 + magic
        let n = shifted - magic
        x = x - n * 0.693359375 + n * 2.12194440e-4
        let z = x * x
        var y = Vector(repeating: 1.9875691500e-4)
        y = y * x + 1.3981999507e-3
        y = y * x + 8.3334519073e-3
        y = y * x + 4.1665795894e-2
        y = y * x + 1.6666665459e-1
        y = y * x + 5.0000001201e-1
        y = y * z + x + 1
        let integer = unsafeBitCast(shifted, to: SIMD16<Int32>.self) &- 0x4B40_0000
        return y * unsafeBitCast((integer &+ 127) &<< 23, to: Vector.self)
    }

    /// Scalar e^x with the same polynomial as the vector version.
    @inline(__always)
    static func exp(_ x: Float) -> Float { exp(Vector(repeating: x))[0] }

    /// `x ← x · sigmoid(x)` in place.
    public static func silu(_ x: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + lanes <= count {
            let v = load(x, i)
            store(v / (1 + exp(-v)), x, i)
            i += lanes
        }
        while i < count { let v = x[i]; x[i] = v / (1 + exp(-v)); i += 1 }
    }

    /// SwiGLU's gate: `gate ← SiLU(gate) · value`.
    public static func siluMultiply(gate: UnsafeMutablePointer<Float>, value: UnsafePointer<Float>, count: Int) {
        var i = 0
        while i + lanes <= count {
            let g = load(gate, i)
            store(g / (1 + exp(-g)) * load(value, i), gate, i)
            i += lanes
        }
        while i < count { let g = gate[i]; gate[i] = g / (1 + exp(-g)) * value[i]; i += 1 }
    }

    /// GELU with the tanh approximation, in place: `0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))`,
    /// written as `x · sigmoid(2u)` so it needs one exp.
    public static func geluTanh(_ x: UnsafeMutablePointer<Float>, count: Int) {
        let c: Float = 0.7978845608028654 // √(2/π)
        var i = 0
        while i + lanes <= count {
            let v = load(x, i)
            let u = c * (v + 0.044715 * v * v * v)
            store(v / (1 + exp(-2 * u)), x, i)
            i += lanes
        }
        while i < count {
            let v = x[i], u = c * (v + 0.044715 * v * v * v)
            x[i] = v / (1 + exp(-2 * u))
            i += 1
        }
    }

    /// `x ← x ⊙ w`.
    public static func multiply(_ x: UnsafeMutablePointer<Float>, by w: UnsafePointer<Float>, count: Int) {
        var i = 0
        while i + lanes <= count { store(load(x, i) * load(w, i), x, i); i += lanes }
        while i < count { x[i] *= w[i]; i += 1 }
    }

    /// Numerically stable softmax of one row in place (the row maximum is subtracted first).
    public static func softmax(_ x: UnsafeMutablePointer<Float>, count: Int) {
        var maxV = Vector(repeating: -.infinity)
        var i = 0
        while i + lanes <= count { let v = load(x, i); maxV.replace(with: v, where: v .> maxV); i += lanes }
        var m = -Float.infinity
        for lane in 0..<lanes { m = Swift.max(m, maxV[lane]) }
        while i < count { m = Swift.max(m, x[i]); i += 1 }
        var sumV = Vector(repeating: 0)
        i = 0
        while i + lanes <= count {
            let e = exp(load(x, i) - m)
            store(e, x, i)
            sumV += e
            i += lanes
        }
        var sum = sumV.sum()
        while i < count { let e = exp(x[i] - m); x[i] = e; sum += e; i += 1 }
        scale(x, count: count, by: 1 / sum)
    }

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
        var i = 0
        if silu {
            while i + lanes <= count { let v = load(x, i) * a + b; store(v / (1 + exp(-v)), y, i); i += lanes }
            while i < count { let v = x[i] * a + b; y[i] = v / (1 + exp(-v)); i += 1 }
        } else {
            while i + lanes <= count { store(load(x, i) * a + b, y, i); i += lanes }
            while i < count { y[i] = x[i] * a + b; i += 1 }
        }
    }

    /// Gated residual: `x ← x + gate ⊙ y`.
    public static func gatedAdd(_ y: UnsafePointer<Float>, gate: UnsafePointer<Float>,
                                to x: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + lanes <= count { store(load(x, i) + load(gate, i) * load(y, i), x, i); i += lanes }
        while i < count { x[i] += gate[i] * y[i]; i += 1 }
    }

    /// LayerNorm without affine parameters (mean 0, variance 1, `eps` inside the root), then the
    /// adaLN modulation `y · (1 + scale) + shift` when `shift`/`scale` are given.
    /// `input` and `output` may be the same row.
    public static func layerNorm(_ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>,
                                 count: Int, eps: Float = 1e-6,
                                 shift: UnsafePointer<Float>? = nil, scale: UnsafePointer<Float>? = nil) {
        var s0 = Vector(repeating: 0), s1 = Vector(repeating: 0)
        var i = 0
        while i + 2 * lanes <= count { s0 += load(input, i); s1 += load(input, i + lanes); i += 2 * lanes }
        while i + lanes <= count { s0 += load(input, i); i += lanes }
        var sum = (s0 + s1).sum()
        while i < count { sum += input[i]; i += 1 }
        let mean = sum / Float(count)
        s0 = .zero; s1 = .zero
        i = 0
        while i + 2 * lanes <= count {
            let a = load(input, i) - mean, b = load(input, i + lanes) - mean
            s0 += a * a; s1 += b * b
            i += 2 * lanes
        }
        while i + lanes <= count { let a = load(input, i) - mean; s0 += a * a; i += lanes }
        var sq = (s0 + s1).sum()
        while i < count { let a = input[i] - mean; sq += a * a; i += 1 }
        let inv = 1 / (sq / Float(count) + eps).squareRoot()
        i = 0
        if let shift, let scale {
            while i + lanes <= count {
                let n = (load(input, i) - mean) * inv
                store(n * (1 + load(scale, i)) + load(shift, i), output, i)
                i += lanes
            }
            while i < count { output[i] = (input[i] - mean) * inv * (1 + scale[i]) + shift[i]; i += 1 }
        } else {
            while i + lanes <= count { store((load(input, i) - mean) * inv, output, i); i += lanes }
            while i < count { output[i] = (input[i] - mean) * inv; i += 1 }
        }
    }
}
