/// `POST /api/v1/metrics/query` (GetMetricData with metric math): `{"queries": [...], "start", "end", "period"}`.
///
/// Other top-level fields are ignored. `start` and `end` are any time form of `TimeParsing.queryTime`, as a string or
/// a number; they stay text here because the server reads them against its own clock.
public struct MetricDataRequest: Sendable, Equatable, Codable {
    public var queries: [MetricDataQuery]
    /// Default: an hour ago.
    public var start: String?
    /// Default: now.
    public var end: String?
    /// Seconds, default 60.
    public var period: Int64?

    public init(queries: [MetricDataQuery], start: String? = nil, end: String? = nil, period: Int64? = nil) {
        self.queries = queries
        self.start = start
        self.end = end
        self.period = period
    }

    /// The refusal of a body that is not a JSON object.
    public static let notAnObject =
        "the body must be a JSON object {\"queries\": [...], \"start\", \"end\", \"period\"}"

    enum CodingKeys: String, CodingKey {
        case queries, start, end, period
    }

    /// `userInfo` key of the server's clock (epoch seconds, a `Double`): given it, decoding also checks `start` and
    /// `end` as times in place, so that of several faults the first in the order below is the one refused.
    public static let clockKey = CodingUserInfoKey(rawValue: "PlumbAPI.MetricDataRequest.now")!

    /// Reads the body by hand, in the order the server always checked it (start, end, period, then the queries),
    /// with the same refusals.
    public init(from decoder: Decoder) throws {
        guard let object = try JSONValue(from: decoder).object else { throw PlumbError(Self.notAnObject) }
        try self.init(object: object, now: decoder.userInfo[Self.clockKey] as? Double)
    }

    /// The checks of a body already parsed, in the order the server always made them; given `now`, `start` and `end`
    /// are checked as times in place.
    public init(object: [String: JSONValue], now: Double?) throws {
        start = try Self.time(object, "start")
        if let now { _ = try Self.seconds(start, "start", default: now - 3_600, now: now) }
        end = try Self.time(object, "end")
        if let now { _ = try Self.seconds(end, "end", default: now + 1, now: now) }
        if let raw = object["period"] {
            guard case .number(let number) = raw, let whole = Checked.int64(number), Double(whole) == number else {
                throw PlumbError("period must be a whole number of seconds")
            }
            period = whole
        }
        queries = try MetricData.decodeQueries(object["queries"], at: "queries")
    }

    /// A time's text: a string as it is, a number as Swift writes a Double (`1800000000.0`), a boolean as 1 or 0 (as
    /// Foundation's reading did); anything else is refused here, the way the time parser refuses an empty text.
    static func time(_ object: [String: JSONValue], _ key: String) throws -> String? {
        switch object[key] {
        case nil: return nil
        case .string(let text)?: return text
        case .number(let n)?: return "\(n)"
        case .bool(let b)?: return b ? "1.0" : "0.0"
        case _?: throw PlumbError("\(key) '' must be \(TimeParsing.queryTimeForms)")
        }
    }

    /// `text` as whole epoch seconds read against `now`; `value` when absent.
    public static func seconds(_ text: String?, _ key: String, default value: Double, now: Double) throws -> Int64 {
        guard let text else { return Int64(value) }
        guard let t = TimeParsing.querySeconds(text, now: now) else {
            throw PlumbError("\(key) '\(text.prefix(64))' must be \(TimeParsing.queryTimeForms)")
        }
        return t
    }

    /// The window asked for, read against `now`: an hour ago to now unless given.
    public func window(now: Double) throws -> (start: Int64, end: Int64) {
        (
            try Self.seconds(start, "start", default: now - 3_600, now: now),
            try Self.seconds(end, "end", default: now + 1, now: now)
        )
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(queries, forKey: .queries)
        try container.encodeIfPresent(start, forKey: .start)
        try container.encodeIfPresent(end, forKey: .end)
        try container.encodeIfPresent(period, forKey: .period)
    }
}
