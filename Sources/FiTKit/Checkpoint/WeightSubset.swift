/// Part of a weight source by name prefix: the tensors under `prefix` with the prefix dropped
/// (a VAE a FiT checkpoint carries under `vae.`), or every tensor not under it (the FiT itself).
public struct WeightSubset: WeightSource {
    private let base: WeightSource
    private let prefix: String
    private let inside: Bool
    public let tensorShapesByName: [String: [Int]]

    /// The tensors of `base` named `prefix…`, as `…`.
    public init(_ base: WeightSource, under prefix: String) {
        self.base = base
        self.prefix = prefix
        inside = true
        tensorShapesByName = Dictionary(uniqueKeysWithValues: base.tensorShapesByName.compactMap { name, shape in
            name.hasPrefix(prefix) ? (String(name.dropFirst(prefix.count)), shape) : nil
        })
    }

    /// The tensors of `base` not named `prefix…`.
    public init(_ base: WeightSource, outside prefix: String) {
        self.base = base
        self.prefix = prefix
        inside = false
        tensorShapesByName = base.tensorShapesByName.filter { !$0.key.hasPrefix(prefix) }
    }

    public func tensor(_ name: String) throws -> Tensor {
        guard tensorShapesByName[name] != nil else { throw FiTError.missingTensors(names: [name]) }
        return try base.tensor(inside ? prefix + name : name)
    }
}
