import Foundation
import PlumbAPI
import PlumbMetrics

/// Reads alarms from their configuration nodes: the `alarms` and `composite_alarms` sections of alert files, and
/// alarm documents sent to the API (CloudWatch's PutMetricAlarm / PutCompositeAlarm fields, in snake case).
public enum AlarmParser {
    public static let sections: Set<String> = ["alarms", "composite_alarms", "budgets"]
    static let metricAlarmFields: Set<String> = [
        "name", "description", "namespace", "metric", "dimensions", "statistic", "metrics", "period",
        "evaluation_periods",
        "datapoints_to_alarm", "comparison", "threshold", "treat_missing_data",
        "evaluate_low_sample_count_percentile", "alarm_actions", "ok_actions", "insufficient_data_actions", "severity",
        "actions_enabled",
    ]
    static let compositeAlarmFields: Set<String> = [
        "name", "description", "rule", "alarm_actions", "ok_actions", "insufficient_data_actions",
        "actions_suppressor", "wait_period", "extension_period", "severity", "actions_enabled",
    ]

    /// The alarms of one document's top-level mapping; problems go to the fields' sink.
    public static func parse(_ fields: ConfigFields) -> AlarmConfiguration {
        var config = AlarmConfiguration()
        for (node, path) in fields.list("alarms") {
            guard let a = fields.item(node, path: path) else { continue }
            let name = a.string("name", required: true)
            if let name, let alarm = metricAlarm(a, name: name) {
                config.alarms.append(.metric(alarm))
                config.alarmLocations[name] = ConfigLocation(file: a.file, line: a.line)
            }
        }
        for (node, path) in fields.list("composite_alarms") {
            guard let a = fields.item(node, path: path) else { continue }
            let name = a.string("name", required: true)
            if let name, let alarm = compositeAlarm(a, name: name) {
                config.alarms.append(.composite(alarm))
                config.alarmLocations[name] = ConfigLocation(file: a.file, line: a.line)
            }
        }
        for (node, path) in fields.list("budgets") {
            guard let b = fields.item(node, path: path) else { continue }
            let name = b.string("name", required: true)
            if let name, let budget = BudgetParser.budget(b, name: name) {
                config.budgets.append(budget)
                for alarm in budget.alarms {
                    config.alarms.append(.metric(alarm))
                    config.alarmLocations[alarm.name] = ConfigLocation(file: b.file, line: b.line)
                }
            }
        }
        return config
    }

    /// An alarm sent to `PUT /api/v1/alarms/{name}` as JSON (or YAML), read with `reader`: metric fields, or `rule`
    /// for a composite.
    public static func parseDocument(
        _ text: String, name: String, reader: any ConfigReader
    ) -> Result<AlarmDefinition, AlertFileErrors> {
        let (fields, sink): (ConfigFields, ConfigErrorSink)
        switch documentFields(text, reader: reader) {
        case .success(let read): (fields, sink) = read
        case .failure(let errors): return .failure(errors)
        }
        if fields.node("budget") != nil {
            // A threshold of a budget made through the API: its alarm, named as the budget names it.
            let alarm = BudgetParser.storedThreshold(fields).flatMap { budget, index -> MetricAlarm? in
                let alarm = budget.alarms[index]
                guard alarm.name == name else {
                    fields.error("threshold", "is alarm '\(alarm.name)', not '\(name)'")
                    return nil
                }
                return alarm
            }
            if let alarm, sink.errors.isEmpty { return .success(.metric(alarm)) }
            return .failure(AlertFileErrors(sink.errors))
        }
        if let given = fields.string("name"), given != name {
            fields.error("name", "'\(given)' differs from the name in the path ('\(name)')")
        }
        let alarm: AlarmDefinition?
        if fields.node("rule") != nil {
            alarm = compositeAlarm(fields, name: name).map(AlarmDefinition.composite)
        } else {
            alarm = metricAlarm(fields, name: name).map(AlarmDefinition.metric)
        }
        if let alarm, sink.errors.isEmpty { return .success(alarm) }
        return .failure(AlertFileErrors(sink.errors))
    }

