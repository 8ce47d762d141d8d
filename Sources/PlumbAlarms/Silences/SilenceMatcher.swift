/// Which alarms a silence holds: one by its exact name, or every name a glob matches (`*` stands for any run of
/// characters, so `sensors-*` is a prefix and `*-latency` a suffix).
public enum SilenceMatcher: Sendable, Equatable, CustomStringConvertible {
    case alarm(String)
    case pattern(String)

    public func matches(_ name: String) -> Bool {
        switch self {
        case .alarm(let exact): name == exact
        case .pattern(let glob): Self.glob(Array(glob.unicodeScalars), Array(name.unicodeScalars))
        }
    }

    /// `alarm` or `match`, as the API and the store name the two kinds.
    public var kind: String {
        switch self {
        case .alarm: "alarm"
        case .pattern: "match"
        }
    }

    public var text: String {
        switch self {
        case .alarm(let t), .pattern(let t): t
        }
    }

    public var description: String {
        switch self {
        case .alarm(let name): "alarm \(name)"
        case .pattern(let glob): "alarms matching \(glob)"
        }
    }

    /// Why `text` cannot be matched on, or nil: like an alarm name, 1 to 255 printable characters.
    public static func problem(_ text: String) -> String? {
        guard !text.isEmpty, text.count <= 255,
            !text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else { return "has 1 to 255 printable characters, as an alarm name" }
        return nil
    }

    /// Glob matching with `*` only, greedy with backtracking to the last star: linear in practice, never
    /// exponential.
    static func glob(_ pattern: [Unicode.Scalar], _ name: [Unicode.Scalar]) -> Bool {
        var (p, n) = (0, 0)
        var star: Int?
        var resume = 0
        while n < name.count {
            if p < pattern.count, pattern[p] == "*" {
                star = p
                resume = n
                p += 1
            } else if p < pattern.count, pattern[p] == name[n] {
                p += 1
                n += 1
            } else if let s = star {
                p = s + 1
                resume += 1
                n = resume
            } else {
                return false
            }
        }
        while p < pattern.count, pattern[p] == "*" { p += 1 }
        return p == pattern.count
    }
}
