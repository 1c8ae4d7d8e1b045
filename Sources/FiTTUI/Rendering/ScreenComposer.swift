import FiTKit
import Foundation

/// Draws the whole explorer screen for a state: title, settings sidebar, canvas, timeline,
/// status line, hint bar and overlays. Pure: state in, cells out.
struct ScreenComposer {
    static let minimumColumns = 60
    static let minimumRows = 16
    static let sidebarWidth = 30

    var theme: Theme
    var renderer: HalfBlockRenderer
    /// The canvas pictures are shown through an image protocol (``canvasImages(_:)``): their
    /// areas stay blank here.
    var pixelCanvas = false

    func compose(_ state: AppState) -> CellGrid {
        let (w, h) = (state.columns, state.rows)
        var grid = CellGrid(width: w, height: h, fill: Cell(foreground: theme[.mainForeground], background: theme[.mainBackground]))
        guard w >= Self.minimumColumns, h >= Self.minimumRows else {
            let lines = ["Terminal too small", "need \(Self.minimumColumns)x\(Self.minimumRows), have \(w)x\(h)", "enlarge the window or press q"]
            for (i, line) in lines.enumerated() {
                grid.write(line, x: max((w - line.count) / 2, 0), y: h / 2 - 1 + i, foreground: i == 0 ? theme[.error] : theme[.mainForeground],
                           background: theme[.mainBackground], bold: i == 0)
            }
            return grid
        }
        drawTitle(&grid, state)
        drawSidebar(&grid, state)
        drawCanvas(&grid, state)
        drawTimeline(&grid, state)
        drawStatus(&grid, state)
        drawHints(&grid, state)
        if let overlay = state.overlay { drawOverlay(&grid, state, overlay) }
        return grid
    }

    private func drawTitle(_ g: inout CellGrid, _ s: AppState) {
        g.fill(x: 0, y: 0, width: g.width, height: 1, with: Cell(background: theme[.statusBackground]))
        g.write(" FiT Explorer · \(s.model.name) · \(s.model.className(s.settings.classID))", x: 0, y: 0,
                foreground: theme[.title], background: theme[.statusBackground], bold: true)
    }

    private func drawSidebar(_ g: inout CellGrid, _ s: AppState) {
        let x = 1, width = Self.sidebarWidth - 2
        g.write("Settings\(s.focus == .settings ? " ◆" : "")", x: x, y: 2, foreground: theme[.title], background: theme[.mainBackground], bold: true)
        for setting in Setting.allCases {
            let y = 3 + setting.rawValue
            let selected = setting == s.selectedSetting
            let bg = selected && s.focus == .settings ? theme[.selectedBackground] : theme[.mainBackground]
            let fg = selected ? theme[.selectedForeground] : theme[.mainForeground]
            g.fill(x: x, y: y, width: width, height: 1, with: Cell(background: bg))
            g.write(setting.title.padding(toLength: 9, withPad: " ", startingAt: 0), x: x, y: y, foreground: theme[.inactive], background: bg)
            g.write(s.display(setting), x: x + 9, y: y, foreground: fg, background: bg, bold: selected, maxWidth: width - 9)
        }
        var y = 4 + Setting.allCases.count
        if let compare = s.compare {
            let other = laneSettings(s).dropFirst().first?.label
            g.write("compare: \(compare.rawValue)\(other.map { " → \($0)" } ?? "")", x: x, y: y, foreground: theme[.highlight], background: theme[.mainBackground], maxWidth: width)
            y += 1
        }
        let view = s.shownView == s.view ? s.view.rawValue : "\(s.shownView.rawValue) (x_t | x0: one lane)"
        g.write("view: \(view)", x: x, y: y, foreground: theme[.inactive], background: theme[.mainBackground], maxWidth: width)
        g.write("export: ×\(s.exportScale) (x)", x: x, y: y + 1, foreground: theme[.inactive], background: theme[.mainBackground], maxWidth: width)
        g.write("precision: \(s.model.precision.rawValue)", x: x, y: y + 2, foreground: theme[.inactive], background: theme[.mainBackground], maxWidth: width)
        for row in 1..<(g.height - 3) { g[Self.sidebarWidth - 1, row] = Cell(character: "│", foreground: theme[.divider], background: theme[.mainBackground]) }
    }

    /// The clean picture of a lane at the shown step and how it was made: for latent models the
    /// VAE decode when there is one (the final image at the last step, or a step decoded with d),
    /// else the linear preview.
    private func clean(_ lane: Lane, _ frame: StepFrame?, _ s: AppState) -> (image: RGBImage?, tag: String) {
        guard s.model.previewsAreApproximate, let frame else { return (frame?.x0, "") }
        if frame.isFinal { return (frame.x0, " · VAE (final)") }
        if let decoded = frame.x0Decoded { return (decoded, " · VAE") }
        return (frame.x0, " · preview (d: decode)")
    }