    /// A document sent to the API (JSON, or YAML) as fields with their error sink, or why it is not a JSON object.
    static func documentFields(
        _ text: String, reader: any ConfigReader
    ) -> Result<(ConfigFields, ConfigErrorSink), AlertFileErrors> {
        let sink = ConfigErrorSink()
        let file = "request body"
        let root: ConfigNode?
        do throws(AlertFileError) { root = try reader.read(text, file: file) } catch {
            return .failure(
                AlertFileErrors([
                    AlertFileError(file: file, line: 1, field: "", message: "not valid JSON: \(error.message)")
                ]))
        }
        guard let root, let fields = ConfigFields(root, path: "", file: file, sink: sink) else {
            return .failure(
                AlertFileErrors(
                    sink.errors.isEmpty
                        ? [AlertFileError(file: file, line: 1, field: "", message: "the body must be a JSON object")]
                        : sink.errors))
        }
        return .success((fields, sink))
    }

    /// Alarm names: 1–255 printable characters (CloudWatch).
    static func checkName(_ name: String, _ fields: ConfigFields) -> Bool {
        guard !name.isEmpty, name.count <= 255,
            !name.contains(where: { $0.isNewline || $0.asciiValue.map { $0 < 32 } == true })
        else {
            fields.error("name", "an alarm name has 1 to 255 printable characters")
            return false
        }
        return true
    }

    static func metricAlarm(_ a: ConfigFields, name: String) -> MetricAlarm? {
        a.rejectUnknown(metricAlarmFields)
        let before = a.errorCount
        _ = checkName(name, a)
        // Either one series (namespace, metric, dimensions, statistic) or metric math (`metrics`).
        var math: [MetricDataQuery]?
        if let node = a.node("metrics"), !node.isNull {
            for key in ["namespace", "metric", "dimensions", "statistic"] where a.node(key) != nil {
                a.error(key, "an alarm on metrics (metric math) has no \(key) of its own")
            }
            do {
                let queries = try MetricData.decodeQueries(node.plainValue, at: a.fieldPath("metrics"))
                _ = try MetricData.validate(queries)
                let returned = queries.filter(\.returnData)
                if returned.count != 1 {
                    a.error(
                        "metrics",
                        "exactly one query must have return: true (the one the alarm watches); \(returned.count) do")
                } else if queries.count(where: { if case .metric = $0.source { true } else { false } }) > 10 {
                    a.error("metrics", "at most 10 metrics in an alarm's expression")
                } else {
                    math = queries
                }
            } catch let error as MetricsError {
                a.error("metrics", error.message)
            } catch {
                a.error("metrics", "\(error)")
            }
        }
        let single = a.node("metrics") == nil
        let namespace = single ? a.string("namespace", required: true) : "Plumb/MetricMath"
        let metric = single ? a.string("metric", required: true) : name
        let dimensions = single ? a.stringMap("dimensions") ?? [:] : [:]
        if dimensions.count > 30 { a.error("dimensions", "at most 30 dimensions") }
        var statistic: Statistic? = single ? nil : .average
        if single, let text = a.string("statistic", required: true) {
            statistic = Statistic(text)
            if statistic == nil {
                a.error("statistic", "'\(text)' is not SampleCount, Sum, Average, Minimum, Maximum or pNN")
            }
        }
        let period = a.int("period", required: true)
        if let period, !(period == 10 || period == 30 || (period > 0 && period % 60 == 0 && period <= 86_400)) {
            a.error("period", "\(period) must be 10, 30 or a multiple of 60 seconds, at most 86400")
        }
        let n = a.int("evaluation_periods", required: true)
        if let n, n < 1 { a.error("evaluation_periods", "must be at least 1") }
        if let n, let period, n >= 1, period > 0, n > 86_400 / period {
            let total = n.multipliedReportingOverflow(by: period)
            a.error(
                "evaluation_periods",
                "period × evaluation_periods is \(total.overflow ? "over 2^63" : String(total.partialValue)) s; at most 86400 s (one day)"
            )
        }
        let m = a.int("datapoints_to_alarm")
        if let m, let n, m < 1 || m > n {
            a.error("datapoints_to_alarm", "must be between 1 and evaluation_periods (\(n))")
        }
        let comparison = a.enum("comparison", ComparisonOperator.self, required: true)
        let threshold = a.double("threshold", required: true)
        let treat = a.enum("treat_missing_data", TreatMissingData.self) ?? .missing
        var evaluateLow = true
        if let text = a.string("evaluate_low_sample_count_percentile") {
            switch text {
            case "evaluate": evaluateLow = true
            case "ignore": evaluateLow = false
            default: a.error("evaluate_low_sample_count_percentile", "'\(text)' must be evaluate or ignore")
            }
        }
        let actions = actionLists(a)
        guard a.errorCount == before, let namespace, let metric, let statistic, let period, let n, let comparison,
            let threshold
        else { return nil }
        if namespace.isEmpty || metric.isEmpty {
            a.error(namespace.isEmpty ? "namespace" : "metric", "must not be empty")
            return nil
        }
        var alarm = MetricAlarm(
            name: name, description: a.string("description"),
            series: SeriesKey(namespace: namespace, name: metric, dimensions: dimensions), statistic: statistic,
            period: Int64(period), evaluationPeriods: n, datapointsToAlarm: m, comparison: comparison,
            threshold: threshold, treatMissingData: treat, evaluateLowSampleCountPercentile: evaluateLow,
            actions: actions)
        alarm.metrics = math
        alarm.severity = severity(a)
        guard a.errorCount == before else { return nil }
        return alarm
    }

