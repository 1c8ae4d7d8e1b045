/// A float32 tensor: a shape over contiguous row-major storage.
///
/// Tensors are cheap values; copies share storage. Kernels reach the elements through
/// ``data`` (an unsafe pointer), never through Swift arrays.
///
/// `@unchecked Sendable`: a tensor is written only by the kernel that makes it (or in disjoint ranges by its threads) before anyone else sees it; shared tensors are only read.
public struct Tensor: @unchecked Sendable {
    /// The extent of each dimension, outermost first.
    public let shape: [Int]
    /// The memory holding the elements.
    public let storage: TensorStorage

    /// Number of elements.
    public var count: Int { shape.reduce(1, *) }
    /// Pointer to the first element.
    public var data: UnsafeMutablePointer<Float> { storage.pointer }

    /// A tensor of zeros.
    public init(zeros shape: [Int]) {
        self.shape = shape
        self.storage = TensorStorage(zeros: shape.reduce(1, *))
    }

    /// A tensor holding `values` (row-major); `values.count` must equal the shape's product.
    public init(shape: [Int], values: [Float]) {
        precondition(values.count == shape.reduce(1, *), "values do not fill shape \(shape)")
        self.init(zeros: shape)
        values.withUnsafeBufferPointer { data.update(from: $0.baseAddress!, count: values.count) }
    }

    /// A tensor over existing storage.
    public init(shape: [Int], storage: TensorStorage) {
        precondition(shape.reduce(1, *) <= storage.count, "shape \(shape) exceeds storage")
        self.shape = shape
        self.storage = storage
    }

    /// The same elements seen with another shape of equal element count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        precondition(newShape.reduce(1, *) == count, "cannot reshape \(shape) to \(newShape)")
        return Tensor(shape: newShape, storage: storage)
    }

    /// Whether every element is finite (no NaN, no ±Inf).
    public var isFinite: Bool {
        // Exponent bits all ones mean NaN or Inf; scan in blocks so the common case stays a tight loop.
        let n = count, p = UnsafeRawPointer(data).assumingMemoryBound(to: UInt32.self)
        var i = 0
        while i < n {
            let end = min(i + 4096, n)
            var bad: UInt32 = 0
            for j in i..<end { bad |= ((p[j] & 0x7F80_0000) == 0x7F80_0000) ? 1 : 0 }
            if bad != 0 { return false }
            i = end
        }
        return true
    }

    /// The elements copied into an array (for tests and small outputs).
    public func toArray() -> [Float] {
        Array(UnsafeBufferPointer(start: data, count: count))
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String { "Tensor\(shape)" }
}
