import Foundation

/// Reads the time forms of CONTRACT.md: RFC 3339, epoch numbers, and relative (`-1h`, `-15m`, `now`).
public enum TimeParsing {
    /// Parses an RFC 3339 timestamp (`2026-11-22T10:00:00Z`, optional fraction and offset) to epoch seconds.
    public static func rfc3339(_ text: String) -> Double? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date.timeIntervalSince1970 }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)?.timeIntervalSince1970
    }

    /// Parses a query-parameter time: RFC 3339, epoch seconds, `now`, or `-N{s,m,h,d,w}` relative to `now`.
    public static func queryTime(_ text: String, now: Double) -> Double? {
        let t = text.trimmingCharacters(in: .whitespaces)
        if t == "now" { return now }
        if let seconds = relativeSeconds(t) { return now + seconds }
        if let epoch = Double(t), epoch.isFinite { return epoch }
        return rfc3339(t)
    }

    /// `-1h` → −3600, `+30m` → 1800, `15s` → 15; nil when not of that form.
    public static func relativeSeconds(_ text: String) -> Double? {
        guard let unit = text.last, let scale = unitSeconds[unit] else { return nil }
        var body = text.dropLast()
        var sign = 1.0
        if body.first == "-" { sign = -1; body = body.dropFirst() } else if body.first == "+" { body = body.dropFirst() }
        guard !body.isEmpty, body.allSatisfy(\.isNumber), let n = Double(body) else { return nil }
        return sign * n * scale
    }

    /// A duration such as `30s`, `5m`, `2h`, `1d` in seconds.
    public static func duration(_ text: String) -> Double? {
        guard let s = relativeSeconds(text), s >= 0 else { return nil }
        return s
    }

    static let unitSeconds: [Character: Double] = ["s": 1, "m": 60, "h": 3_600, "d": 86_400, "w": 604_800]

    /// Formats epoch seconds as RFC 3339 UTC, e.g. `2026-11-22T10:00:00Z`.
    public static func format(_ epochSeconds: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(epochSeconds)))
    }
}
