import CDNNL
import Foundation

/// A Linear layer's weight in bfloat16, reordered once (at load) into the blocked layout
/// oneDNN's matmul prefers, with one primitive per (rows, output stride) made on first use.
///
/// `y = bf16(x) · bf16(W)ᵀ + b` with float32 accumulation, bias and output.
///
/// `@unchecked Sendable`: the packed weights are written once in `init`; the primitive cache is guarded by `lock`.
final class BFloat16Linear: @unchecked Sendable {
    let outFeatures: Int
    let inFeatures: Int
    private let bias: Tensor?
    private let packedDesc: dnnl_memory_desc_t
    private let packed: UnsafeMutableRawPointer
    private var primitives: [Shape: MatmulPrimitive] = [:]
    private let lock = NSLock()

    private struct Shape: Hashable { let rows: Int, outputStride: Int }

    /// Converts and reorders `weight` (PyTorch's (out, in) layout, float32); `bias` stays float32.
    init(weight: Tensor, bias: Tensor?) throws {
        let (n, k) = (weight.shape[0], weight.shape[1])
        outFeatures = n
        inFeatures = k
        self.bias = bias
        // The layout the primitive chooses for a typical row count; the same blocked layout
        // serves every row count (the primitives below are made with it fixed).
        var source = dnnl_memory_desc_t(), any = dnnl_memory_desc_t(), destination = dnnl_memory_desc_t()
        try OneDNN.check(fit_dnnl_matrix(&source, 256, Int64(k), Int64(k), dnnl_bf16), "weights layout")
        try OneDNN.check(fit_dnnl_any(&any, Int64(k), Int64(n), dnnl_bf16), "weights layout")
        try OneDNN.check(fit_dnnl_matrix(&destination, 256, Int64(n), Int64(n), dnnl_f32), "weights layout")
        let pd = try MatmulPrimitive.descriptor(source: source, weights: any, bias: nil, destination: destination)
        defer { dnnl_primitive_desc_destroy(pd) }
        guard let chosen = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0) else {
            throw FiTError.oneDNN("the matmul did not report its weights layout")
        }
        packedDesc = chosen.pointee
        var plain = dnnl_memory_desc_t()
        try OneDNN.check(fit_dnnl_transposed(&plain, Int64(k), Int64(n), Int64(k), dnnl_f32), "weights layout")
        packed = UnsafeMutableRawPointer.allocate(byteCount: max(dnnl_memory_desc_get_size(chosen), 64), alignment: 64)
        try OneDNN.reorder(from: plain, UnsafeRawPointer(weight.data), to: packedDesc, packed)
    }

    deinit { packed.deallocate() }

    /// `y[r] = x[r] · Wᵀ + b` for `rows` rows of `x` (stride `inFeatures`), rows of `y` `ldy` apart.
    func apply(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>, ldy: Int) {
        let source = BFloat16Buffer(count: rows * inFeatures)
        BFloat16.convert(x, rows: rows, columns: inFeatures, sourceStride: inFeatures,
                         into: source.pointer, destinationStride: inFeatures)
        multiply(source.pointer, rows: rows, into: y, ldy: ldy)
    }

    /// The product alone, on rows already in bfloat16 (what ``SGEMMProbe`` times).
    func multiply(_ x: UnsafePointer<UInt16>, rows: Int, into y: UnsafeMutablePointer<Float>, ldy: Int) {
        primitive(rows: rows, ldy: ldy).run(source: x, weights: packed, bias: bias.map { UnsafeRawPointer($0.data) },
                                            destination: y)
    }

    private func primitive(rows: Int, ldy: Int) -> MatmulPrimitive {
        let shape = Shape(rows: rows, outputStride: ldy)
        lock.lock()
        defer { lock.unlock() }
        if let p = primitives[shape] { return p }
        var source = dnnl_memory_desc_t(), destination = dnnl_memory_desc_t(), biasDesc = dnnl_memory_desc_t()
        fit_dnnl_matrix(&source, Int64(rows), Int64(inFeatures), Int64(inFeatures), dnnl_bf16)
        fit_dnnl_matrix(&destination, Int64(rows), Int64(outFeatures), Int64(ldy), dnnl_f32)
        fit_dnnl_matrix(&biasDesc, 1, Int64(outFeatures), Int64(outFeatures), dnnl_f32)
        do {
            let p = try MatmulPrimitive(source: source, weights: packedDesc, bias: bias == nil ? nil : biasDesc,
                                        destination: destination)
            primitives[shape] = p
            return p
        } catch {
            // The layout was chosen by this same primitive kind for these features; a row count
            // it cannot serve would be a oneDNN defect, not bad input.
            preconditionFailure("oneDNN refused a bf16 matmul of \(rows)×\(inFeatures)·\(inFeatures)×\(outFeatures): \(error)")
        }
    }
}
