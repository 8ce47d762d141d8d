#if canImport(Glibc)
import Glibc
#endif

/// RFC 3339 timestamps (UTC) without a formatter object: plugins write and read them on hot paths (a chat message,
/// an export row, a reading), where building an `ISO8601DateFormatter` per call costs more than the work.
public enum RFC3339 {
    /// `2026-11-22T10:00:00.123Z` for epoch seconds (to the nearest millisecond).
    public static func format(_ seconds: Double) -> String { format(milliseconds: Int64((seconds * 1_000).rounded())) }

    /// The same for epoch milliseconds (integer arithmetic, so nothing is lost to rounding).
    public static func format(milliseconds: Int64) -> String {
        let (quotient, remainder) = milliseconds.quotientAndRemainder(dividingBy: 1_000)
        let (second, millis) = remainder < 0 ? (quotient - 1, remainder + 1_000) : (quotient, remainder)
        var time = time_t(second)
        var parts = tm()
        gmtime_r(&time, &parts)
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(Int(parts.tm_year) + 1900, 4))-\(pad(Int(parts.tm_mon) + 1, 2))-\(pad(Int(parts.tm_mday), 2))T"
            + "\(pad(Int(parts.tm_hour), 2)):\(pad(Int(parts.tm_min), 2)):\(pad(Int(parts.tm_sec), 2)).\(pad(Int(millis), 3))Z"
    }

    /// Epoch seconds of `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, or nil.
    public static func parse(_ text: String) -> Double? {
        let b = Array(text.utf8)
        func digits(_ at: Int, _ count: Int) -> Int? {
            guard at + count <= b.count else { return nil }
            var value = 0
            for i in at..<(at + count) {
                guard b[i] >= 48, b[i] <= 57 else { return nil }
                value = value * 10 + Int(b[i] - 48)
            }
            return value
        }
        func at(_ i: Int, _ c: UInt8) -> Bool { i < b.count && b[i] == c }
        guard let year = digits(0, 4), at(4, 45), let month = digits(5, 2), at(7, 45), let day = digits(8, 2),
            at(10, 84) || at(10, 116), let hour = digits(11, 2), at(13, 58), let minute = digits(14, 2), at(16, 58),
            let second = digits(17, 2), (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60,
            second < 61
        else { return nil }
        var i = 19
        var fraction = 0.0
        if at(i, 46) {
            i += 1
            var scale = 0.1
            let start = i
            while i < b.count, b[i] >= 48, b[i] <= 57 {
                fraction += Double(b[i] - 48) * scale
                scale /= 10
                i += 1
            }
            guard i > start else { return nil }
        }
        var offset = 0
        if at(i, 90) || at(i, 122) {
            i += 1
        } else if at(i, 43) || at(i, 45), let h = digits(i + 1, 2), at(i + 3, 58), let m = digits(i + 4, 2) {
            offset = (h * 3_600 + m * 60) * (b[i] == 43 ? 1 : -1)
            i += 6
        } else {
            return nil
        }
        guard i == b.count else { return nil }
        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month - 1)
        parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(hour)
        parts.tm_min = Int32(minute)
        parts.tm_sec = Int32(second)
        return Double(timegm(&parts) - offset) + fraction
    }
}
