extension NoiseSource {
    /// Noise for `rows` images of `configuration`'s model on a `height × width` grid, drawn in
    /// the token layout the official samplers draw it in and returned in image layout
    /// (rows, C, height, width):
    ///
    /// - v2 (`use_sit`): one draw of shape (rows, N, p²·C), element [b, r·w + c, ch·p² + p1·p + p2];
    /// - v1: (rows, p²·C, N), element [b, ch·p² + p1·p + p2, r·w + c];
    ///
    /// both mapping to image element [b, ch, r·p + p1, c·p + p2].
    public mutating func image(rows: Int, configuration: FiTConfiguration, height: Int, width: Int) -> Tensor {
        let p = configuration.patchSize, f = configuration.patchDim
        let (gridRows, gridColumns) = (height / p, width / p)
        let n = gridRows * gridColumns
        let values = normal(count: rows * n * f)
        let tokens = Tensor(zeros: [rows * n, f])
        if configuration.useSit {
            values.withUnsafeBufferPointer { tokens.data.update(from: $0.baseAddress!, count: values.count) }
        } else {
            for b in 0..<rows {
                for k in 0..<f {
                    for token in 0..<n { tokens.data[(b * n + token) * f + k] = values[(b * f + k) * n + token] }
                }
            }
        }
        return FiT.unpatchify(tokens, batch: rows, channels: configuration.inChannels,
                              rows: gridRows, columns: gridColumns, patchSize: p)
    }
}
