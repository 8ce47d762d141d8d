/// Which characters graphs use: braille dots (2×4 per cell), block halves (1×2), or plain ASCII (1×1).
public enum GraphSymbols: String, Sendable, CaseIterable {
    case braille, block, ascii

    /// `braille` unless the locale cannot show UTF-8 (LANG/LC_ALL/LC_CTYPE without UTF-8) or TERM is `dumb`/`linux`.
    public static func automatic(environment: [String: String]) -> GraphSymbols {
        let locale =
            environment["LC_ALL"].flatMap { $0.isEmpty ? nil : $0 } ?? environment["LC_CTYPE"].flatMap {
                $0.isEmpty ? nil : $0
            } ?? environment["LANG"] ?? ""
        let term = environment["TERM"] ?? ""
        if !locale.uppercased().replacingOccurrences(of: "-", with: "").contains("UTF8") || term == "dumb"
            || term == "linux"
        {
            return .ascii
        }
        return .braille
    }
}

/// Colours by role; the theme maps them to terminal colours (or none).
public enum Tint: UInt8, Sendable {
    case plain = 0
    case dim, accent, good, warn, bad, series1, series2, series3, series4, series5, series6

    public static let series: [Tint] = [.series1, .series2, .series3, .series4, .series5, .series6]
}

public enum Theme: String, Sendable, CaseIterable {
    case dark, light, none

    /// The SGR parameters of a tint, nil for the terminal's default.
    func sgr(_ tint: Tint, bold: Bool) -> String? {
        if self == .none { return bold ? "1" : nil }
        let code: String? =
            switch tint {
            case .plain: nil
            case .dim: self == .dark ? "90" : "37"
            case .accent: "36"
            case .good: "32"
            case .warn: "33"
            case .bad: "31"
            case .series1: "36"
            case .series2: "35"
            case .series3: "33"
            case .series4: "32"
            case .series5: "34"
            case .series6: "31"
            }
        switch (code, bold) {
        case (nil, false): return nil
        case (nil, true): return "1"
        case (let c?, false): return c
        case (let c?, true): return "1;" + c
        }
    }
}

/// One screen cell.
public struct Cell: Equatable, Sendable {
    public var character: Character
    public var tint: Tint
    public var bold: Bool

    public static let blank = Cell(character: " ", tint: .plain, bold: false)
}

/// A rectangle of cells.
public struct Rect: Equatable, Sendable {
    public var x: Int
    public var y: Int
    public var width: Int
    public var height: Int

    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x
        self.y = y
        self.width = max(0, width)
        self.height = max(0, height)
    }

    public var isEmpty: Bool { width <= 0 || height <= 0 }

    /// The rectangle inside a one-cell border.
    public var inner: Rect { Rect(x: x + 1, y: y + 1, width: width - 2, height: height - 2) }
}

/// A frame being drawn: a grid of cells, written through clipped calls (nothing outside the grid is touched).
public struct Canvas: Equatable, Sendable {
    public let width: Int
    public let height: Int
    public private(set) var cells: [Cell]
    public let symbols: GraphSymbols

    public init(width: Int, height: Int, symbols: GraphSymbols) {
        self.width = max(0, width)
        self.height = max(0, height)
        self.symbols = symbols
        cells = Array(repeating: .blank, count: self.width * self.height)
    }

    public subscript(x: Int, y: Int) -> Cell {
        get { cells[y * width + x] }
        set { cells[y * width + x] = newValue }
    }

    public mutating func put(
        _ x: Int, _ y: Int, _ c: Character, _ tint: Tint = .plain, bold: Bool = false, clip: Rect? = nil
    ) {
        guard x >= 0, y >= 0, x < width, y < height else { return }
        if let clip, x < clip.x || y < clip.y || x >= clip.x + clip.width || y >= clip.y + clip.height { return }
        self[x, y] = Cell(character: c, tint: tint, bold: bold)
    }

