import Foundation

/// A memory-mapped safetensors file: an 8-byte little-endian header length, a JSON header
/// naming each tensor's dtype, shape and byte range, then the raw data.
///
/// Every offset and length is checked against the file before any tensor is touched. F32
/// tensors are used in place (no copy); F16 and BF16 are widened to F32 on access.
///
/// `@unchecked Sendable`: the header is parsed once in `init` into constants, and the mapping is read-only.
public final class SafetensorsFile: @unchecked Sendable {
    /// Element types a safetensors header may name.
    public enum DType: String, Sendable {
        case f64 = "F64", f32 = "F32", f16 = "F16", bf16 = "BF16"
        case i64 = "I64", i32 = "I32", i16 = "I16", i8 = "I8", u8 = "U8", bool = "BOOL"
        case u16 = "U16", u32 = "U32", u64 = "U64", f8e4m3 = "F8_E4M3", f8e5m2 = "F8_E5M2"

        /// Bytes per element.
        public var size: Int {
            switch self {
            case .f64, .i64, .u64: return 8
            case .f32, .i32, .u32: return 4
            case .f16, .bf16, .i16, .u16: return 2
            case .i8, .u8, .bool, .f8e4m3, .f8e5m2: return 1
            }
        }
    }

    /// One tensor's header entry.
    public struct Entry: Sendable {
        public let name: String
        public let dtype: DType
        public let shape: [Int]
        /// Byte range relative to the start of the data section.
        public let byteRange: Range<Int>
        public var elementCount: Int { shape.reduce(1, *) }
    }

    /// The file's path as given.
    public let path: String
    /// The `__metadata__` string map (empty when absent).
    public let metadata: [String: String]
    /// Header entries by tensor name.
    public let entries: [String: Entry]
    private let map: MemoryMap
    private let dataStart: Int

    /// Tensor names in a stable (sorted) order.
    public var names: [String] { entries.keys.sorted() }

    /// Opens and validates `path`.
    public init(path: String) throws {
        self.path = path
        let map = try MemoryMap(path: path)
        self.map = map
        if map.size >= 4, map.base.load(as: UInt32.self) == 0x0403_4B50 {
            throw FiTError.pickleCheckpoint(path: path)
        }
        func bad(_ reason: String) -> FiTError { .malformedSafetensors(path: path, reason: reason) }
        guard map.size >= 8 else { throw bad("the file is \(map.size) bytes, shorter than the 8-byte header length") }
        let headerLength = UInt64(littleEndian: map.base.loadUnaligned(as: UInt64.self))
        guard headerLength >= 2, headerLength <= UInt64(map.size - 8) else {
            throw bad("header length \(headerLength) runs past the end of the \(map.size)-byte file")
        }
        dataStart = 8 + Int(headerLength)
        let headerBytes = Data(bytes: map.base + 8, count: Int(headerLength))
        // The format requires the header to start with '{' (no byte-order mark, no leading space).
        guard headerBytes.first == UInt8(ascii: "{") else {
            throw bad(headerBytes.starts(with: [0xEF, 0xBB, 0xBF]) ? "the header starts with a UTF-8 byte-order mark; it must start with '{'"
                                                                   : "the header does not start with '{'")
        }
        guard let json = try? JSONSerialization.jsonObject(with: headerBytes), let header = json as? [String: Any] else {
            throw bad("the header is not a JSON object")
        }
        let dataSize = map.size - dataStart
        var metadata: [String: String] = [:]
        var entries: [String: Entry] = [:]
        for (name, value) in header {
            if name == "__metadata__" {
                guard let dict = value as? [String: Any] else { throw bad("__metadata__ is not an object") }
                for (k, v) in dict {
                    guard let s = v as? String else { throw bad("metadata '\(k)' is not a string") }
                    metadata[k] = s
                }
                continue
            }
            guard let info = value as? [String: Any],
                  let dtypeName = info["dtype"] as? String,
                  let shapeValues = info["shape"] as? [Any],
                  let offsetValues = info["data_offsets"] as? [Any], offsetValues.count == 2 else {
                throw bad("tensor '\(name)' lacks dtype, shape or data_offsets")
            }
            guard let dtype = DType(rawValue: dtypeName) else {
                throw FiTError.unsupportedDType(path: path, tensor: name, dtype: dtypeName)
            }
            let shape = try shapeValues.map { v -> Int in
                guard let n = Self.wholeNumber(v), n >= 0 else {
                    throw bad("tensor '\(name)' has an invalid shape \(shapeValues)")
                }
                return n
            }
            let offsets = try offsetValues.map { v -> Int in
                guard let n = Self.wholeNumber(v), n >= 0 else {
                    throw bad("tensor '\(name)' has invalid data_offsets \(offsetValues)")
                }
                return n
            }
            guard offsets[0] <= offsets[1] else { throw bad("tensor '\(name)' has data_offsets \(offsets) that run backwards") }
            guard offsets[1] <= dataSize else {
                throw bad("tensor '\(name)' ends at byte \(offsets[1]) of the data section, which has only \(dataSize) bytes")
            }
            let (elements, overflow) = shape.reduce((1, false)) { acc, n in
                let (p, o) = acc.0.multipliedReportingOverflow(by: n); return (p, acc.1 || o)
            }
            guard !overflow, elements.multipliedReportingOverflow(by: dtype.size).partialValue == offsets[1] - offsets[0] else {
                throw bad("tensor '\(name)' of shape \(shape) \(dtypeName) needs a different byte length than data_offsets \(offsets)")
            }
            entries[name] = Entry(name: name, dtype: dtype, shape: shape, byteRange: offsets[0]..<offsets[1])
        }
        let sorted = entries.values.filter { !$0.byteRange.isEmpty }.sorted { $0.byteRange.lowerBound < $1.byteRange.lowerBound }
        for (a, b) in zip(sorted, sorted.dropFirst()) where b.byteRange.lowerBound < a.byteRange.upperBound {
            throw bad("tensors '\(a.name)' and '\(b.name)' overlap")
        }
        self.metadata = metadata
        self.entries = entries
    }