    /// The optional `severity`: 1 to 64 printable characters (it becomes an Alertmanager label value).
    static func severity(_ a: ConfigFields) -> String? {
        guard let text = a.string("severity") else { return nil }
        guard !text.isEmpty, text.count <= 64,
            !text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else {
            a.error("severity", "a severity has 1 to 64 printable characters (critical, warning, info…)")
            return nil
        }
        return text
    }

    static func compositeAlarm(_ a: ConfigFields, name: String) -> CompositeAlarm? {
        a.rejectUnknown(compositeAlarmFields)
        let before = a.errorCount
        _ = checkName(name, a)
        let ruleText = a.string("rule", required: true)
        let suppressor = a.string("actions_suppressor")
        let wait = a.int("wait_period")
        let extensionPeriod = a.int("extension_period")
        for (key, value) in [("wait_period", wait), ("extension_period", extensionPeriod)] {
            if let value, value < 0 || value > 86_400 { a.error(key, "must be between 0 and 86400 seconds") }
        }
        if suppressor == nil, wait != nil || extensionPeriod != nil {
            a.error(wait != nil ? "wait_period" : "extension_period", "applies only with actions_suppressor")
        }
        if suppressor == name { a.error("actions_suppressor", "an alarm cannot suppress itself") }
        let actions = actionLists(a)
        guard a.errorCount == before, let ruleText else { return nil }
        do {
            let alarm = try CompositeAlarm(
                name: name, description: a.string("description"), rule: ruleText, actions: actions,
                actionsSuppressor: suppressor, waitPeriod: Int64(wait ?? (suppressor == nil ? 0 : 60)),
                extensionPeriod: Int64(extensionPeriod ?? (suppressor == nil ? 0 : 60)))
            if alarm.rule.references.contains(name) {
                a.error("rule", "composite alarms form a cycle: \(name) → \(name)")
                return nil
            }
            var withSeverity = alarm
            withSeverity.severity = severity(a)
            return a.errorCount == before ? withSeverity : nil
        } catch {
            a.error("rule", error.message)
            return nil
        }
    }

    static func actionLists(_ a: ConfigFields) -> AlarmActions {
        var actions = AlarmActions()
        actions.alarm = a.stringList("alarm_actions")
        actions.ok = a.stringList("ok_actions")
        actions.insufficientData = a.stringList("insufficient_data_actions")
        actions.enabled = a.bool("actions_enabled") ?? true
        for (key, list) in [
            ("alarm_actions", actions.alarm), ("ok_actions", actions.ok),
            ("insufficient_data_actions", actions.insufficientData),
        ]
        where list.count > 5 {
            a.error(key, "at most 5 actions per state")
        }
        return actions
    }
}
