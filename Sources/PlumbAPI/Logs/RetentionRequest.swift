/// `PUT /api/v1/logs/{group}/retention`: `{"days": 30}`, or `{"days": null}` to keep events forever. `days` must be
/// there (null is an answer, absence is not); other fields are ignored.
public struct RetentionRequest: Sendable, Equatable, Codable {
    public var days: Int?

    public init(days: Int?) {
        self.days = days
    }

    enum CodingKeys: String, CodingKey { case days }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        guard c.contains(.days) else {
            throw PlumbError(code: "MissingParameter", "'days' is required (null: never expire)")
        }
        days = try c.decodeNil(forKey: .days) ? nil : try c.decode(Int.self, forKey: .days)
    }

    /// Writes `days` even when nil: null is the request to never expire.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(days, forKey: .days)
    }
}

/// The answer of `PUT /api/v1/logs/{group}/retention`.
public struct RetentionResponse: Sendable, Equatable, Codable {
    public var group: String
    /// The days as text (`"30"`), or `"never"`.
    public var retentionDays: String

    public init(group: String, retentionDays: String) {
        self.group = group
        self.retentionDays = retentionDays
    }
}
