import Foundation
import PlumbAPI

/// A cost budget, as AWS Budgets has them: an amount for a month or a day on a filter of the `Plumb/Cost` series,
/// with thresholds on the actual cost so far and on the forecast (linear on the period so far).
///
/// A budget is alarms: the usage service writes the period's actual and forecast cost to
/// `Plumb/Budgets/ActualCost` and `Plumb/Budgets/ForecastCost` (dimension `Budget`), and each threshold is a metric
/// alarm on one of them (`alarms`), so it notifies through topics and shows in `plumb alarms` and the dashboards.
public struct Budget: Sendable, Equatable {
    public enum Period: String, Sendable, CaseIterable {
        case monthly, daily
    }

    /// Which prices the budget counts: AWS's list prices for the same work, or the host's own cost.
    public enum Prices: String, Sendable, CaseIterable {
        case aws, host

        /// The `Plumb/Cost` metric of these prices.
        public var costMetric: String { self == .aws ? "AWS" : "Host" }
    }

    public enum Kind: String, Sendable, CaseIterable {
        case actual, forecast

        public var metric: String { self == .actual ? "ActualCost" : "ForecastCost" }
    }

    public struct Threshold: Sendable, Equatable {
        public var kind: Kind
        /// Percent of the amount (AWS Budgets' thresholds), above 0.
        public var percent: Double
        /// Topics notified when it is crossed.
        public var actions: [String]

        public init(kind: Kind, percent: Double, actions: [String]) {
            self.kind = kind
            self.percent = percent
            self.actions = actions
        }
    }

    public static let namespace = "Plumb/Budgets"

    public var name: String
    public var description: String?
    /// US dollars.
    public var amount: Double
    public var period: Period
    public var prices: Prices
    /// Dimensions every counted `Plumb/Cost` series carries (`Function`, `Store`, `Usage`, …); empty: all of them.
    public var filter: [PlumbAPI.Dimension]
    /// A function tag (`key`, `value`) the counted series' `Function` must carry (AWS Budgets' cost-allocation tag
    /// filter); nil: no tag filter.
    public var tag: (key: String, value: String)?
    public var thresholds: [Threshold]
    /// Seconds between the alarms' looks at the figures: 10, 30 or a multiple of 60.
    public var evaluationPeriod: Int64
    /// Seconds into the period before the forecast is made (extrapolating the first minutes of a month would
    /// multiply any early burst by thousands): a day for a monthly budget, two hours for a daily one by default.
    public var forecastAfter: Int64

    public init(
        name: String, description: String? = nil, amount: Double, period: Period, prices: Prices = .aws,
        filter: [PlumbAPI.Dimension] = [], thresholds: [Threshold], evaluationPeriod: Int64 = 60,
        forecastAfter: Int64? = nil
    ) {
        self.name = name
        self.description = description
        self.amount = amount
        self.period = period
        self.prices = prices
        self.filter = filter.sorted { $0.name < $1.name }
        self.thresholds = thresholds
        self.evaluationPeriod = evaluationPeriod
        self.forecastAfter = forecastAfter ?? (period == .monthly ? 86_400 : 7_200)
    }

    /// The series the usage service writes for `kind`.
    public func series(_ kind: Kind) -> SeriesKey {
        SeriesKey(namespace: Self.namespace, name: kind.metric, dimensions: [Dimension(name: "Budget", value: name)])
    }

    /// Whether a `Plumb/Cost` series counts towards the budget; `functionTags` are the functions' tags (by name),
    /// for a tag filter.
    public func counts(_ series: SeriesKey, functionTags: [String: [String: String]] = [:]) -> Bool {
        guard series.name == prices.costMetric,
            filter.allSatisfy({ wanted in series.dimensions.contains { $0 == wanted } })
        else { return false }
        guard let tag else { return true }
        guard let function = series.value(of: "Function") else { return false }
        return functionTags[function]?[tag.key] == tag.value
    }

    public static func == (a: Budget, b: Budget) -> Bool {
        a.name == b.name && a.description == b.description && a.amount == b.amount && a.period == b.period
            && a.prices == b.prices && a.filter == b.filter && a.tag?.key == b.tag?.key && a.tag?.value == b.tag?.value
            && a.thresholds == b.thresholds && a.evaluationPeriod == b.evaluationPeriod
            && a.forecastAfter == b.forecastAfter
    }

    /// The alarm of one threshold: `NAME actual 80%`.
    public func alarmName(_ threshold: Threshold) -> String {
        "\(name) \(threshold.kind.rawValue) \(Self.format(threshold.percent))%"
    }

    /// The alarms the budget is: one per threshold, on the maximum of its figure over the evaluation period, in
    /// ALARM while the figure is above the threshold (missing periods keep the state).
    public var alarms: [MetricAlarm] {
        thresholds.map { threshold in
            let limit = amount * threshold.percent / 100
            var alarm = MetricAlarm(
                name: alarmName(threshold),
                description: """
                    Budget '\(name)': \(Self.dollars(amount)) a \(period == .monthly ? "month" : "day") at \
                    \(prices == .aws ? "AWS list prices" : "the host's cost")\(filterText); the \
                    \(threshold.kind == .actual ? "actual cost so far" : "forecast for the period") is over \
                    \(Self.format(threshold.percent))% (\(Self.dollars(limit))).
                    """,
                series: series(threshold.kind), statistic: .maximum, period: evaluationPeriod, evaluationPeriods: 1,
                comparison: .greaterThanThreshold, threshold: limit, treatMissingData: .ignore,
                actions: AlarmActions(alarm: threshold.actions))
            alarm.severity = "budget"
            return alarm
        }
    }

    var filterText: String {
        let parts = filter.map { "\($0.name)=\($0.value)" } + (tag.map { ["tag \($0.key)=\($0.value)"] } ?? [])
        return parts.isEmpty ? "" : " on " + parts.joined(separator: ", ")
    }

    /// The start of the period holding `time` (UTC), and its length in seconds.
    public func periodBounds(containing time: Int64) -> (start: Int64, length: Int64) {
        switch period {
        case .daily: return (Checked.floorDivision(time, 86_400) * 86_400, 86_400)
        case .monthly:
            let (start, end) = TimeParsing.monthBounds(containing: time)
            return (start, end - start)
        }
    }

    /// The forecast for the period: the cost so far, continued at the same rate to the period's end.
    public static func forecast(actual: Double, elapsed: Int64, length: Int64) -> Double {
        guard elapsed > 0 else { return actual }
        return actual * Double(length) / Double(min(elapsed, length))
    }

    /// `12.5` → "12.5", `80` → "80".
    public static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }

    /// US dollars with cents ("$12.50"); a nonzero amount under a cent to three significant digits ("$0.00000800").
    public static func dollars(_ value: Double) -> String {
        guard abs(value) < 0.01, value != 0, value.isFinite else { return String(format: "$%.2f", value) }
        let decimals = min(20, 2 - Int(log10(abs(value)).rounded(.down)))
        return String(format: "$%.\(decimals)f", value)
    }
}
