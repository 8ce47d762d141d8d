/// CloudWatch Logs' PutLogEvents limits and naming rules.
public enum LogLimits {
    /// An event's message, counted in UTF-8 bytes plus 26 bytes of overhead, is at most 256 KB.
    public static let maxEventBytes = 256 * 1_024
    public static let eventOverhead = 26
    /// A batch is at most 1 MB (messages plus overhead) and 10,000 events.
    public static let maxBatchBytes = 1_048_576
    public static let maxBatchEvents = 10_000
    /// Events may be up to 14 days old and 2 hours in the future; one batch spans at most 24 hours.
    public static let maxAgeMillis: Int64 = 14 * 86_400_000
    public static let maxFutureMillis: Int64 = 2 * 3_600_000
    public static let maxBatchSpanMillis: Int64 = 86_400_000

    /// Group names: 1–512 characters of `a-zA-Z0-9 _ - / . #`.
    public static func checkGroupName(_ name: String) throws(LogsError) {
        guard !name.isEmpty, name.utf8.count <= 512,
            name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "_-/.#".contains($0)) })
        else {
            throw LogsError(
                "log group name '\(name.prefix(80))' must have 1 to 512 characters of a-z A-Z 0-9 _ - / . #")
        }
    }

    /// Stream names: 1–512 characters, no `:` or `*`, no control characters.
    public static func checkStreamName(_ name: String) throws(LogsError) {
        guard !name.isEmpty, name.utf8.count <= 512, !name.contains(":"), !name.contains("*"),
            !name.unicodeScalars.contains(where: { $0.value < 32 })
        else {
            throw LogsError("log stream name '\(name.prefix(80))' must have 1 to 512 characters, without ':' or '*'")
        }
    }

    /// Checks one batch the way PutLogEvents does; the error names the first offending event.
    public static func check(_ events: [InputLogEvent], now: Int64) throws(LogsError) {
        guard !events.isEmpty else { throw LogsError("a batch needs at least one event") }
        guard events.count <= maxBatchEvents else {
            throw LogsError("a batch holds at most \(maxBatchEvents) events, not \(events.count)")
        }
        var total = 0
        var lowest = Int64.max
        var highest = Int64.min
        for (i, event) in events.enumerated() {
            let size = event.message.utf8.count + eventOverhead
            guard !event.message.isEmpty else { throw LogsError("events[\(i)].message is empty") }
            // PostgreSQL's text cannot hold U+0000; refused on every backend alike.
            guard !event.message.utf8.contains(0) else {
                throw LogsError("events[\(i)].message holds a NUL character (U+0000), which a log event may not")
            }
            guard size <= maxEventBytes else {
                throw LogsError(
                    status: 413, code: "RequestEntityTooLarge",
                    "events[\(i)] is \(size) bytes with overhead; an event is at most \(maxEventBytes)")
            }
            guard event.timestamp >= now - maxAgeMillis else {
                throw LogsError("events[\(i)].timestamp is more than 14 days old")
            }
            guard event.timestamp <= now + maxFutureMillis else {
                throw LogsError("events[\(i)].timestamp is more than 2 hours in the future")
            }
            total += size
            lowest = min(lowest, event.timestamp)
            highest = max(highest, event.timestamp)
        }
        guard total <= maxBatchBytes else {
            throw LogsError(
                status: 413, code: "RequestEntityTooLarge",
                "the batch is \(total) bytes with overhead; at most \(maxBatchBytes)")
        }
        guard highest - lowest <= maxBatchSpanMillis else {
            throw LogsError("the events of one batch must span at most 24 hours")
        }
    }
}
