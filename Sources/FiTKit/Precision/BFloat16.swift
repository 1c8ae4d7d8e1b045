/// float32 → bfloat16 conversion for the operands of the bf16 products.
enum BFloat16 {
    /// The bfloat16 bits of `value`, rounded to nearest even; NaN stays a (quiet) NaN.
    @inline(__always)
    static func bits(_ value: Float) -> UInt16 {
        let b = value.bitPattern
        if b & 0x7FFF_FFFF > 0x7F80_0000 { return 0x7FC0 }
        return UInt16(truncatingIfNeeded: (b &+ 0x7FFF &+ ((b >> 16) & 1)) >> 16)
    }

    /// The float32 value of bfloat16 `bits` (exact).
    @inline(__always)
    static func value(_ bits: UInt16) -> Float { Float(bitPattern: UInt32(bits) << 16) }

    /// `out = bf16(softmax(scale · x))` for one attention row, in three passes (max, exp and sum,
    /// normalise and round); `x` is left holding the unnormalised exponentials. `scale` > 0;
    /// masked entries are −∞ and come out ≈ 0 (below 1e-30: exp clamps at −87). Round-to-nearest-even as ``bits(_:)`` (the values
    /// are finite here).
    static func softmax(_ x: UnsafeMutablePointer<Float>, count: Int, scale: Float, into out: UnsafeMutablePointer<UInt16>) {
        let lanes = Kernels.lanes
        var maxV = Kernels.Vector(repeating: -.infinity)
        var i = 0
        while i + lanes <= count { let v = Kernels.load(x, i); maxV.replace(with: v, where: v .> maxV); i += lanes }
        var m = maxV.max()
        while i < count { m = Swift.max(m, x[i]); i += 1 }
        let shift = m * scale
        var sumV = Kernels.Vector(repeating: 0)
        i = 0
        while i + lanes <= count {
            let e = Kernels.exp(Kernels.load(x, i) * scale - shift)
            Kernels.store(e, x, i)
            sumV += e
            i += lanes
        }
        var sum = sumV.sum()
        while i < count { let e = Kernels.exp(x[i] * scale - shift); x[i] = e; sum += e; i += 1 }
        let inverse = Kernels.Vector(repeating: 1 / sum)
        i = 0
        while i + lanes <= count {
            let b = unsafeBitCast(Kernels.load(x, i) * inverse, to: SIMD16<UInt32>.self)
            let rounded = (b &+ 0x7FFF &+ ((b &>> 16) & 1)) &>> 16
            UnsafeMutableRawPointer(out + i).storeBytes(of: SIMD16<UInt16>(truncatingIfNeeded: rounded), as: SIMD16<UInt16>.self)
            i += lanes
        }
        while i < count { out[i] = bits(x[i] * inverse[0]); i += 1 }
    }

    /// Converts `rows` rows of `columns` values (row stride `sourceStride`) into a dense
    /// bfloat16 matrix with row stride `destinationStride`, in parallel over rows.
    static func convert(_ source: UnsafePointer<Float>, rows: Int, columns: Int, sourceStride: Int,
                        into destination: UnsafeMutablePointer<UInt16>, destinationStride: Int) {
        Parallel.forEachChunk(count: rows, minimumChunk: max(1, 16_384 / max(columns, 1))) { range in
            for r in range {
                let s = source + r * sourceStride, d = destination + r * destinationStride
                for c in 0..<columns { d[c] = bits(s[c]) }
            }
        }
    }
}

/// A 64-byte-aligned buffer of bfloat16 values, freed on deinit.
///
/// `@unchecked Sendable`: like ``TensorStorage``: filled by the code that made it before it is shared, only read after.
final class BFloat16Buffer: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<UInt16>
    let count: Int

    init(count: Int) {
        self.count = count
        pointer = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * 2, alignment: 64)
            .bindMemory(to: UInt16.self, capacity: max(count, 1))
    }

    deinit { UnsafeMutableRawPointer(pointer).deallocate() }
}
