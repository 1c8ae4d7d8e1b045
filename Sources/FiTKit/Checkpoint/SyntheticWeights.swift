/// Deterministic weights defined by a formula that the Python reference
/// (`python/fit_reference/synthetic_weights.py`) evaluates bit for bit, so tests and benchmarks
/// can use real-shape models (hundreds of MB) without committing them.
///
/// Element `i` of tensor `name`: `z = splitmix64(fnv1a64(name) + i)`, `u = (z >> 40) / 2²⁴`,
/// `v = 2u − 1`; matrices and kernels are `v · √(3 / fan_in)`, 1-D `.weight`s (norm gains)
/// `1 + 0.2 v`, biases `0.1 v`.
public final class SyntheticWeights: WeightSource {
    private let shapes: [String: [Int]]

    /// A source for the tensors `shapes` (name → PyTorch shape).
    public init(shapes: [(name: String, shape: [Int])]) {
        self.shapes = Dictionary(uniqueKeysWithValues: shapes.map { ($0.name, $0.shape) })
    }

    public var tensorShapesByName: [String: [Int]] { shapes }

    /// Generates the tensor named `name` (every call computes it afresh).
    public func tensor(_ name: String) throws -> Tensor {
        guard let shape = shapes[name] else { throw FiTError.missingTensors(names: [name]) }
        let t = Tensor(zeros: shape)
        let seed = Self.fnv1a64(name)
        let (scale, offset): (Float, Float)
        if shape.count >= 2 {
            scale = Float((3.0 / Double(shape.dropFirst().reduce(1, *))).squareRoot()); offset = 0
        } else if name.hasSuffix(".weight") {
            (scale, offset) = (0.2, 1)
        } else {
            (scale, offset) = (0.1, 0)
        }
        let data = t.data
        Parallel.forEachChunk(count: t.count, minimumChunk: 1 << 16) { range in
            for i in range {
                let u = Float(Self.splitmix64(seed &+ UInt64(i)) >> 40) / 16_777_216
                data[i] = (2 * u - 1) * scale + offset
            }
        }
        return t
    }

    static func fnv1a64(_ text: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 { h ^= UInt64(byte); h = h &* 0x100_0000_01b3 }
        return h
    }

    static func splitmix64(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
