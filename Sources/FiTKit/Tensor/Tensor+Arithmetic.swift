/// Elementwise arithmetic that returns new tensors (the samplers keep every step's state, so
/// nothing is updated in place). Shapes must match exactly.
extension Tensor {
    /// A copy with its own storage.
    public func copy() -> Tensor {
        let out = Tensor(zeros: shape)
        out.data.update(from: data, count: count)
        return out
    }

    /// `Σ coefficientᵢ · termᵢ` over tensors of one shape, accumulated in float32 left to right.
    public static func combination(_ terms: [(Float, Tensor)]) -> Tensor {
        precondition(!terms.isEmpty && terms.allSatisfy { $0.1.shape == terms[0].1.shape }, "shapes differ")
        let out = Tensor(zeros: terms[0].1.shape)
        let n = out.count, o = out.data
        for (index, (c, t)) in terms.enumerated() {
            let p = t.data
            if index == 0 { for i in 0..<n { o[i] = c * p[i] } } else { for i in 0..<n { o[i] += c * p[i] } }
        }
        return out
    }

    /// `self + factor · other`.
    public func adding(_ other: Tensor, scaledBy factor: Float) -> Tensor {
        precondition(shape == other.shape, "shapes \(shape) and \(other.shape) differ")
        let out = Tensor(zeros: shape)
        for i in 0..<count { out.data[i] = data[i] + factor * other.data[i] }
        return out
    }

    /// Each element transformed by `body`.
    public func map(_ body: (Float) -> Float) -> Tensor {
        let out = Tensor(zeros: shape)
        for i in 0..<count { out.data[i] = body(data[i]) }
        return out
    }

    /// Elements of `self` and `other` combined pairwise.
    public func zipMap(_ other: Tensor, _ body: (Float, Float) -> Float) -> Tensor {
        precondition(shape == other.shape, "shapes \(shape) and \(other.shape) differ")
        let out = Tensor(zeros: shape)
        for i in 0..<count { out.data[i] = body(data[i], other.data[i]) }
        return out
    }
}

/// Batch slicing and stacking along the first dimension.
extension Tensor {
    /// Samples `range` of the batch (copied).
    public func batch(_ range: Range<Int>) -> Tensor {
        let per = count / shape[0]
        let out = Tensor(zeros: [range.count] + shape.dropFirst())
        out.data.update(from: data + range.lowerBound * per, count: range.count * per)
        return out
    }

    /// The tensors stacked along the batch dimension (their other dimensions must agree).
    public static func concatenatingBatches(_ parts: [Tensor]) -> Tensor {
        let rest = Array(parts[0].shape.dropFirst())
        precondition(parts.allSatisfy { Array($0.shape.dropFirst()) == rest }, "shapes differ")
        let out = Tensor(zeros: [parts.reduce(0) { $0 + $1.shape[0] }] + rest)
        var at = out.data
        for p in parts { at.update(from: p.data, count: p.count); at += p.count }
        return out
    }
}