    /// Writes `text` from (x, y), cut at `maxWidth` (with `…` when cut and there is room).
    public mutating func text(
        _ x: Int, _ y: Int, _ text: String, _ tint: Tint = .plain, bold: Bool = false, maxWidth: Int? = nil,
        clip: Rect? = nil
    ) {
        let limit = maxWidth ?? (width - x)
        guard limit > 0 else { return }
        var chars = Array(text)
        if chars.count > limit {
            chars = Array(chars.prefix(limit))
            if limit > 1 { chars[limit - 1] = symbols == .ascii ? "~" : "…" }
        }
        for (i, c) in chars.enumerated() { put(x + i, y, c, tint, bold: bold, clip: clip) }
    }

    /// A border around `rect` with `title` in the top edge; `focused` draws it in the accent tint.
    public mutating func box(_ rect: Rect, title: String, focused: Bool) {
        guard rect.width >= 2, rect.height >= 2 else {
            if rect.height >= 1 { text(rect.x, rect.y, title, .accent, bold: true, maxWidth: rect.width) }
            return
        }
        let ascii = symbols == .ascii
        let (h, v, tl, tr, bl, br): (Character, Character, Character, Character, Character, Character) =
            ascii
            ? ("-", "|", "+", "+", "+", "+") : focused ? ("━", "┃", "┏", "┓", "┗", "┛") : ("─", "│", "┌", "┐", "└", "┘")
        let tint: Tint = focused ? .accent : .dim
        let right = rect.x + rect.width - 1
        let bottom = rect.y + rect.height - 1
        for x in rect.x...right {
            put(x, rect.y, h, tint)
            put(x, bottom, h, tint)
        }
        for y in rect.y...bottom {
            put(rect.x, y, v, tint)
            put(right, y, v, tint)
        }
        put(rect.x, rect.y, tl, tint)
        put(right, rect.y, tr, tint)
        put(rect.x, bottom, bl, tint)
        put(right, bottom, br, tint)
        if !title.isEmpty, rect.width > 4 {
            text(rect.x + 2, rect.y, " \(title) ", focused ? .accent : .plain, bold: true, maxWidth: rect.width - 3)
        }
    }

    /// The ASCII fallback for text the widgets wrote (dashes, ellipses, markers, a dashboard's own titles).
    public mutating func replaceNonASCII() {
        let map: [Character: Character] = [
            "–": "-", "—": "-", "…": "~", "■": "*", "⚠": "!", "▏": "|", "µ": "u", "×": "x",
        ]
        for i in cells.indices where !cells[i].character.isASCII {
            cells[i].character = map[cells[i].character] ?? "?"
        }
    }

    /// The frame as plain text: one line per row, trailing spaces removed.
    public var plainText: String {
        (0..<height).map { y in
            var line = String((0..<width).map { self[$0, y].character })
            while line.last == " " { line.removeLast() }
            return line
        }.joined(separator: "\n")
    }

    /// The frame with SGR colours, whole (for `--once` on a terminal).
    public func ansiText(theme: Theme) -> String {
        var out = ""
        for y in 0..<height {
            var current: String?
            for x in 0..<width {
                Self.write(self[x, y], theme: theme, current: &current, to: &out)
            }
            out += "\u{1B}[0m"
            if y < height - 1 { out += "\n" }
        }
        return out
    }

    /// Appends a cell, switching the colour first when it differs from `current`.
    static func write(_ cell: Cell, theme: Theme, current: inout String?, to out: inout String) {
        let sgr = theme.sgr(cell.tint, bold: cell.bold)
        if sgr != current {
            out += "\u{1B}[0m" + (sgr.map { "\u{1B}[\($0)m" } ?? "")
            current = sgr
        }
        out.append(cell.character)
    }

    /// The escape sequence that turns the screen showing `previous` into this frame: only changed runs are written
    /// (no flicker, little output), with cursor moves between them.
    public func diff(from previous: Canvas?, theme: Theme) -> String {
        var out = ""
        var current: String? = "unset"
        for y in 0..<height {
            var x = 0
            while x < width {
                if let previous, previous.width == width, previous.height == height, previous[x, y] == self[x, y] {
                    x += 1
                    continue
                }
                out += "\u{1B}[\(y + 1);\(x + 1)H"
                while x < width,
                    previous == nil || previous!.width != width || previous!.height != height
                        || previous![x, y] != self[x, y]
                {
                    Self.write(self[x, y], theme: theme, current: &current, to: &out)
                    x += 1
                }
            }
        }
        return out.isEmpty ? out : out + "\u{1B}[0m"
    }
}
