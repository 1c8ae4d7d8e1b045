extension Conv2D {
    /// Most floats one thread's transformed input and products may hold (32 MiB).
    static let winogradBudget = 8 << 20

    /// The 3×3 convolution by Winograd F(2×2, 3×3): each 2×2 block of output comes from a 4×4
    /// block of input in 16 products instead of 36, so the GEMM work is 2.25× smaller. Per strip
    /// of block rows: transform the input blocks (V = Bᵀ d B) into 16 (in × blocks) matrices,
    /// multiply each by its weight matrix U (16 GEMMs), transform back (Y = Aᵀ M A).
    func applyWinograd(_ input: UnsafePointer<Float>, height h: Int, width w: Int, scale: Int,
                       into output: UnsafeMutablePointer<Float>, accumulate: Bool) {
        let u = winograd!
        let oh = h * scale, ow = w * scale, pixels = oh * ow
        let tileRows = (oh + 1) / 2, tileColumns = (ow + 1) / 2
        let perTileRow = 16 * (inChannels + outChannels) * tileColumns
        let rowsPerStrip = max(1, min(tileRows, Self.winogradBudget / max(perTileRow, 1)))
        Parallel.forEachChunk(count: tileRows, minimumChunk: 1) { range in
            let capacity = min(rowsPerStrip, range.count) * tileColumns
            let v = TensorStorage(uninitialized: 16 * inChannels * capacity)
            let m = TensorStorage(uninitialized: 16 * outChannels * capacity)
            // Four input rows at output resolution, with a zero column on the left and enough on the right.
            let rowWidth = 2 * tileColumns + 2
            let rows = TensorStorage(uninitialized: 4 * rowWidth)
            var t0 = range.lowerBound
            while t0 < range.upperBound {
                let t1 = min(range.upperBound, t0 + rowsPerStrip)
                let blocks = (t1 - t0) * tileColumns
                for c in 0..<inChannels {
                    let plane = input + c * h * w
                    for tr in t0..<t1 {
                        // Input rows 2·tr − 1 … 2·tr + 2 (zero outside the image).
                        for r in 0..<4 {
                            let dst = rows.pointer + r * rowWidth
                            let y = 2 * tr - 1 + r
                            dst.update(repeating: 0, count: rowWidth)
                            guard y >= 0 && y < oh else { continue }
                            let src = plane + (y / scale) * w
                            if scale == 1 {
                                (dst + 1).update(from: src, count: w)
                            } else {
                                for x in 0..<w { dst[1 + 2 * x] = src[x]; dst[2 + 2 * x] = src[x] }
                            }
                        }
                        transformInput(rows.pointer, rowWidth: rowWidth, tiles: tileColumns,
                                       into: v.pointer + c * blocks + (tr - t0) * tileColumns, matrixStride: inChannels * blocks)
                    }
                }
                for xi in 0..<16 {
                    BLAS.gemm(m: outChannels, n: blocks, k: inChannels, a: u.storage.pointer + xi * outChannels * inChannels,
                              lda: inChannels, b: v.pointer + xi * inChannels * blocks, ldb: blocks,
                              c: m.pointer + xi * outChannels * blocks, ldc: blocks)
                }
                for o in 0..<outChannels {
                    transformOutput(m.pointer + o * blocks, matrixStride: outChannels * blocks, tileRows: t0..<t1,
                                    tileColumns: tileColumns, bias: bias.data[o], outputHeight: oh, outputWidth: ow,
                                    into: output + o * pixels, accumulate: accumulate)
                }
                t0 = t1
            }
        }
    }

    /// V = Bᵀ d B for the `tiles` 4×4 blocks of four rows; element ξ of block t goes to
    /// `v[ξ · matrixStride + t]`.
    @inline(__always)
    private func transformInput(_ rows: UnsafePointer<Float>, rowWidth: Int, tiles: Int,
                                into v: UnsafeMutablePointer<Float>, matrixStride: Int) {
        let d0 = rows, d1 = rows + rowWidth, d2 = rows + 2 * rowWidth, d3 = rows + 3 * rowWidth
        for t in 0..<tiles {
            let x = 2 * t
            // Bᵀ d: rows d0 − d2, d1 + d2, d2 − d1, d1 − d3 (each over the block's 4 columns).
            let a = SIMD4(d0[x], d0[x + 1], d0[x + 2], d0[x + 3]), b = SIMD4(d1[x], d1[x + 1], d1[x + 2], d1[x + 3])
            let c = SIMD4(d2[x], d2[x + 1], d2[x + 2], d2[x + 3]), d = SIMD4(d3[x], d3[x + 1], d3[x + 2], d3[x + 3])
            let rows = (a - c, b + c, c - b, b - d)
            // (Bᵀ d) B: the same combination along each row.
            for (r, s) in [rows.0, rows.1, rows.2, rows.3].enumerated() {
                let base = v + 4 * r * matrixStride + t
                base[0] = s[0] - s[2]
                base[matrixStride] = s[1] + s[2]
                base[2 * matrixStride] = s[2] - s[1]
                base[3 * matrixStride] = s[1] - s[3]
            }
        }
    }

    /// Y = Aᵀ M A for one output channel's blocks in tile rows `tileRows`; element ξ of block t
    /// is `m[ξ · matrixStride + t]`. Adds the bias, and what `output` holds when accumulating.
    @inline(__always)
    private func transformOutput(_ m: UnsafePointer<Float>, matrixStride: Int, tileRows: Range<Int>, tileColumns: Int,
                                 bias: Float, outputHeight oh: Int, outputWidth ow: Int,
                                 into output: UnsafeMutablePointer<Float>, accumulate: Bool) {
        for (i, tr) in tileRows.enumerated() {
            for tx in 0..<tileColumns {
                let t = i * tileColumns + tx
                func row(_ r: Int) -> SIMD4<Float> {
                    SIMD4(m[(4 * r) * matrixStride + t], m[(4 * r + 1) * matrixStride + t],
                          m[(4 * r + 2) * matrixStride + t], m[(4 * r + 3) * matrixStride + t])
                }
                let (r0, r1, r2, r3) = (row(0), row(1), row(2), row(3))
                // Aᵀ M: rows r0 + r1 + r2 and r1 − r2 − r3; then the same along each row.
                let s0 = r0 + r1 + r2, s1 = r1 - r2 - r3
                let y00 = s0[0] + s0[1] + s0[2] + bias, y01 = s0[1] - s0[2] - s0[3] + bias
                let y10 = s1[0] + s1[1] + s1[2] + bias, y11 = s1[1] - s1[2] - s1[3] + bias
                let y = 2 * tr, x = 2 * tx
                let top = output + y * ow + x
                if accumulate { top[0] += y00 } else { top[0] = y00 }
                if x + 1 < ow { if accumulate { top[1] += y01 } else { top[1] = y01 } }
                if y + 1 < oh {
                    let bottom = top + ow
                    if accumulate { bottom[0] += y10 } else { bottom[0] = y10 }
                    if x + 1 < ow { if accumulate { bottom[1] += y11 } else { bottom[1] = y11 } }
                }
            }
        }
    }
}