    /// `v` as an `Int` when it is a JSON integer (not a number written with a fraction or an
    /// exponent, a boolean or a string), as the format's reference parser requires.
    private static func wholeNumber(_ v: Any) -> Int? {
        guard let number = v as? NSNumber, ["i", "q", "l", "s", "Q", "L", "I", "S"].contains(String(cString: number.objCType)) else {
            return nil
        }
        return Int(exactly: number.int64Value)
    }

    /// Drops the file's pages from resident memory (after its tensors were copied or transformed
    /// elsewhere); tensors used in place are read again from the page cache when touched.
    public func releaseResidentPages() { map.releaseResidentPages() }

    /// The entry named `name`, or ``FiTError/missingTensors(names:)``.
    public func entry(_ name: String) throws -> Entry {
        guard let e = entries[name] else { throw FiTError.missingTensors(names: [name]) }
        return e
    }

    var mappedBase: UnsafeRawPointer { map.base }
    var mappedSize: Int { map.size }

    private func bytes(of entry: Entry) -> UnsafeRawPointer { map.base + dataStart + entry.byteRange.lowerBound }

    /// The tensor as float32: F32 in place (copied only if misaligned), F16/BF16 widened.
    public func tensor(_ name: String) throws -> Tensor {
        let e = try entry(name)
        let n = e.elementCount
        let src = bytes(of: e)
        switch e.dtype {
        case .f32:
            if Int(bitPattern: src) % MemoryLayout<Float>.alignment == 0 {
                let p = UnsafeMutablePointer(mutating: src.assumingMemoryBound(to: Float.self))
                return Tensor(shape: e.shape, storage: TensorStorage(borrowing: p, count: n, owner: map))
            }
            let t = Tensor(zeros: e.shape)
            UnsafeMutableRawPointer(t.data).copyMemory(from: src, byteCount: n * 4)
            return t
        case .f16:
            let t = Tensor(zeros: e.shape)
            for i in 0..<n { t.data[i] = Float(Float16(bitPattern: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) }
            return t
        case .bf16:
            let t = Tensor(zeros: e.shape)
            for i in 0..<n { t.data[i] = Float(bitPattern: UInt32(src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) << 16) }
            return t
        default:
            throw FiTError.unsupportedDType(path: path, tensor: name, dtype: e.dtype.rawValue)
        }
    }

    /// An integer tensor (I64 or I32) as `[Int]`, e.g. class labels.
    public func integers(_ name: String) throws -> [Int] {
        let e = try entry(name)
        let src = bytes(of: e)
        switch e.dtype {
        case .i64: return (0..<e.elementCount).map { Int(src.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self)) }
        case .i32: return (0..<e.elementCount).map { Int(src.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self)) }
        default: throw FiTError.unsupportedDType(path: path, tensor: name, dtype: e.dtype.rawValue + " (labels must be I64 or I32)")
        }
    }
}
