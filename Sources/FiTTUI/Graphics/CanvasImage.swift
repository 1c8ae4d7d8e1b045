import FiTKit
import Foundation

/// A picture the explorer shows through an image protocol, and the cell area it may fill (a
/// canvas panel below its label).
struct CanvasImage: Equatable {
    var x: Int
    var y: Int
    var columns: Int
    var rows: Int
    var image: RGBImage

    /// Where the picture goes: as large as the area allows with its aspect ratio kept, centred,
    /// in cells (`column`, `row`, `columns`, `rows`) and its size in terminal pixels, for cells of
    /// `cellPixels` (8×16 when the terminal does not say).
    func fitted(cellPixels: TerminalQuery.PixelSize?) -> (column: Int, row: Int, columns: Int, rows: Int, width: Int, height: Int) {
        let cell = cellPixels ?? TerminalQuery.PixelSize(width: 8, height: 16)
        let scale = min(Double(columns * cell.width) / Double(max(image.width, 1)),
                        Double(rows * cell.height) / Double(max(image.height, 1)))
        let width = max(1, Int(Double(image.width) * scale)), height = max(1, Int(Double(image.height) * scale))
        let boxColumns = min(columns, max(1, (width + cell.width - 1) / cell.width))
        let boxRows = min(rows, max(1, (height + cell.height - 1) / cell.height))
        return (x + (columns - boxColumns) / 2, y + (rows - boxRows) / 2, boxColumns, boxRows, width, height)
    }
}
