import Foundation
import Yams

/// The prices usage is costed at (`deploy/prices.yaml`): AWS's list prices for the same work, per `Plumb/Usage`
/// series name, and the host's own monthly cost spread over its function memory.
public struct PriceTable: Sendable, Equatable, Decodable {
    public struct Price: Sendable, Equatable, Decodable {
        /// US dollars for `per` units.
        public var usd: Double
        public var per: Double
        /// A count held (series, alarms, stored bytes) priced for a month of `PriceTable.monthSeconds`.
        public var monthly: Bool

        public init(usd: Double, per: Double, monthly: Bool = false) {
            self.usd = usd
            self.per = per
            self.monthly = monthly
        }

        enum CodingKeys: String, CodingKey { case usd, per, monthly }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            usd = try c.decode(Double.self, forKey: .usd)
            per = try c.decodeIfPresent(Double.self, forKey: .per) ?? 1
            monthly = try c.decodeIfPresent(Bool.self, forKey: .monthly) ?? false
        }

        /// Dollars for `amount` units counted over `seconds` (only monthly prices use the seconds).
        public func cost(_ amount: Double, seconds: Double) -> Double {
            let units = monthly ? amount * seconds / PriceTable.monthSeconds : amount
            return units * usd / per
        }
    }

    public struct AWS: Sendable, Equatable, Decodable {
        public var region: String
        public var date: String
        public var source: String
        public var prices: [String: Price]
    }

    public struct Host: Sendable, Equatable, Decodable {
        public var monthlyUSD: Double
        public var memoryGB: Double

        enum CodingKeys: String, CodingKey {
            case monthlyUSD = "monthly_usd"
            case memoryGB = "memory_gb"
        }

        /// Dollars per GB-second of function memory: the month's price over the memory held all month.
        public var perGBSecond: Double {
            memoryGB > 0 ? monthlyUSD / (memoryGB * PriceTable.monthSeconds) : 0
        }
    }

    /// AWS prorates monthly prices over 730 hours.
    public static let monthSeconds: Double = 730 * 3_600
    /// The usage series the host's cost is spread over: memory billed or held provisioned.
    public static let hostUsage: Set<String> = ["GBSeconds", "ProvisionedConcurrencyGBSeconds"]

    public var aws: AWS
    public var host: Host

    /// Dollars at AWS's prices for `amount` of the usage series `usage` over `seconds`; nil when it has no price.
    public func awsCost(usage: String, amount: Double, seconds: Double) -> Double? {
        aws.prices[usage]?.cost(amount, seconds: seconds)
    }

    /// Dollars of the host's cost for `amount` of `usage`; nil for usage the host's cost is not spread over.
    public func hostCost(usage: String, amount: Double) -> Double? {
        Self.hostUsage.contains(usage) && host.monthlyUSD > 0 ? amount * host.perGBSecond : nil
    }

    /// Reads a price file, naming what is wrong.
    public static func load(path: String) throws -> PriceTable {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ConfigError("usage.prices: cannot read \(path)")
        }
        return try parse(text, file: path)
    }

    static func parse(_ text: String, file: String) throws -> PriceTable {
        let table: PriceTable
        do { table = try YAMLDecoder().decode(PriceTable.self, from: text) } catch {
            throw ConfigError("\(file): not a price table: \(error)")
        }
        for (name, price) in table.aws.prices.sorted(by: { $0.key < $1.key }) {
            guard UsageCatalog.store(of: name) != nil else {
                throw ConfigError(
                    "\(file): aws.prices.\(name): no such usage series (known: \(UsageCatalog.names.joined(separator: ", ")))"
                )
            }
            guard price.usd >= 0, price.usd.isFinite, price.per > 0, price.per.isFinite else {
                throw ConfigError("\(file): aws.prices.\(name): usd must be 0 or more and per above 0")
            }
        }
        guard table.host.monthlyUSD >= 0, table.host.monthlyUSD.isFinite, table.host.memoryGB >= 0,
            table.host.memoryGB.isFinite, table.host.monthlyUSD == 0 || table.host.memoryGB > 0
        else {
            throw ConfigError("\(file): host: monthly_usd must be 0 or more, and memory_gb above 0 when it is not 0")
        }
        return table
    }

    /// `deploy/prices.yaml` as shipped: the table in force without `usage.prices`.
    public static let shipped = PriceTable(
        aws: AWS(
            region: "us-east-1", date: "2026-12-07",
            source:
                "aws.amazon.com/lambda/pricing, /cloudwatch/pricing, /sns/pricing, /s3/pricing (first tier, x86, no free tier)",
            prices: [
                "Requests": Price(usd: 0.20, per: 1_000_000),
                "GBSeconds": Price(usd: 0.0000166667, per: 1),
                "ProvisionedConcurrencyGBSeconds": Price(usd: 0.0000041667, per: 1),
                "ProvisionedDurationGBSeconds": Price(usd: 0.0000097222, per: 1),
                "MetricRequests": Price(usd: 0.01, per: 1_000),
                "CustomMetricSeries": Price(usd: 0.30, per: 1, monthly: true),
                "StandardAlarms": Price(usd: 0.10, per: 1, monthly: true),
                "HighResolutionAlarms": Price(usd: 0.30, per: 1, monthly: true),
                "CompositeAlarms": Price(usd: 0.50, per: 1, monthly: true),
                "LogBytesIngested": Price(usd: 0.50, per: 1_073_741_824),
                "LogBytesStored": Price(usd: 0.03, per: 1_073_741_824, monthly: true),
                "EmailNotifications": Price(usd: 2.00, per: 100_000),
                "HTTPNotifications": Price(usd: 0.60, per: 1_000_000),
                "FunctionNotifications": Price(usd: 0, per: 1),
                "BlobBytesStored": Price(usd: 0.023, per: 1_073_741_824, monthly: true),
                "BlobBytesArchived": Price(usd: 0.0036, per: 1_073_741_824, monthly: true),
                "BlobPutRequests": Price(usd: 0.005, per: 1_000),
                "BlobGetRequests": Price(usd: 0.0004, per: 1_000),
            ]),
        host: Host(monthlyUSD: 40, memoryGB: 8))
}

