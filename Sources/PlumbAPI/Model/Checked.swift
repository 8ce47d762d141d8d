/// Checked conversions for numbers that come from outside (query parameters, JSON, line protocol, config): Swift
/// traps on `Int64(1e300)`, `Int64(Double.nan)` and on integer overflow, and a trap takes the whole server down.
/// Each function answers nil (or clamps where said) instead; the caller refuses the input with a 4xx naming the field.
public enum Checked {
    /// The largest epoch time accepted anywhere, in seconds: 1e11 s is the year 5138. Times are validated against
    /// narrower windows afterwards (14 days back, 2 hours ahead for ingest); this bound only keeps every
    /// later sum, difference and product of times and periods far from overflow.
    public static let maxEpochSeconds: Double = 1e11

    /// Whole epoch seconds (rounded down), nil for NaN, ±Inf or a magnitude beyond `maxEpochSeconds`.
    public static func epochSeconds(_ value: Double) -> Int64? {
        guard value.isFinite, abs(value) <= maxEpochSeconds else { return nil }
        return Int64(value.rounded(.down))
    }

    /// Whole epoch milliseconds (rounded down), nil for NaN, ±Inf or beyond `maxEpochSeconds` × 1,000.
    public static func epochMilliseconds(_ value: Double) -> Int64? {
        guard value.isFinite, abs(value) <= maxEpochSeconds * 1_000 else { return nil }
        return Int64(value.rounded(.down))
    }

    /// `value` as an Int64 when it is finite, whole or not, and within ±2^53 (where every integer is exact), nil
    /// otherwise.
    public static func int64(_ value: Double) -> Int64? {
        guard value.isFinite, abs(value) <= 9_007_199_254_740_992 else { return nil }
        return Int64(value.rounded(.down))
    }

    /// `a / b` rounded towards negative infinity, for any `a` and a positive `b` (never negates, so never overflows).
    @inlinable
    public static func floorDivision(_ a: Int64, _ b: Int64) -> Int64 {
        precondition(b > 0, "a positive divisor")
        let q = a / b
        return (a % b != 0 && a < 0) ? q - 1 : q
    }

    /// A duration in seconds from config or input as nanoseconds, nil unless finite, positive and at most `maxSeconds`.
    public static func nanoseconds(seconds: Double, maxSeconds: Double = 365 * 86_400) -> Int64? {
        guard seconds.isFinite, seconds >= 0, seconds <= maxSeconds else { return nil }
        return Int64(seconds * 1e9)
    }
}

extension Checked {
    /// A value from outside as an error message may show it: at most `limit` characters, control characters as `?`
    /// (a message must never carry a line break or NUL of the caller's into a log line or a header).
    public static func shown(_ text: some StringProtocol, limit: Int = 64) -> String {
        let clipped = text.prefix(limit).unicodeScalars.map {
            $0.properties.generalCategory == .control ? "?" : String($0)
        }.joined()
        return text.count > limit ? clipped + "…" : clipped
    }
}
