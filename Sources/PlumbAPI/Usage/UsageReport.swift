/// `GET /api/v1/usage`: the `Plumb/Usage` series over a range, summed (counters) or the most held (counts held, such
/// as custom metric series and alarms), grouped by `by`.
public struct UsageReport: Sendable, Equatable, Codable {
    /// RFC 3339: the range read, `[start, end)`.
    public var start: String
    public var end: String
    /// What rows are grouped by: function, store, usage, user, group, topic or day.
    public var by: String
    public var rows: [UsageRow]

    public init(start: String, end: String, by: String, rows: [UsageRow]) {
        self.start = start
        self.end = end
        self.by = by
        self.rows = rows
    }
}

/// One group's amount of one usage series.
public struct UsageRow: Sendable, Equatable, Codable {
    /// The group's value (a function's name, a store, a day…); `-` for usage that does not carry it.
    public var group: String
    /// The `Plumb/Usage` metric (Requests, GBSeconds, LogBytesIngested, …).
    public var usage: String
    /// The store it belongs to (functions, metrics, alarms, logs, notifications, blobs, api).
    public var store: String
    /// Summed over the range; for a count held, the most held.
    public var amount: Double

    public init(group: String, usage: String, store: String, amount: Double) {
        self.group = group
        self.usage = usage
        self.store = store
        self.amount = amount
    }
}

/// `GET /api/v1/cost`: the `Plumb/Cost` series over a range, in US dollars at AWS's list prices and at the host's
/// own cost, grouped by `by`, with the price table they were computed with.
public struct CostReport: Sendable, Equatable, Codable {
    public var start: String
    public var end: String
    public var by: String
    public var prices: PriceSource
    public var rows: [CostRow]
    public var total: CostRow

    public init(start: String, end: String, by: String, prices: PriceSource, rows: [CostRow], total: CostRow) {
        self.start = start
        self.end = end
        self.by = by
        self.prices = prices
        self.rows = rows
        self.total = total
    }
}

/// One group's cost.
public struct CostRow: Sendable, Equatable, Codable {
    public var group: String
    /// US dollars at AWS's list prices for the same work.
    public var aws: Double
    /// US dollars of the host's own cost.
    public var host: Double

    public init(group: String, aws: Double, host: Double) {
        self.group = group
        self.aws = aws
        self.host = host
    }
}

/// Where the AWS prices come from, and the host's price.
public struct PriceSource: Sendable, Equatable, Codable {
    public var region: String
    /// The date the AWS table was compiled (YYYY-MM-DD).
    public var date: String
    public var source: String
    public var hostMonthlyUSD: Double
    public var hostMemoryGB: Double

    public init(region: String, date: String, source: String, hostMonthlyUSD: Double, hostMemoryGB: Double) {
        self.region = region
        self.date = date
        self.source = source
        self.hostMonthlyUSD = hostMonthlyUSD
        self.hostMemoryGB = hostMemoryGB
    }
}

/// `GET /api/v1/budgets`: each budget of the alert files with its figures for the current period.
public struct BudgetList: Sendable, Equatable, Codable {
    public var budgets: [BudgetStatus]

    public init(budgets: [BudgetStatus]) { self.budgets = budgets }
}

public struct BudgetStatus: Sendable, Equatable, Codable {
    public var name: String
    /// US dollars.
    public var amount: Double
    /// monthly or daily.
    public var period: String
    /// aws or host.
    public var prices: String
    /// `Plumb/Cost` dimensions counted (Function, Store, Usage, Topic, User).
    public var filter: [String: String]
    /// RFC 3339: the current period's start and end.
    public var periodStart: String
    public var periodEnd: String
    /// US dollars so far this period, and the period's forecast at the rate so far.
    public var actual: Double
    public var forecast: Double
    public var thresholds: [BudgetThreshold]

    public init(
        name: String, amount: Double, period: String, prices: String, filter: [String: String], periodStart: String,
        periodEnd: String, actual: Double, forecast: Double, thresholds: [BudgetThreshold]
    ) {
        self.name = name
        self.amount = amount
        self.period = period
        self.prices = prices
        self.filter = filter
        self.periodStart = periodStart
        self.periodEnd = periodEnd
        self.actual = actual
        self.forecast = forecast
        self.thresholds = thresholds
    }
}

public struct BudgetThreshold: Sendable, Equatable, Codable {
    /// actual or forecast.
    public var kind: String
    public var percent: Double
    /// The alarm it is, and that alarm's state.
    public var alarm: String
    public var state: String

    public init(kind: String, percent: Double, alarm: String, state: String) {
        self.kind = kind
        self.percent = percent
        self.alarm = alarm
        self.state = state
    }
}