/// The `Plumb/Usage` series: each one's store (what `plumb usage --by store` groups by, and the `Store` dimension
/// of its cost) and whether it is a count held (sampled by the usage service) rather than a counter.
public enum UsageCatalog {
    public static let namespace = "Plumb/Usage"

    static let entries: [(name: String, store: String, held: Bool)] = [
        ("Requests", "functions", false),
        ("GBSeconds", "functions", false),
        ("ProvisionedConcurrencyGBSeconds", "functions", false),
        ("ProvisionedDurationGBSeconds", "functions", false),
        ("AsyncEvents", "functions", false),
        ("MetricSamples", "metrics", false),
        ("MetricRequests", "metrics", false),
        ("CustomMetricSeries", "metrics", true),
        ("StandardAlarms", "alarms", true),
        ("HighResolutionAlarms", "alarms", true),
        ("CompositeAlarms", "alarms", true),
        ("LogBytesIngested", "logs", false),
        ("LogEventsIngested", "logs", false),
        ("LogBytesStored", "logs", true),
        ("EmailNotifications", "notifications", false),
        ("HTTPNotifications", "notifications", false),
        ("FunctionNotifications", "notifications", false),
        ("BlobBytesStored", "blobs", true),
        ("BlobBytesArchived", "blobs", true),
        ("BlobPutRequests", "blobs", false),
        ("BlobGetRequests", "blobs", false),
        ("BlobBytesWritten", "blobs", false),
        ("BlobBytesRead", "blobs", false),
        ("APIRequests", "api", false),
        ("GroupAPIRequests", "api", false),
    ]

    public static var names: [String] { entries.map(\.name) }

    public static func store(of name: String) -> String? { entries.first { $0.name == name }?.store }

    public static func isHeld(_ name: String) -> Bool { entries.first { $0.name == name }?.held ?? false }
}
