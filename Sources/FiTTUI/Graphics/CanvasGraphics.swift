import FiTKit

/// What the explorer sends, frame by frame, to show its canvas pictures through an image protocol
/// (kitty, sixel, iTerm2) on top of the ncurses screen. Pure: it is told what the canvas shows
/// and when, and answers with the bytes to write and whether ncurses must repaint first.
///
/// - Only changed pictures are sent: the same pictures in the same boxes send nothing.
/// - At most one update per ``minimumInterval`` seconds; a newer picture waits (``Update/pending``)
///   and goes out once the interval has passed, so stepping quickly over a slow link sends only
///   what the user stops on.
/// - Hidden (an overlay, a too-small or resized screen, keys held down): kitty images are deleted;
///   sixel and iTerm2 pictures live in the cells, so ncurses repaints the screen over them.
struct CanvasGraphics {
    /// The protocol; never ``GraphicsProtocol/none``.
    let graphics: GraphicsProtocol
    /// Terminal pixels per cell, for sixel (nil: 8×16).
    var cellPixels: TerminalQuery.PixelSize?
    /// Least time between two updates, in seconds.
    var minimumInterval = 0.1

    /// The pictures on the screen now.
    private(set) var shown: [CanvasImage] = []
    private var lastSent = -Double.infinity
    /// Bytes of the last update that sent pictures.
    private(set) var lastFrameBytes = 0

    /// One frame's output.
    struct Update: Equatable {
        /// Repaint every cell before drawing (removes sixel and iTerm2 pictures).
        var repaint = false
        /// Bytes to write after ncurses has drawn the frame.
        var output = ""
        /// A changed picture waits for the interval; ask again soon.
        var pending = false
    }

    init(graphics: GraphicsProtocol, cellPixels: TerminalQuery.PixelSize? = nil) {
        precondition(graphics != .none, "half blocks need no CanvasGraphics")
        self.graphics = graphics
        self.cellPixels = cellPixels
    }

    /// The update for a frame whose canvas shows `images` (`visible`) or must show none, at time
    /// `now` (seconds, monotonic).
    mutating func update(_ images: [CanvasImage], visible: Bool, now: Double) throws -> Update {
        guard visible, !images.isEmpty else { return hide() }
        if images == shown { return Update() }
        if now - lastSent < minimumInterval { return Update(pending: true) }
        var update = Update()
        // Boxes that moved or changed size leave old pixels behind: clear them first.
        let sameBoxes = images.count == shown.count && zip(images, shown).allSatisfy { $0.x == $1.x && $0.y == $1.y && $0.columns == $1.columns && $0.rows == $1.rows }
        if !shown.isEmpty && !sameBoxes {
            if let clear = graphics.clearAll { update.output += clear } else { update.repaint = true }
        }
        for (index, image) in images.enumerated() where update.repaint || !sameBoxes || shown[index] != image {
            update.output += try graphics.place(image, id: index + 1, cellPixels: cellPixels) ?? ""
        }
        shown = images
        lastSent = now
        lastFrameBytes = update.output.utf8.count
        return update
    }

    /// Removes whatever is shown (a resize, an overlay, keys held down, exit).
    mutating func hide() -> Update {
        guard !shown.isEmpty else { return Update() }
        shown = []
        if let clear = graphics.clearAll { return Update(output: clear) }
        return Update(repaint: true)
    }

    /// Forgets what is shown without sending anything: after the terminal cleared its screen
    /// (a resize), so the next update sends every picture again.
    mutating func forget() { shown = [] }
}
