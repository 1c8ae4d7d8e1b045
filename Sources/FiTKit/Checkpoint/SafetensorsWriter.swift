import Foundation

/// Writes safetensors files atomically: the bytes go to a temporary name beside the target,
/// which is renamed over it only after everything was written and flushed.
public enum SafetensorsWriter {
    /// A tensor to write.
    public enum Value {
        case float32(Tensor)
        case int64(shape: [Int], values: [Int])
    }

    /// Writes `tensors` (name → value) and `metadata` to `path`.
    public static func write(_ tensors: [(String, Value)], metadata: [String: String] = [:], to path: String) throws {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        var payloads: [(Int, (UnsafeMutableRawPointer) -> Void)] = []
        for (name, value) in tensors {
            let (dtype, shape, byteCount, fill): (String, [Int], Int, (UnsafeMutableRawPointer) -> Void)
            switch value {
            case .float32(let t):
                (dtype, shape, byteCount) = ("F32", t.shape, t.count * 4)
                fill = { $0.copyMemory(from: t.data, byteCount: t.count * 4) }
            case .int64(let s, let values):
                (dtype, shape, byteCount) = ("I64", s, values.count * 8)
                fill = { p in for (i, v) in values.enumerated() { p.storeBytes(of: Int64(v), toByteOffset: 8 * i, as: Int64.self) } }
            }
            header[name] = ["dtype": dtype, "shape": shape, "data_offsets": [offset, offset + byteCount]]
            payloads.append((byteCount, fill))
            offset += byteCount
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }
        var file = Data(count: 8 + json.count + offset)
        file.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: UInt64(json.count).littleEndian, as: UInt64.self)
            json.withUnsafeBytes { raw.baseAddress!.advanced(by: 8).copyMemory(from: $0.baseAddress!, byteCount: json.count) }
            var at = 8 + json.count
            for (count, fill) in payloads { fill(raw.baseAddress!.advanced(by: at)); at += count }
        }
        try AtomicFile.write(file, to: path)
    }
}
