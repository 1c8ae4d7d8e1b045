extension FiT {
    /// (B, C, H, W) → (B·N, C·p·p) tokens, row-major over the token grid, each token's values
    /// in `(c p1 p2)` order.
    static func patchify(_ x: Tensor, patchSize p: Int) -> Tensor {
        let (b, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (rows, columns) = (h / p, w / p)
        let out = Tensor(zeros: [b * rows * columns, c * p * p])
        var o = out.data
        for bi in 0..<b {
            for r in 0..<rows {
                for col in 0..<columns {
                    for ci in 0..<c {
                        for p1 in 0..<p {
                            let src = x.data + ((bi * c + ci) * h + r * p + p1) * w + col * p
                            for p2 in 0..<p { o.pointee = src[p2]; o += 1 }
                        }
                    }
                }
            }
        }
        return out
    }

    /// The inverse of ``patchify(_:patchSize:)``: (B·N, C·p·p) → (B, C, rows·p, columns·p).
    static func unpatchify(_ tokens: Tensor, batch b: Int, channels c: Int, rows: Int, columns: Int, patchSize p: Int) -> Tensor {
        let (h, w) = (rows * p, columns * p)
        let out = Tensor(zeros: [b, c, h, w])
        var i = UnsafePointer(tokens.data)
        for bi in 0..<b {
            for r in 0..<rows {
                for col in 0..<columns {
                    for ci in 0..<c {
                        for p1 in 0..<p {
                            let dst = out.data + ((bi * c + ci) * h + r * p + p1) * w + col * p
                            for p2 in 0..<p { dst[p2] = i.pointee; i += 1 }
                        }
                    }
                }
            }
        }
        return out
    }
}