    /// The canvas box: right of the sidebar, between the title and the timeline.
    func canvasRect(_ s: AppState) -> (x: Int, y: Int, width: Int, height: Int) {
        (Self.sidebarWidth, 1, s.columns - Self.sidebarWidth, s.rows - 4)
    }

    private func drawCanvas(_ g: inout CellGrid, _ s: AppState) {
        let r = canvasRect(s)
        g.fill(x: r.x, y: r.y, width: r.width, height: r.height, with: Cell(foreground: theme[.canvasBackground], background: theme[.canvasBackground]))
        guard !s.lanes.isEmpty else {
            let text = "press g to generate · ? for help"
            g.write(text, x: r.x + max((r.width - text.count) / 2, 0), y: r.y + r.height / 2, foreground: theme[.mainForeground], background: theme[.canvasBackground])
            return
        }
        let panels = self.panels(s)
        let panelWidth = r.width / panels.count
        for (i, (label, image)) in panels.enumerated() {
            let px = r.x + i * panelWidth
            g.write(label, x: px + max((panelWidth - label.count) / 2, 0), y: r.y, foreground: theme[.highlight], background: theme[.canvasBackground], maxWidth: panelWidth)
            if let image, !pixelCanvas {
                let cells = renderer.render(image, columns: panelWidth - 2, rows: r.height - 1, background: theme[.canvasBackground])
                g.place(cells, x: px + 1, y: r.y + 1)
            }
        }
    }

    /// The canvas panels, labelled: one per lane, or x_t and x0 side by side for a single lane in
    /// "both" view.
    private func panels(_ s: AppState) -> [(label: String, image: RGBImage?)] {
        var panels: [(String, RGBImage?)] = []
        for lane in s.lanes {
            let frame = lane.frames.indices.contains(s.position) ? lane.frames[s.position] : lane.frames.last
            let prefix = lane.label.isEmpty ? "" : lane.label + " · "
            let x0 = clean(lane, frame, s), xtTag = s.model.previewsAreApproximate ? " · preview" : ""
            if s.shownView == .both {
                panels.append(("x_t" + xtTag, frame?.xt))
                panels.append(("x0" + x0.tag, x0.image))
            } else if s.shownView == .xt {
                panels.append((prefix + "x_t" + xtTag, frame?.xt))
            } else {
                panels.append((prefix + "x0" + x0.tag, x0.image))
            }
        }
        return panels
    }

    /// The canvas pictures and the cell area of each panel below its label, which an image
    /// protocol fills (aspect ratio kept) instead of the half-block art. Empty when the screen is
    /// too small or nothing has been generated.
    func canvasImages(_ s: AppState) -> [CanvasImage] {
        guard s.columns >= Self.minimumColumns, s.rows >= Self.minimumRows, !s.lanes.isEmpty else { return [] }
        let r = canvasRect(s)
        let panels = self.panels(s)
        let panelWidth = r.width / panels.count
        let columns = panelWidth - 2, rows = r.height - 1
        guard columns > 0, rows > 0 else { return [] }
        return panels.enumerated().compactMap { i, panel in
            guard let image = panel.image, image.width > 0, image.height > 0 else { return nil }
            return CanvasImage(x: r.x + i * panelWidth + 1, y: r.y + 1, columns: columns, rows: rows, image: image)
        }
    }

    private func drawTimeline(_ g: inout CellGrid, _ s: AppState) {
        let y = g.height - 3, x0 = Self.sidebarWidth, width = g.width - Self.sidebarWidth - 1
        g.fill(x: 0, y: y, width: g.width, height: 1, with: Cell(background: theme[.mainBackground]))
        // Positions: every step, plus the finished image once there.
        let total = s.lanes.first.flatMap { lane in lane.frames.last.map { ($0.count ?? s.availableSteps) + (lane.final == nil ? 0 : 1) } }
            ?? max(s.availableSteps, 1)
        let available = s.availableSteps
        g.write(s.focus == .canvas ? "timeline ◆" : "timeline", x: 1, y: y, foreground: s.focus == .canvas ? theme[.title] : theme[.inactive],
                background: theme[.mainBackground], bold: s.focus == .canvas)
        guard width > 2, total > 0 else { return }
        let marker = s.position * width / max(total, 1)
        for i in 0..<width {
            let done = i * total / width < available
            let here = available > 0 && i == marker
            let color = done ? blend(theme[.progressStart], theme[.progressEnd], Double(i) / Double(width)) : theme[.divider]
            g[x0 + i, y] = Cell(character: here ? "▲" : (done ? "━" : "─"), foreground: here ? theme[.highlight] : color, background: theme[.mainBackground])
        }
    }

