/// Anything that can hand the model its tensors by official name: a checkpoint file, or
/// random weights for benchmarks.
public protocol WeightSource {
    /// The shape of every tensor the source holds, by name.
    var tensorShapesByName: [String: [Int]] { get }
    /// The tensor named `name` as float32.
    func tensor(_ name: String) throws -> Tensor
}

extension SafetensorsFile: WeightSource {
    public var tensorShapesByName: [String: [Int]] { entries.mapValues(\.shape) }
}
