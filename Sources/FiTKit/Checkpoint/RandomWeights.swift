/// Seeded random weights in a configuration's exact shapes, for benchmarks and tests that need
/// a model without a checkpoint. Linear weights are uniform with variance 1/fan_in.
public final class RandomWeights: WeightSource {
    private var tensors: [String: Tensor] = [:]

    /// Generates every tensor of `configuration` from `seed`.
    public init(configuration: FiTConfiguration, seed: UInt64 = 0) {
        var state = seed &+ 0x9E37_79B9_7F4A_7C15
        for (name, shape) in configuration.tensorShapes() {
            let t = Tensor(zeros: shape)
            let bound: Float = shape.count == 2 && !name.contains("embedding_table")
                ? (3 / Float(shape[1])).squareRoot() : 0.1
            for i in 0..<t.count {
                state ^= state << 13; state ^= state >> 7; state ^= state << 17
                t.data[i] = (Float(state >> 40) / Float(1 << 24) * 2 - 1) * bound
            }
            tensors[name] = t
        }
    }

    public var tensorShapesByName: [String: [Int]] { tensors.mapValues(\.shape) }

    public func tensor(_ name: String) throws -> Tensor {
        guard let t = tensors[name] else { throw FiTError.missingTensors(names: [name]) }
        return t
    }
}
