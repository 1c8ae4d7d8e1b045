/// GroupNorm statistics shared by all tiles of one image, so that tiled decoding normalises
/// every tile with the same mean and variance instead of its own (which would show as seams and
/// colour shifts between tiles).
///
/// Tiled decoding runs twice: while ``phase`` is `.gathering`, every GroupNorm normalises with
/// its tile's own statistics and adds the sums over the tile's core (the part of the image that
/// tile owns) to the totals; while `.applying`, every GroupNorm uses the totals. GroupNorms are
/// told apart by the order in which they run, which is the same for every tile.
final class TileStatistics {
    enum Phase { case gathering, applying }

    var phase = Phase.gathering
    /// Per GroupNorm (in call order), per group: sum, sum of squares, count.
    private var totals: [[(sum: Double, squares: Double, count: Double)]] = []
    private var nextNorm = 0
    /// The rows and columns of the current tile that it owns, at latent resolution.
    private var coreRows = 0..<0, coreColumns = 0..<0
    private var tileHeight = 1

    /// Starts a tile of `height` latent rows owning `rows`×`columns` (tile coordinates).
    func beginTile(height: Int, rows: Range<Int>, columns: Range<Int>) {
        nextNorm = 0; tileHeight = height; coreRows = rows; coreColumns = columns
    }

    /// The mean and inverse standard deviation to normalise group `group` of the current
    /// GroupNorm with, given the tile's own `local` values; records sums while gathering.
    /// `input` is the GroupNorm's (channels, height, width) input.
    func normalization(for norm: GroupNorm, input: UnsafePointer<Float>, height: Int, width: Int,
                       local: [(mean: Double, inverse: Double)]) -> [(mean: Double, inverse: Double)] {
        defer { nextNorm += 1 }
        let groups = norm.groups, perGroup = norm.channels / groups
        switch phase {
        case .gathering:
            if totals.count <= nextNorm { totals.append(Array(repeating: (0, 0, 0), count: groups)) }
            let scale = height / tileHeight
            let rows = (coreRows.lowerBound * scale)..<(coreRows.upperBound * scale)
            let columns = (coreColumns.lowerBound * scale)..<(coreColumns.upperBound * scale)
            for g in 0..<groups {
                var sum = 0.0, squares = 0.0
                for c in (g * perGroup)..<((g + 1) * perGroup) {
                    for y in rows {
                        let m = Kernels.moments(input + (c * height + y) * width + columns.lowerBound,
                                                count: columns.count, center: 0)
                        sum += m.sum; squares += m.squares
                    }
                }
                totals[nextNorm][g].sum += sum
                totals[nextNorm][g].squares += squares
                totals[nextNorm][g].count += Double(perGroup * rows.count * columns.count)
            }
            return local
        case .applying:
            return totals[nextNorm].map { norm.normalization(center: 0, sum: $0.sum, squares: $0.squares, count: $0.count) }
        }
    }
}
