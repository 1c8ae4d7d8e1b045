import FiTKit

/// A named image size the explorer's size row steps through (width × height in pixels).
struct SizePreset: Equatable, Sendable {
    /// What the sidebar shows, e.g. `4:3 36x28`.
    var label: String
    var width: Int
    var height: Int

    /// Ratios 1:1, 4:3, 3:4, 3:2, 16:9, 2:1, 1:2, 3:1 at the training area (`nativeSide`²) and at
    /// 1.5× its side, each side snapped to a multiple of `step` within `step…maximumSide`.
    static func standard(nativeSide: Int, step: Int, maximumSide: Int) -> [SizePreset] {
        let ratios: [(Int, Int)] = [(1, 1), (4, 3), (3, 4), (3, 2), (16, 9), (2, 1), (1, 2), (3, 1)]
        func snap(_ v: Double) -> Int { ImageGeometry.snap(v, step: step, maximumSide: maximumSide) }
        return [1.0, 1.5].flatMap { scale in
            ratios.map { a, b in
                let side = Double(nativeSide) * scale
                let w = snap(side * (Double(a) / Double(b)).squareRoot()), h = snap(side * (Double(b) / Double(a)).squareRoot())
                return SizePreset(label: "\(a):\(b) \(w)x\(h)", width: w, height: h)
            }
        }
    }
}
