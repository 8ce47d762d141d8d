import PlumbAPI

/// Reads the `budgets` section of alert files:
///
/// ```yaml
/// budgets:
///   - name: chat
///     amount: 50          # US dollars
///     period: monthly     # or daily
///     prices: aws         # or host
///     filter: {function: chat.send}   # function, store, usage, topic, user, log_group
///     forecast_after: 86400             # seconds into the period before forecasting (default a day; daily: 2 h)
///     thresholds:
///       - {kind: forecast, percent: 100, actions: [ops]}
///       - {kind: actual, percent: 80, actions: [ops]}
/// ```
enum BudgetParser {
    static let fields: Set<String> = [
        "name", "description", "amount", "period", "prices", "filter", "thresholds", "evaluation_period",
        "forecast_after",
    ]
    static let thresholdFields: Set<String> = ["kind", "percent", "actions"]
    /// Filter keys → the `Plumb/Cost` dimension they match.
    static let filterDimensions = [
        "function": "Function", "store": "Store", "usage": "Usage", "topic": "Topic", "user": "User",
        "log_group": "LogGroup",
    ]

    static func budget(_ b: ConfigFields, name: String) -> Budget? {
        b.rejectUnknown(fields)
        let before = b.errorCount
        _ = AlarmParser.checkName(name, b)
        let amount = b.double("amount", required: true)
        if let amount, !(amount > 0 && amount < 1e12) { b.error("amount", "must be a dollar amount above 0") }
        let period = b.enum("period", Budget.Period.self) ?? .monthly
        let prices = b.enum("prices", Budget.Prices.self) ?? .aws
        var filter: [Dimension] = []
        if let map = b.stringMap("filter") {
            for (key, value) in map.sorted(by: { $0.key < $1.key }) {
                guard let dimension = filterDimensions[key] else {
                    let known = filterDimensions.keys.sorted().joined(separator: ", ")
                    b.error("filter", "unknown filter '\(key)' (known: \(known))")
                    continue
                }
                if value.isEmpty { b.error("filter", "'\(key)' must not be empty") }
                filter.append(Dimension(name: dimension, value: value))
            }
        }
        let evaluation = b.int("evaluation_period") ?? 60
        if !(evaluation == 10 || evaluation == 30 || (evaluation >= 60 && evaluation % 60 == 0 && evaluation <= 86_400))
        {
            b.error("evaluation_period", "must be 10, 30 or a multiple of 60 seconds up to 86400")
        }
        let forecastAfter = b.int("forecast_after")
        if let forecastAfter, !(0...(period == .monthly ? 28 * 86_400 : 86_400)).contains(forecastAfter) {
            b.error("forecast_after", "must be 0 to \(period == .monthly ? "2419200 (28 days)" : "86400") seconds")
        }
        var thresholds: [Budget.Threshold] = []
        for (node, path) in b.list("thresholds") {
            guard let t = b.item(node, path: path) else { continue }
            t.rejectUnknown(thresholdFields)
            let kind = t.enum("kind", Budget.Kind.self, required: true)
            let percent = t.double("percent", required: true)
            if let percent, !(percent > 0 && percent <= 10_000) {
                t.error("percent", "must be above 0 and at most 10000")
            }
            if let kind, let percent {
                thresholds.append(Budget.Threshold(kind: kind, percent: percent, actions: t.stringList("actions")))
            }
        }
        if thresholds.isEmpty, b.errorCount == before {
            b.error("thresholds", "a budget needs at least one threshold ({kind: actual|forecast, percent: N})")
        }
        var seen: Set<String> = []
        for threshold in thresholds where !seen.insert("\(threshold.kind) \(threshold.percent)").inserted {
            b.error(
                "thresholds",
                "the \(threshold.kind.rawValue) threshold at \(Budget.format(threshold.percent))% is given twice")
        }
        guard b.errorCount == before, let amount else { return nil }
        return Budget(
            name: name, description: b.string("description"), amount: amount, period: period, prices: prices,
            filter: filter, thresholds: thresholds, evaluationPeriod: Int64(evaluation),
            forecastAfter: forecastAfter.map(Int64.init))
    }
}
