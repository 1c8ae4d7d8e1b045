/// A fast content hash of a whole checkpoint file (64-bit, over 8-byte words), recorded in
/// generated images so `--from` can tell whether the same weights are loaded.
public enum ModelFingerprint {
    /// The hash of the bytes of `file`, as 16 hex digits.
    public static func of(_ file: SafetensorsFile) -> String {
        file.withBytes { raw in
            var h: UInt64 = 0xCBF2_9CE4_8422_2325 ^ UInt64(raw.count)
            let words = raw.count / 8
            for i in 0..<words {
                h = (h ^ raw.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)) &* 0x0000_0100_0000_01B3
                h ^= h >> 29
            }
            for i in (8 * words)..<raw.count { h = (h ^ UInt64(raw[i])) &* 0x0000_0100_0000_01B3 }
            let hex = String(h, radix: 16)
            return String(repeating: "0", count: 16 - hex.count) + hex
        }
    }
}

extension SafetensorsFile {
    /// Calls `body` with the whole file's bytes.
    func withBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        body(UnsafeRawBufferPointer(start: mappedBase, count: mappedSize))
    }
}
