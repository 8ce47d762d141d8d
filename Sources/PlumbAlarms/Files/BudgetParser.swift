import Foundation
import PlumbAPI

/// Reads the `budgets` section of alert files:
///
/// ```yaml
/// budgets:
///   - name: chat
///     amount: 50          # US dollars
///     period: monthly     # or daily
///     prices: aws         # or host
///     filter: {function: chat.send}   # function, store, usage, topic, user, log_group, tag (KEY=VALUE)
///     forecast_after: 86400             # seconds into the period before forecasting (default a day; daily: 2 h)
///     thresholds:
///       - {kind: forecast, percent: 100, actions: [ops]}
///       - {kind: actual, percent: 80, actions: [ops]}
/// ```
public enum BudgetParser {
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

    /// A budget sent to `PUT /api/v1/budgets/{name}` (the alert-file fields as JSON; `name`, when given, must be the
    /// path's).
    public static func parseDocument(
        _ text: String, name: String, reader: any ConfigReader
    ) -> Result<Budget, AlertFileErrors> {
        let (fields, sink): (ConfigFields, ConfigErrorSink)
        switch AlarmParser.documentFields(text, reader: reader) {
        case .success(let read): (fields, sink) = read
        case .failure(let errors): return .failure(errors)
        }
        if let given = fields.string("name"), given != name {
            fields.error("name", "'\(given)' differs from the name in the path ('\(name)')")
        }
        let budget = budget(fields, name: name)
        if let budget, sink.errors.isEmpty { return .success(budget) }
        return .failure(AlertFileErrors(sink.errors))
    }

    /// The budget and threshold index of a stored budget alarm's document (`{"budget": {…}, "threshold": i}`, what
    /// the budgets API stores for each threshold).
    static func storedThreshold(_ fields: ConfigFields) -> (Budget, Int)? {
        fields.rejectUnknown(["budget", "threshold"])
        let index = fields.int("threshold", required: true)
        guard let inner = fields.nested("budget"), let name = inner.string("name", required: true),
            let budget = budget(inner, name: name), let index
        else { return nil }
        guard budget.thresholds.indices.contains(index) else {
            fields.error("threshold", "the budget has \(budget.thresholds.count) thresholds")
            return nil
        }
        return (budget, index)
    }

    /// What the budgets API stores for a budget's threshold `index` (the alarm's document): the budget in the
    /// alert-file fields, and which threshold the alarm is.
    public static func storedDocument(_ budget: Budget, threshold index: Int) -> String {
        struct Threshold: Encodable {
            var kind: String
            var percent: Double
            var actions: [String]
        }
        struct Document: Encodable {
            var name: String
            var description: String?
            var amount: Double
            var period: String
            var prices: String
            var filter: [String: String]
            var thresholds: [Threshold]
            var evaluation_period: Int64
            var forecast_after: Int64
        }
        struct Stored: Encodable {
            var budget: Document
            var threshold: Int
        }
        let keys = Dictionary(uniqueKeysWithValues: filterDimensions.map { ($0.value, $0.key) })
        var filter = Dictionary(
            uniqueKeysWithValues: budget.filter.compactMap { d in keys[d.name].map { ($0, d.value) } })
        if let tag = budget.tag { filter["tag"] = "\(tag.key)=\(tag.value)" }
        let document = Document(
            name: budget.name, description: budget.description, amount: budget.amount, period: budget.period.rawValue,
            prices: budget.prices.rawValue,
            filter: filter,
            thresholds: budget.thresholds.map {
                Threshold(kind: $0.kind.rawValue, percent: $0.percent, actions: $0.actions)
            },
            evaluation_period: budget.evaluationPeriod, forecast_after: budget.forecastAfter)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(Stored(budget: document, threshold: index))) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    /// The budget a stored budget alarm's document describes; nil for any other document.
    public static func budget(storedDocument text: String, reader: any ConfigReader) -> Budget? {
        guard text.contains("\"budget\""), let root = try? reader.read(text, file: "stored document"),
            let fields = ConfigFields(root, path: "", file: "stored document", sink: ConfigErrorSink()),
            fields.node("budget") != nil
        else { return nil }
        return storedThreshold(fields)?.0
    }

    static func budget(_ b: ConfigFields, name: String) -> Budget? {
        b.rejectUnknown(fields)
        let before = b.errorCount
        _ = AlarmParser.checkName(name, b)
        let amount = b.double("amount", required: true)
        if let amount, !(amount > 0 && amount < 1e12) { b.error("amount", "must be a dollar amount above 0") }
        let period = b.enum("period", Budget.Period.self) ?? .monthly
        let prices = b.enum("prices", Budget.Prices.self) ?? .aws
        var filter: [PlumbAPI.Dimension] = []
        var tag: (key: String, value: String)?
        if let map = b.stringMap("filter") {
            for (key, value) in map.sorted(by: { $0.key < $1.key }) {
                if key == "tag" {
                    let parts = value.split(separator: "=", maxSplits: 1).map(String.init)
                    guard parts.count == 2, !parts[0].isEmpty else {
                        b.error("filter", "tag must be KEY=VALUE (a function tag), got '\(value)'")
                        continue
                    }
                    tag = (parts[0], parts[1])
                    continue
                }
                guard let dimension = filterDimensions[key] else {
                    let known = (filterDimensions.keys.sorted() + ["tag"]).joined(separator: ", ")
                    b.error("filter", "unknown filter '\(key)' (known: \(known))")
                    continue
                }
                if value.isEmpty { b.error("filter", "'\(key)' must not be empty") }
                filter.append(PlumbAPI.Dimension(name: dimension, value: value))
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
        var budget = Budget(
            name: name, description: b.string("description"), amount: amount, period: period, prices: prices,
            filter: filter, thresholds: thresholds, evaluationPeriod: Int64(evaluation),
            forecastAfter: forecastAfter.map(Int64.init))
        budget.tag = tag
        return budget
    }
}
