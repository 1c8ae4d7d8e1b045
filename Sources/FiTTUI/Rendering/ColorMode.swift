/// How many colours the terminal shows, from best to last resort.
enum ColorMode: String, CaseIterable, Sendable {
    case truecolor
    case palette256 = "256"
    case palette16 = "16"
    case none

    /// The palette index (16–255) nearest to `c`: the 6×6×6 cube by midpoints, or the grey ramp,
    /// whichever is closer (docs/terminal.md §1.3).
    static func index256(_ c: RGB) -> Int {
        let levels: [Int] = [0, 0x5F, 0x87, 0xAF, 0xD7, 0xFF]
        func cubeIndex(_ v: UInt8) -> Int {
            let v = Int(v)
            var i = 0
            while i < 5 && v > (levels[i] + levels[i + 1]) / 2 { i += 1 }
            return i
        }
        let (ri, gi, bi) = (cubeIndex(c.r), cubeIndex(c.g), cubeIndex(c.b))
        let cube = RGB(UInt8(levels[ri]), UInt8(levels[gi]), UInt8(levels[bi]))
        let average = (Int(c.r) + Int(c.g) + Int(c.b)) / 3
        let greyIndex = min(max((average - 8 + 5) / 10, 0), 23)
        let greyLevel = UInt8(8 + 10 * greyIndex)
        let grey = RGB(greyLevel, greyLevel, greyLevel)
        return c.distance(to: grey) < c.distance(to: cube) ? 232 + greyIndex : 16 + 36 * ri + 6 * gi + bi
    }

    /// The colour a 256-palette index shows (for 16…255).
    static func color256(_ index: Int) -> RGB {
        if index >= 232 { let v = UInt8(8 + 10 * (index - 232)); return RGB(v, v, v) }
        let levels: [UInt8] = [0, 0x5F, 0x87, 0xAF, 0xD7, 0xFF]
        let i = index - 16
        return RGB(levels[i / 36], levels[(i / 6) % 6], levels[i % 6])
    }

    /// xterm's default 16 colours.
    static let sixteenColors: [RGB] = [
        RGB(0, 0, 0), RGB(205, 0, 0), RGB(0, 205, 0), RGB(205, 205, 0), RGB(0, 0, 238), RGB(205, 0, 205),
        RGB(0, 205, 205), RGB(229, 229, 229), RGB(127, 127, 127), RGB(255, 0, 0), RGB(0, 255, 0),
        RGB(255, 255, 0), RGB(92, 92, 255), RGB(255, 0, 255), RGB(0, 255, 255), RGB(255, 255, 255),
    ]

    /// The nearest of the 16 colours.
    static func index16(_ c: RGB) -> Int {
        sixteenColors.indices.min { sixteenColors[$0].distance(to: c) < sixteenColors[$1].distance(to: c) }!
    }
}
