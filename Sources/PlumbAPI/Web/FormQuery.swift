import Foundation

/// Query strings decoded as `application/x-www-form-urlencoded`, as browsers' forms, curl `--data-urlencode -G` and
/// Python `requests` write them: `+` is a space and `%2B` a plus. (Hummingbird's `queryParameters` leaves `+` alone,
/// so `filter=database+gone` searched for a literal plus.)
public enum FormQuery {
    /// Name → value, the last value winning for repeated names. A value whose percent-escapes are not UTF-8 is kept
    /// as it came, so the refusal can show it.
    public static func parse(_ query: String?) -> [String: String] {
        Dictionary(pairs(query), uniquingKeysWith: { _, last in last })
    }

    /// Every name and value in order, repeated names kept (`match[]=a&match[]=b`).
    public static func pairs(_ query: String?) -> [(String, String)] {
        guard let query, !query.isEmpty else { return [] }
        return query.split(separator: "&", omittingEmptySubsequences: true).compactMap { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = decode(parts[0])
            return name.isEmpty ? nil : (name, parts.count > 1 ? decode(parts[1]) : "")
        }
    }

    public static func decode(_ text: Substring) -> String {
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }

    /// Every name and value in order, or nil when a name or value's percent-escapes are not UTF-8 (for callers that
    /// refuse such a body rather than keep it as it came).
    public static func strictPairs(_ query: String) -> [(String, String)]? {
        var result: [(String, String)] = []
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let spaced = parts.map { $0.replacingOccurrences(of: "+", with: " ") }
            guard let name = spaced[0].removingPercentEncoding else { return nil }
            guard let value = spaced.count > 1 ? spaced[1].removingPercentEncoding : "" else { return nil }
            if !name.isEmpty { result.append((name, value)) }
        }
        return result
    }
}
