extension VAEDecoder {
    /// ``decodeTiled(_:tile:overlap:)`` when `tile` is given, else ``decode(_:)``.
    public func decode(_ z: Tensor, tile: Int?, overlap: Int = 8) throws -> Tensor {
        guard let tile else { return try decode(z) }
        return try decodeTiled(z, tile: tile, overlap: overlap)
    }

    /// Decodes like ``decode(_:)`` but runs the full-resolution part in overlapping tiles of at
    /// most `tile`×`tile` latent pixels, so its working memory depends on the tile, not the image.
    ///
    /// The mid block (with its attention over every pixel) runs once on the whole latent. The up
    /// blocks run per tile, twice: the first pass gathers every GroupNorm's statistics over the
    /// whole image, the second normalises each tile with them, so no tile drifts from its
    /// neighbours. The totals are close to, not exactly, the whole decode's: in the first pass the
    /// layers before each GroupNorm normalised with their tile's own statistics. Each tile owns at
    /// most `tile`×`tile` latent pixels and decodes `overlap` more on every side as context;
    /// neighbours cross-fade in a narrow band around their shared edge.
    /// A latent no larger than one tile is decoded whole.
    public func decodeTiled(_ z: Tensor, tile: Int, overlap: Int) throws -> Tensor {
        let (batch, h, w) = try checkLatents(z)
        guard tile > 0, overlap >= 0 else {
            throw FiTError.invalidInput("tile \(tile) with overlap \(overlap): the tile must be positive and the overlap at least 0")
        }
        if h <= tile && w <= tile { return try decode(z) }
        let f = configuration.downsamplingFactor, channels = configuration.outChannels
        let rows = Self.tiles(length: h, tile: tile, margin: overlap)
        let columns = Self.tiles(length: w, tile: tile, margin: overlap)
        let image = Tensor(zeros: [batch, channels, h * f, w * f])
        let weightSum = TensorStorage(zeros: h * f * w * f)
        let plane = h * f * w * f, latentPlane = h * w
        Parallel.withBLASThreads(1) {
            for b in 0..<batch {
                let out = image.data + b * channels * plane
                let features = decodeHead(z.data + b * configuration.latentChannels * latentPlane, height: h, width: w)
                let statistics = TileStatistics()
                for phase in [TileStatistics.Phase.gathering, .applying] {
                    statistics.phase = phase
                    for row in rows {
                        for column in columns {
                            let crop = crop(features, height: h, width: w, rows: row.span, columns: column.span)
                            statistics.beginTile(height: row.span.count, rows: row.core, columns: column.core)
                            let decoded = TensorStorage(uninitialized: channels * row.span.count * f * column.span.count * f)
                            decodeTail(crop, height: row.span.count, width: column.span.count, into: decoded.pointer, shared: statistics)
                            if phase == .applying {
                                blend(decoded, rows: row, columns: column, overlap: overlap, imageWidth: w,
                                      into: out, plane: plane, weightSum: weightSum.pointer)
                            }
                        }
                    }
                }
                for c in 0..<channels {
                    for i in 0..<plane { out[c * plane + i] /= weightSum.pointer[i] }
                }
                weightSum.pointer.update(repeating: 0, count: plane)
            }
        }
        ScratchPool.shared.drain()
        return image
    }

    /// One tile along an axis: the latent pixels it decodes, and the part it owns (in tile
    /// coordinates); the owned parts of all tiles partition the axis.
    struct TileSpan: Equatable {
        var span: Range<Int>
        var core: Range<Int>
    }

    /// Tiles whose cores (at most `tile` long, as equal as possible) partition `length`; each
    /// decodes its core plus `margin` on both sides (clipped to the axis).
    static func tiles(length: Int, tile: Int, margin: Int) -> [TileSpan] {
        let count = (length + tile - 1) / tile
        return (0..<count).map { i in
            let lower = i * length / count, upper = (i + 1) * length / count
            let span = max(0, lower - margin)..<min(length, upper + margin)
            return TileSpan(span: span, core: (lower - span.lowerBound)..<(upper - span.lowerBound))
        }
    }

    private func crop(_ features: TensorStorage, height: Int, width: Int, rows: Range<Int>, columns: Range<Int>) -> TensorStorage {
        let c = headChannels
        let crop = TensorStorage(zeros: c * rows.count * columns.count)
        for channel in 0..<c {
            for (y, row) in rows.enumerated() {
                (crop.pointer + (channel * rows.count + y) * columns.count)
                    .update(from: features.pointer + (channel * height + row) * width + columns.lowerBound, count: columns.count)
            }
        }
        return crop
    }

    /// Adds a decoded tile into the image. Its weight is 1 over its core and falls linearly to 0
    /// across a band of `2·band` pixels centred on each core edge it shares with a neighbour; the
    /// rest of its margin is context only (its pixels near the tile edge see zero padding).
    private func blend(_ decoded: TensorStorage, rows: TileSpan, columns: TileSpan, overlap: Int, imageWidth w: Int,
                       into out: UnsafeMutablePointer<Float>, plane: Int, weightSum: UnsafeMutablePointer<Float>) {
        let f = configuration.downsamplingFactor, channels = configuration.outChannels
        let th = rows.span.count * f, tw = columns.span.count * f
        let band = max(1, overlap * f / 4)
        let weightY = Self.weights(length: th, core: (rows.core.lowerBound * f)..<(rows.core.upperBound * f), band: band)
        let weightX = Self.weights(length: tw, core: (columns.core.lowerBound * f)..<(columns.core.upperBound * f), band: band)
        for y in 0..<th where weightY[y] > 0 {
            let row = (rows.span.lowerBound * f + y) * w * f + columns.span.lowerBound * f
            for x in 0..<tw where weightX[x] > 0 {
                let weight = weightY[y] * weightX[x]
                weightSum[row + x] += weight
                for c in 0..<channels { out[c * plane + row + x] += weight * decoded.pointer[(c * th + y) * tw + x] }
            }
        }
    }

    /// Blend weights along one axis of a tile of `length` pixels whose own part is `core`: 1
    /// inside, falling linearly to 0 over `band` pixels either side of a core edge that is not
    /// the tile's edge.
    static func weights(length: Int, core: Range<Int>, band: Int) -> [Float] {
        (0..<length).map { i in
            var weight: Float = 1
            if core.lowerBound > 0 { weight = min(weight, Float(i - core.lowerBound + band) / Float(2 * band)) }
            if core.upperBound < length { weight = min(weight, Float(core.upperBound + band - 1 - i) / Float(2 * band)) }
            return max(0, min(1, weight + 0.5 / Float(2 * band)))
        }
    }
}
