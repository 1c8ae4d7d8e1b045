import CKernels

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

    /// `out = bf16(softmax(scale · x))` for one attention row (C, `fit_softmax_bf16`): `x` is
    /// left holding the unnormalised exponentials. `scale` > 0; masked entries are −∞ and come out
    /// ≈ 0 (below 1e-30: exp clamps at −87). Round-to-nearest-even as ``bits(_:)``.
    static func softmax(_ x: UnsafeMutablePointer<Float>, count: Int, scale: Float, into out: UnsafeMutablePointer<UInt16>) {
        fit_softmax_bf16(x, count, scale, out)
    }

    /// Where head `head` of sample `sample` starts in ``splitHeads``'s output, for `part` 0 (q),
    /// 1 (k) or 2 (v): each head's part is a dense tokens × head-size matrix.
    @inline(__always)
    static func headMajorOffset(part: Int, sample: Int, head: Int, batch: Int, heads: Int, tokens: Int, headSize: Int) -> Int {
        ((part * batch + sample) * heads + head) * tokens * headSize
    }

    /// The fused qkv rows (`batch`·`tokens` rows of 3·`hidden` floats) as bfloat16 in head-major
    /// order: part (q, k, v), sample, head, token, then the head's `hidden / heads` values
    /// (``headMajorOffset(part:sample:head:batch:heads:tokens:headSize:)``).
    static func splitHeads(_ qkv: UnsafePointer<Float>, batch: Int, tokens n: Int, hidden d: Int, heads: Int,
                           into destination: UnsafeMutablePointer<UInt16>) {
        let dh = d / heads
        Parallel.forEachChunk(count: batch * n, minimumChunk: 8) { range in
            for r in range {
                let b = r / n, i = r % n
                for part in 0..<3 {
                    for h in 0..<heads {
                        let start = headMajorOffset(part: part, sample: b, head: h, batch: batch, heads: heads, tokens: n, headSize: dh)
                        fit_to_bf16(qkv + r * 3 * d + part * d + h * dh, destination + start + i * dh, dh)
                    }
                }
            }
        }
    }

    /// Converts `rows` rows of `columns` values (row stride `sourceStride`) into a dense
    /// bfloat16 matrix with row stride `destinationStride`, in parallel over rows.
    static func convert(_ source: UnsafePointer<Float>, rows: Int, columns: Int, sourceStride: Int,
                        into destination: UnsafeMutablePointer<UInt16>, destinationStride: Int) {
        Parallel.forEachChunk(count: rows, minimumChunk: max(1, 16_384 / max(columns, 1))) { range in
            for r in range {
                let s = source + r * sourceStride, d = destination + r * destinationStride
                fit_to_bf16(s, d, columns)
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
