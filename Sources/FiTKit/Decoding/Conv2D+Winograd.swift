extension Conv2D {
    /// Most floats one thread's transformed input and products may hold (32 MiB).
    static let winogradBudget = 8 << 20

    /// The 3×3 convolution by Winograd F(2×2, 3×3): each 2×2 block of output comes from a 4×4
    /// block of input in 16 products instead of 36, so the GEMM work is 2.25× smaller. Per strip
    /// of block rows: transform the input blocks (V = Bᵀ d B) into 16 (in × blocks) matrices,
    /// multiply each by its weight matrix U (16 GEMMs), transform back (Y = Aᵀ M A).
    func applyWinograd(_ input: UnsafePointer<Float>, height h: Int, width w: Int, scale: Int, normalizing: ChannelAffine?,
                       into output: UnsafeMutablePointer<Float>, accumulate: Bool) {
        let u = winograd!
        let oh = h * scale, ow = w * scale, pixels = oh * ow
        let tileRows = (oh + 1) / 2, tileColumns = (ow + 1) / 2
        let perTileRow = 16 * (inChannels + outChannels) * tileColumns
        let rowsPerStrip = max(1, min(tileRows, Self.winogradBudget / max(perTileRow, 1)))
        Parallel.forEachChunk(count: tileRows, minimumChunk: 1) { range in
            let capacity = min(rowsPerStrip, range.count) * tileColumns
            let v = ScratchPool.shared.borrow(16 * inChannels * capacity)
            let m = ScratchPool.shared.borrow(16 * outChannels * capacity)
            // One channel's input rows of a strip at output resolution (normalised when asked),
            // with a zero column on the left and zeros to the right.
            let rowWidth = 2 * tileColumns + 2
            let rows = ScratchPool.shared.borrow((2 * min(rowsPerStrip, range.count) + 2) * rowWidth)
            defer { for buffer in [v, m, rows] { ScratchPool.shared.giveBack(buffer) } }
            var t0 = range.lowerBound
            while t0 < range.upperBound {
                let t1 = min(range.upperBound, t0 + rowsPerStrip)
                let blocks = (t1 - t0) * tileColumns
                for c in 0..<inChannels {
                    let plane = input + c * h * w
                    // Rows 2·t0 − 1 … 2·t1 (zero outside the image); tile row tr reads four from 2·(tr − t0).
                    for r in 0..<(2 * (t1 - t0) + 2) {
                        let dst = rows.pointer + r * rowWidth
                        let y = 2 * t0 - 1 + r
                        guard y >= 0 && y < oh else { dst.update(repeating: 0, count: rowWidth); continue }
                        dst[0] = 0
                        (dst + 1 + ow).update(repeating: 0, count: rowWidth - 1 - ow)
                        let src = plane + (y / scale) * w
                        if scale == 1 {
                            (dst + 1).update(from: src, count: w)
                        } else {
                            for x in 0..<w { dst[1 + 2 * x] = src[x]; dst[2 + 2 * x] = src[x] }
                        }
                        normalizing?.apply(dst + 1, into: dst + 1, count: ow, channel: c)
                    }
                    for tr in t0..<t1 {
                        transformInput(rows.pointer + 2 * (tr - t0) * rowWidth, rowWidth: rowWidth, tiles: tileColumns,
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
    /// `v[ξ · matrixStride + t]`. Eight blocks at a time: their columns are the even and odd
    /// lanes of two overlapping 16-float loads.
    @inline(__always)
    private func transformInput(_ rows: UnsafePointer<Float>, rowWidth: Int, tiles: Int,
                                into v: UnsafeMutablePointer<Float>, matrixStride: Int) {
        var t = 0
        while t + 8 <= tiles {
            func columns(_ row: UnsafePointer<Float>) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
                let a = Kernels.load(row, 2 * t), b = Kernels.load(row, 2 * t + 2)
                return (a.evenHalf, a.oddHalf, b.evenHalf, b.oddHalf)
            }
            let d0 = columns(rows), d1 = columns(rows + rowWidth)
            let d2 = columns(rows + 2 * rowWidth), d3 = columns(rows + 3 * rowWidth)
            // Bᵀ d: rows d0 − d2, d1 + d2, d2 − d1, d1 − d3; then the same along each row.
            let bd = [(d0.0 - d2.0, d0.1 - d2.1, d0.2 - d2.2, d0.3 - d2.3),
                      (d1.0 + d2.0, d1.1 + d2.1, d1.2 + d2.2, d1.3 + d2.3),
                      (d2.0 - d1.0, d2.1 - d1.1, d2.2 - d1.2, d2.3 - d1.3),
                      (d1.0 - d3.0, d1.1 - d3.1, d1.2 - d3.2, d1.3 - d3.3)]
            for (r, s) in bd.enumerated() {
                let base = UnsafeMutableRawPointer(v + 4 * r * matrixStride + t)
                base.storeBytes(of: s.0 - s.2, as: SIMD8<Float>.self)
                base.storeBytes(of: s.1 + s.2, toByteOffset: 4 * matrixStride, as: SIMD8<Float>.self)
                base.storeBytes(of: s.2 - s.1, toByteOffset: 8 * matrixStride, as: SIMD8<Float>.self)
                base.storeBytes(of: s.1 - s.3, toByteOffset: 12 * matrixStride, as: SIMD8<Float>.self)
            }
            t += 8
        }
        let d0 = rows, d1 = rows + rowWidth, d2 = rows + 2 * rowWidth, d3 = rows + 3 * rowWidth
        while t < tiles {
            let x = 2 * t
            let a = SIMD4(d0[x], d0[x + 1], d0[x + 2], d0[x + 3]), b = SIMD4(d1[x], d1[x + 1], d1[x + 2], d1[x + 3])
            let c = SIMD4(d2[x], d2[x + 1], d2[x + 2], d2[x + 3]), d = SIMD4(d3[x], d3[x + 1], d3[x + 2], d3[x + 3])
            for (r, s) in [a - c, b + c, c - b, b - d].enumerated() {
                let base = v + 4 * r * matrixStride + t
                base[0] = s[0] - s[2]
                base[matrixStride] = s[1] + s[2]
                base[2 * matrixStride] = s[2] - s[1]
                base[3 * matrixStride] = s[1] - s[3]
            }
            t += 1
        }
    }

    /// Y = Aᵀ M A for one output channel's blocks in tile rows `tileRows`; element ξ of block t
    /// is `m[ξ · matrixStride + t]`. Adds the bias, and what `output` holds when accumulating.
    /// Eight blocks at a time where all of them lie inside the image.
    @inline(__always)
    private func transformOutput(_ m: UnsafePointer<Float>, matrixStride: Int, tileRows: Range<Int>, tileColumns: Int,
                                 bias: Float, outputHeight oh: Int, outputWidth ow: Int,
                                 into output: UnsafeMutablePointer<Float>, accumulate: Bool) {
        for (i, tr) in tileRows.enumerated() {
            let y = 2 * tr, full = y + 1 < oh
            var tx = 0
            while full && tx + 8 <= tileColumns && 2 * (tx + 7) + 1 < ow {
                let t = i * tileColumns + tx
                func load(_ xi: Int) -> SIMD8<Float> { UnsafeRawPointer(m + xi * matrixStride + t).loadUnaligned(as: SIMD8<Float>.self) }
                // Aᵀ M: rows m0 + m1 + m2 and m1 − m2 − m3 (each over the block's 4 columns).
                let s0 = (load(0) + load(4) + load(8), load(1) + load(5) + load(9), load(2) + load(6) + load(10), load(3) + load(7) + load(11))
                let s1 = (load(4) - load(8) - load(12), load(5) - load(9) - load(13), load(6) - load(10) - load(14), load(7) - load(11) - load(15))
                let y00 = s0.0 + s0.1 + s0.2 + bias, y01 = s0.1 - s0.2 - s0.3 + bias
                let y10 = s1.0 + s1.1 + s1.2 + bias, y11 = s1.1 - s1.2 - s1.3 + bias
                let top = output + y * ow + 2 * tx, bottom = top + ow
                for j in 0..<8 {
                    if accumulate {
                        top[2 * j] += y00[j]; top[2 * j + 1] += y01[j]; bottom[2 * j] += y10[j]; bottom[2 * j + 1] += y11[j]
                    } else {
                        top[2 * j] = y00[j]; top[2 * j + 1] = y01[j]; bottom[2 * j] = y10[j]; bottom[2 * j + 1] = y11[j]
                    }
                }
                tx += 8
            }
            while tx < tileColumns {
                let t = i * tileColumns + tx
                func row(_ r: Int) -> SIMD4<Float> {
                    SIMD4(m[(4 * r) * matrixStride + t], m[(4 * r + 1) * matrixStride + t],
                          m[(4 * r + 2) * matrixStride + t], m[(4 * r + 3) * matrixStride + t])
                }
                let (r0, r1, r2, r3) = (row(0), row(1), row(2), row(3))
                let s0 = r0 + r1 + r2, s1 = r1 - r2 - r3
                let y00 = s0[0] + s0[1] + s0[2] + bias, y01 = s0[1] - s0[2] - s0[3] + bias
                let y10 = s1[0] + s1[1] + s1[2] + bias, y11 = s1[1] - s1[2] - s1[3] + bias
                let x = 2 * tx
                let top = output + y * ow + x
                if accumulate { top[0] += y00 } else { top[0] = y00 }
                if x + 1 < ow { if accumulate { top[1] += y01 } else { top[1] = y01 } }
                if full {
                    let bottom = top + ow
                    if accumulate { bottom[0] += y10 } else { bottom[0] = y10 }
                    if x + 1 < ow { if accumulate { bottom[1] += y11 } else { bottom[1] = y11 } }
                }
                tx += 1
            }
        }
    }
}