    private func drawStatus(_ g: inout CellGrid, _ s: AppState) {
        let y = g.height - 2
        g.fill(x: 0, y: y, width: g.width, height: 1, with: Cell(background: theme[.statusBackground]))
        var parts: [String] = []
        if let lane = s.lanes.first, !lane.frames.isEmpty {
            let frame = lane.frames[min(s.position, lane.frames.count - 1)]
            let total = frame.count.map(String.init) ?? "?"
            parts.append(frame.isFinal ? "finished image" : "step \(s.position + 1)/\(total)")
            parts.append(lane.settings.sampler.isFlow ? String(format: "t=%.3f", frame.t) : "t=\(Int(frame.t))")
            if s.isGenerating {
                let rate = s.lanes.map(\.stepsPerSecond).min() ?? 0
                parts.append(String(format: "%.2f it/s", rate))
                if let count = frame.count, rate > 0 {
                    parts.append("ETA " + DurationText.clock(Double(count - s.availableSteps) / rate))
                }
            }
            parts.append(s.playing ? "▶ playing" : (s.isGenerating ? "generating" : statusWord(lane.status)))
        }
        if !s.message.isEmpty { parts.append(s.message) }
        g.write(" " + parts.joined(separator: "  ·  "), x: 0, y: y, foreground: theme[.statusForeground], background: theme[.statusBackground])
    }

    private func statusWord(_ status: Lane.Status) -> String {
        switch status {
        case .running: return "generating"
        case .done: return "done"
        case .cancelled: return "cancelled"
        case .failed: return "failed"
        }
    }

    private func drawHints(_ g: inout CellGrid, _ s: AppState) {
        let y = g.height - 1
        g.fill(x: 0, y: y, width: g.width, height: 1, with: Cell(background: theme[.mainBackground]))
        g.write(" " + KeyMap.hints(fitting: g.width), x: 0, y: y, foreground: theme[.highlight], background: theme[.mainBackground])
    }

    private func drawOverlay(_ g: inout CellGrid, _ s: AppState, _ overlay: Overlay) {
        var lines: [String]
        var title: String
        var highlighted: Int?
        switch overlay {
        case .help:
            title = "Help"
            lines = KeyMap.helpLines
        case .classPicker(let filter, let selection):
            title = "Class"
            let matches = s.filteredClasses(filter)
            let visible = max(g.height - 8, 3)
            let start = min(max(selection - visible / 2, 0), max(matches.count - visible, 0))
            lines = ["filter: \(filter)▏", ""] + matches[start..<min(start + visible, matches.count)].map { "\($0.id)  \($0.name)" }
            if matches.isEmpty { lines.append("(no class matches)") }
            highlighted = matches.isEmpty ? nil : 2 + selection - start
        case .prompt(let setting, let text):
            switch setting {
            case .size: title = "Size (WxH, snaps to a valid size)"
            case .steps: title = "Steps (1…1000)"
            case .guidance: title = "Guidance (1…20; 1 = off)"
            default: title = "Seed"
            }
            lines = ["\(text)▏", "", "Enter to apply · Esc to cancel"]
        }
        let width = min(max(lines.map(\.count).max() ?? 0, title.count) + 4, g.width - 2)
        let height = min(lines.count + 2, g.height - 2)
        let x = (g.width - width) / 2, y = (g.height - height) / 2
        g.fill(x: x, y: y, width: width, height: height, with: Cell(background: theme[.statusBackground]))
        g.write(" \(title) ", x: x + 1, y: y, foreground: theme[.title], background: theme[.statusBackground], bold: true)
        for (i, line) in lines.prefix(height - 2).enumerated() {
            let bg = i == highlighted ? theme[.selectedBackground] : theme[.statusBackground]
            if i == highlighted { g.fill(x: x + 1, y: y + 1 + i, width: width - 2, height: 1, with: Cell(background: bg)) }
            g.write(line, x: x + 2, y: y + 1 + i, foreground: theme[.statusForeground], background: bg, maxWidth: width - 3)
        }
    }

    private func blend(_ a: RGB, _ b: RGB, _ f: Double) -> RGB {
        func mix(_ x: UInt8, _ y: UInt8) -> UInt8 { UInt8(Double(x) + (Double(y) - Double(x)) * min(max(f, 0), 1)) }
        return RGB(mix(a.r, b.r), mix(a.g, b.g), mix(a.b, b.b))
    }
}
