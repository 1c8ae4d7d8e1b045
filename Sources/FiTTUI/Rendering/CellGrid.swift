/// One character cell: a glyph with foreground and background colours.
struct Cell: Equatable, Sendable {
    var character: Character = " "
    var foreground = RGB.white
    var background = RGB.black
    var bold = false
}

/// A screen's worth of cells: what every view draws into and what the terminal backend shows.
struct CellGrid: Equatable, Sendable {
    let width: Int
    let height: Int
    private(set) var cells: [Cell]

    init(width: Int, height: Int, fill: Cell = Cell()) {
        self.width = max(width, 0)
        self.height = max(height, 0)
        cells = Array(repeating: fill, count: self.width * self.height)
    }

    subscript(x: Int, y: Int) -> Cell {
        get { cells[y * width + x] }
        set { if x >= 0, y >= 0, x < width, y < height { cells[y * width + x] = newValue } }
    }

    /// Writes `text` from (x, y), clipped to the grid and to `maxWidth` columns.
    mutating func write(_ text: String, x: Int, y: Int, foreground: RGB, background: RGB, bold: Bool = false, maxWidth: Int? = nil) {
        guard y >= 0, y < height else { return }
        let limit = min(width, x + (maxWidth ?? width))
        var column = x
        for ch in text where column < limit {
            if column >= 0 { self[column, y] = Cell(character: ch, foreground: foreground, background: background, bold: bold) }
            column += 1
        }
    }

    /// Fills a rectangle with `cell`.
    mutating func fill(x: Int, y: Int, width w: Int, height h: Int, with cell: Cell) {
        for row in max(y, 0)..<min(y + h, height) {
            for column in max(x, 0)..<min(x + w, width) { self[column, row] = cell }
        }
    }

    /// Copies `grid` with its top-left corner at (x, y), clipped.
    mutating func place(_ grid: CellGrid, x: Int, y: Int) {
        for row in 0..<grid.height { for column in 0..<grid.width { self[x + column, y + row] = grid[column, row] } }
    }

    /// The characters of row `y` (for tests and plain dumps).
    func text(row y: Int) -> String { String((0..<width).map { self[$0, y].character }) }
}
