import Foundation

/// Reads the time forms of CONTRACT.md: RFC 3339, epoch numbers, and relative (`-1h`, `-15m`, `now`).
public enum TimeParsing {
    /// Parses an RFC 3339 timestamp (`2026-11-22T10:00:00Z`, optional fraction, `Z` or `±HH:MM`) to epoch
    /// seconds. Read by hand: it runs once per ingested datum that carries a string timestamp.
    public static func rfc3339(_ text: String) -> Double? {
        let b = Array(text.utf8)
        func digits(_ at: Int, _ n: Int) -> Int? {
            guard at + n <= b.count else { return nil }
            var v = 0
            for i in at..<(at + n) {
                let d = Int(b[i]) - 48
                guard (0...9).contains(d) else { return nil }
                v = v * 10 + d
            }
            return v
        }
        func at(_ i: Int, _ c: Character) -> Bool { i < b.count && b[i] == c.asciiValue! }
        guard let year = digits(0, 4), at(4, "-"), let month = digits(5, 2), at(7, "-"), let day = digits(8, 2),
            at(10, "T") || at(10, "t") || at(10, " "), let hour = digits(11, 2), at(13, ":"),
            let minute = digits(14, 2),
            at(16, ":"), let second = digits(17, 2),
            (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var i = 19
        var fraction = 0.0
        if at(i, ".") {
            i += 1
            var scale = 0.1
            let start = i
            while i < b.count, (48...57).contains(b[i]) {
                fraction += Double(b[i] - 48) * scale
                scale /= 10
                i += 1
            }
            guard i > start else { return nil }
        }
        var offset = 0
        if at(i, "Z") || at(i, "z") {
            i += 1
        } else if at(i, "+") || at(i, "-") {
            guard let oh = digits(i + 1, 2), at(i + 3, ":"), let om = digits(i + 4, 2), oh < 24, om < 60 else {
                return nil
            }
            offset = (oh * 3_600 + om * 60) * (at(i, "-") ? -1 : 1)
            i += 6
        } else {
            return nil
        }
        guard i == b.count else { return nil }
        let days = daysFromCivil(year, month, day)
        return Double(days * 86_400 + hour * 3_600 + minute * 60 + second - offset) + fraction
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil algorithm).
    static func daysFromCivil(_ y: Int, _ m: Int, _ d: Int) -> Int {
        let year = m <= 2 ? y - 1 : y
        let era = (year >= 0 ? year : year - 399) / 400
        let yoe = year - era * 400
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The proleptic Gregorian date of a day number (the inverse of `daysFromCivil`).
    static func civilFromDays(_ days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// The UTC calendar month holding `epochSeconds`: its first second and the next month's.
    public static func monthBounds(containing epochSeconds: Int64) -> (start: Int64, end: Int64) {
        let (year, month, _) = civilFromDays(Int(Checked.floorDivision(epochSeconds, 86_400)))
        let (nextYear, nextMonth) = month == 12 ? (year + 1, 1) : (year, month + 1)
        return (
            Int64(daysFromCivil(year, month, 1)) * 86_400, Int64(daysFromCivil(nextYear, nextMonth, 1)) * 86_400
        )
    }

    /// Parses a time given by a person or a client, the one parser of every endpoint and command:
    /// - `now`, `now-24h`, `now+30m`;
    /// - a duration alone, meaning that long ago: `24h` and `-24h` alike; `+2h` is ahead;
    /// - RFC 3339 (`2026-12-05T10:00:00Z`, with fractions and offsets);
    /// - epoch seconds, or epoch milliseconds (a number of magnitude 1e11 or more: as seconds that is past the year
    ///   5138, as milliseconds it is 1973 onwards).
    /// Times beyond ±`Checked.maxEpochSeconds` are refused (nil), so every caller can convert and subtract.
    public static func queryTime(_ text: String, now: Double) -> Double? {
        let t = text.trimmingCharacters(in: .whitespaces)
        let value: Double?
        if t == "now" {
            value = now
        } else if t.hasPrefix("now"), t.count > 3,
            let offset = relativeSeconds(String(t.dropFirst(3)), unsignedIsAgo: false)
        {
            value = now + offset
        } else if let offset = relativeSeconds(t) {
            value = now + offset
        } else if let epoch = Double(t), epoch.isFinite,
            t.allSatisfy({ $0.isNumber || $0 == "." || $0 == "-" || $0 == "+" })
        {
            value = abs(epoch) >= Checked.maxEpochSeconds ? epoch / 1_000 : epoch
        } else {
            value = rfc3339(t)
        }
        guard let value, Checked.epochSeconds(value) != nil else { return nil }
        return value
    }

    /// `queryTime` in whole seconds (rounded down).
    public static func querySeconds(_ text: String, now: Double) -> Int64? {
        queryTime(text, now: now).flatMap(Checked.epochSeconds)
    }

    /// What the time parameters accept, for error messages.
    public static let queryTimeForms =
        "a time: 'now', 'now-24h', '24h' or '-24h' (that long ago), '+1h', RFC 3339, or epoch seconds or milliseconds, between the years -1200 and 5138"

    /// `-1h` → −3600, `+30m` → 1800; `15s` → −15 when `unsignedIsAgo` (a duration alone means that long ago), else 15;
    /// nil when not of that form.
    public static func relativeSeconds(_ text: String, unsignedIsAgo: Bool = true) -> Double? {
        var body = Substring(text)
        var sign: Double = unsignedIsAgo ? -1 : 1
        if body.first == "-" {
            sign = -1
            body = body.dropFirst()
        } else if body.first == "+" {
            sign = 1
            body = body.dropFirst()
        }
        guard let seconds = duration(String(body)) else { return nil }
        return sign * seconds
    }

    /// A duration such as `30s`, `5m`, `2h`, `1d`, `1w` in seconds (digits and one unit, nothing else).
    public static func duration(_ text: String) -> Double? {
        guard let unit = text.last, let scale = unitSeconds[unit] else { return nil }
        let digits = text.dropLast()
        guard !digits.isEmpty, digits.allSatisfy(\.isNumber), let n = Double(digits) else { return nil }
        return n * scale
    }

    static let unitSeconds: [Character: Double] = ["s": 1, "m": 60, "h": 3_600, "d": 86_400, "w": 604_800]

    /// Formats epoch seconds as RFC 3339 UTC, e.g. `2026-11-22T10:00:00Z` (once per returned datapoint).
    public static func format(_ epochSeconds: Int64) -> String {
        let days = Int(Checked.floorDivision(epochSeconds, 86_400))
        let secondsOfDay = Int(epochSeconds - Int64(days) * 86_400)
        let (year, month, day) = civilFromDays(days)
        // Written digit by digit: a metric-data answer formats one of these per datapoint.
        var bytes = [UInt8](repeating: 0, count: 20)
        func put(_ value: Int, _ width: Int, at offset: Int) {
            var v = value
            for i in stride(from: offset + width - 1, through: offset, by: -1) {
                bytes[i] = UInt8(truncatingIfNeeded: 48 + v % 10)
                v /= 10
            }
        }
        guard (0...9_999).contains(year) else {
            func pad(_ v: Int, _ n: Int) -> String {
                let s = String(v)
                return String(repeating: "0", count: max(0, n - s.count)) + s
            }
            return
                "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(secondsOfDay / 3_600, 2)):\(pad(secondsOfDay / 60 % 60, 2)):\(pad(secondsOfDay % 60, 2))Z"
        }
        put(year, 4, at: 0)
        put(month, 2, at: 5)
        put(day, 2, at: 8)
        put(secondsOfDay / 3_600, 2, at: 11)
        put(secondsOfDay / 60 % 60, 2, at: 14)
        put(secondsOfDay % 60, 2, at: 17)
        (bytes[4], bytes[7], bytes[10]) = (UInt8(ascii: "-"), UInt8(ascii: "-"), UInt8(ascii: "T"))
        (bytes[13], bytes[16], bytes[19]) = (UInt8(ascii: ":"), UInt8(ascii: ":"), UInt8(ascii: "Z"))
        return String(decoding: bytes, as: UTF8.self)
    }
}
