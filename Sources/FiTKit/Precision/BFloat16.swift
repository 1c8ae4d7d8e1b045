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
