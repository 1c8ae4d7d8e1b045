import CDNNL

/// One oneDNN matmul primitive, `dst = src · weights (+ bias)`, with the memory descriptors of
/// its operands; ``run(source:weights:bias:destination:)`` binds buffers to them per call.
/// Immutable after creation, so one primitive serves every thread.
///
/// `@unchecked Sendable`: oneDNN primitives are immutable and may execute on several threads at once.
final class MatmulPrimitive: @unchecked Sendable {
    private let primitive: dnnl_primitive_t
    private let source: dnnl_memory_desc_t
    private let weights: dnnl_memory_desc_t
    private let bias: dnnl_memory_desc_t?
    private let destination: dnnl_memory_desc_t

    init(source: dnnl_memory_desc_t, weights: dnnl_memory_desc_t, bias: dnnl_memory_desc_t?,
         destination: dnnl_memory_desc_t) throws {
        (self.source, self.weights, self.bias, self.destination) = (source, weights, bias, destination)
        let pd = try Self.descriptor(source: source, weights: weights, bias: bias, destination: destination)
        defer { dnnl_primitive_desc_destroy(pd) }
        var p: dnnl_primitive_t?
        try OneDNN.check(dnnl_primitive_create(&p, pd), "matmul primitive_create")
        primitive = p!
    }

    /// The primitive descriptor of a matmul on these operands (the caller destroys it): what a
    /// primitive is made from, and where oneDNN says which layout it wants for `format_tag_any`.
    static func descriptor(source: dnnl_memory_desc_t, weights: dnnl_memory_desc_t, bias: dnnl_memory_desc_t?,
                           destination: dnnl_memory_desc_t) throws -> dnnl_primitive_desc_t {
        guard let engine = OneDNN.engine else { throw FiTError.oneDNN("no CPU engine") }
        var desc = dnnl_matmul_desc_t()
        var (s, w, d) = (source, weights, destination)
        if var b = bias {
            try OneDNN.check(dnnl_matmul_desc_init(&desc, &s, &w, &b, &d), "matmul_desc_init")
        } else {
            try OneDNN.check(dnnl_matmul_desc_init(&desc, &s, &w, nil, &d), "matmul_desc_init")
        }
        var pd: dnnl_primitive_desc_t?
        try OneDNN.check(dnnl_primitive_desc_create(&pd, &desc, nil, engine, nil), "matmul primitive_desc_create")
        return pd!
    }

    deinit { dnnl_primitive_destroy(primitive) }

    /// Runs the product on the given buffers (laid out as the descriptors say) and waits for it.
    func run(source src: UnsafeRawPointer, weights wei: UnsafeRawPointer, bias b: UnsafeRawPointer?,
             destination dst: UnsafeMutableRawPointer) {
        OneDNN.run(primitive, arguments: [(DNNL_ARG_SRC, source, src), (DNNL_ARG_WEIGHTS, weights, wei),
                                          (DNNL_ARG_DST, destination, UnsafeRawPointer(dst))]
                   + (bias.flatMap { desc in b.map { [(DNNL_ARG_BIAS, desc, $0)] } } ?? []))
    }
}
