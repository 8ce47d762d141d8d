/// The `usage:` section: how often usage is costed, and at which prices.
public struct UsageSettings: Sendable, Decodable {
    /// Seconds per costing window (`Plumb/Cost` samples are written once a window): 1 to 3600.
    public var intervalSeconds = 60
    /// A price file (`deploy/prices.yaml`'s format); nil: the shipped table.
    public var pricesPath: String?

    enum CodingKeys: String, CodingKey {
        case intervalSeconds = "interval_seconds"
        case pricesPath = "prices"
    }

    public init() {}

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        intervalSeconds = try c.decodeIfPresent(Int.self, forKey: .intervalSeconds) ?? intervalSeconds
        pricesPath = try c.decodeIfPresent(String.self, forKey: .pricesPath)
        guard (1...3_600).contains(intervalSeconds), 3_600 % intervalSeconds == 0 else {
            throw ConfigError("usage.interval_seconds must divide an hour (1 to 3600, e.g. 10, 60, 300)")
        }
    }

    /// The price table in force: the file's, read and checked now, or the shipped one.
    public func prices() throws -> PriceTable {
        try pricesPath.map(PriceTable.load) ?? .shipped
    }
}
