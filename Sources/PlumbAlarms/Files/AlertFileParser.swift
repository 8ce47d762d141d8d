import PlumbAPI
import Foundation
import PlumbMetrics
import PlumbLogs
import PlumbNotify
import Yams

/// Parses alert files (`alerts/*.yaml`, CONTRACT.md) and alarm documents sent to the API.
public enum AlertFileParser {
    static let topLevel: Set<String> = ["topics", "alarms", "composite_alarms", "metric_filters"]
    static let metricFilterFields: Set<String> = [
        "name", "log_group", "pattern", "namespace", "metric", "value", "default_value", "unit", "dimensions",
    ]
    static let metricAlarmFields: Set<String> = [
        "name", "description", "namespace", "metric", "dimensions", "statistic", "metrics", "period", "evaluation_periods",
        "datapoints_to_alarm", "comparison", "threshold", "treat_missing_data",
        "evaluate_low_sample_count_percentile", "alarm_actions", "ok_actions", "insufficient_data_actions", "severity",
    ]
    static let compositeAlarmFields: Set<String> = [
        "name", "description", "rule", "alarm_actions", "ok_actions", "insufficient_data_actions",
        "actions_suppressor", "wait_period", "extension_period", "severity",
    ]
    static let topicFields: Set<String> = ["name", "subscriptions", "delivery_policy"]
    static let subscriptionFields: Set<String> = ["protocol", "endpoint", "secret_env", "format", "delivery_policy"]
    static let policyFields: Set<String> = ["num_retries", "min_delay", "max_delay", "backoff"]

    /// Parses one file's text. Every problem is returned; the configuration holds what parsed cleanly.
    public static func parse(_ text: String, file: String) -> (AlertConfiguration, [AlertFileError]) {
        switch compose(text, file: file) {
        case .failure(let error): return (AlertConfiguration(), [error])
        case .success(nil): return (AlertConfiguration(), [])
        case .success(let root?): return parse(root, file: file, extraKeys: [])
        }
    }

    /// The YAML tree of `text`, or the syntax error with its line.
    static func compose(_ text: String, file: String) -> Result<Node?, AlertFileError> {
        do {
            let root = try Yams.compose(yaml: text)
            return .success(root?.null == nil ? root : nil)
        } catch let error as YamlError {
            return .failure(AlertFileError(file: file, line: yamlLine(error), field: "", message: "not valid YAML: \(error)"))
        } catch {
            return .failure(AlertFileError(file: file, line: 1, field: "", message: "not valid YAML: \(error)"))
        }
    }

    /// Parses a composed document; `extraKeys` are further top-level keys the caller reads itself.
    static func parse(_ root: Node, file: String, extraKeys: Set<String>) -> (AlertConfiguration, [AlertFileError]) {
        let sink = YAMLFields.ErrorSink()
        var config = AlertConfiguration()
        guard let fields = YAMLFields(root, path: "", file: file, sink: sink) else { return (config, sink.errors) }
        fields.rejectUnknown(topLevel.union(extraKeys))
        for (node, path) in fields.list("topics") {
            guard let t = YAMLFields(node, path: path, file: file, sink: sink), let topic = topic(t) else { continue }
            config.topics.append(topic)
            config.topicLocations[topic.name] = .init(file: file, line: t.line)
        }
        for (node, path) in fields.list("alarms") {
            guard let a = YAMLFields(node, path: path, file: file, sink: sink) else { continue }
            let name = a.string("name", required: true)
            if let name, let alarm = metricAlarm(a, name: name) {
                config.alarms.append(.metric(alarm))
                config.alarmLocations[name] = .init(file: file, line: a.line)
            }
        }
        for (node, path) in fields.list("composite_alarms") {
            guard let a = YAMLFields(node, path: path, file: file, sink: sink) else { continue }
            let name = a.string("name", required: true)
            if let name, let alarm = compositeAlarm(a, name: name) {
                config.alarms.append(.composite(alarm))
                config.alarmLocations[name] = .init(file: file, line: a.line)
            }
        }
        for (node, path) in fields.list("metric_filters") {
            guard let f = YAMLFields(node, path: path, file: file, sink: sink), let filter = metricFilter(f) else { continue }
            config.metricFilters.append(filter)
            config.metricFilterLocations[filter.name] = .init(file: file, line: f.line)
        }
        return (config, sink.errors)
    }

    /// A metric filter: a log group's pattern turned into a metric.
    static func metricFilter(_ f: YAMLFields) -> MetricFilter? {
        f.rejectUnknown(metricFilterFields)
        let before = f.errorCount
        let name = f.string("name", required: true)
        let group = f.string("log_group", required: true)
        let patternText = f.string("pattern", required: true)
        let namespace = f.string("namespace", required: true)
        let metric = f.string("metric", required: true)
        let valueText = f.string("value") ?? "1"
        let defaultValue = f.double("default_value")
        if let defaultValue, !MetricFilter.storable(defaultValue) { f.error("default_value", "must have a magnitude between 2^-360 and 2^360, or be 0") }
        let dimensions = f.stringMap("dimensions") ?? [:]
        if dimensions.count > 3 { f.error("dimensions", "a metric filter has at most 3 dimensions") }
        var unit: MetricUnit?
        if let text = f.string("unit") {
            unit = MetricUnit(rawValue: text)
            if unit == nil { f.error("unit", "'\(text)' is not a CloudWatch unit") }
        }
        var pattern: FilterPattern?
        if let patternText {
            do { pattern = try FilterPattern(patternText) } catch { f.error("pattern", error.message) }
        }
        if let group {
            do { try LogLimits.checkGroupName(group) } catch { f.error("log_group", error.message) }
        }
        let value: MetricFilter.Value
        if valueText.hasPrefix("$") {
            value = .field(String(valueText.dropFirst()))
        } else if let number = Double(valueText), MetricFilter.storable(number) {
            value = .constant(number)
        } else {
            f.error("value", "'\(valueText)' must be a number (finite, magnitude at most 2^360) or a captured $field")
            value = .constant(1)
        }
        guard f.errorCount == before, let name, let group, let pattern, let namespace, let metric else { return nil }
        return MetricFilter(
            name: name, group: group, pattern: pattern, namespace: namespace, metric: metric, value: value,
            defaultValue: defaultValue, unit: unit, dimensions: dimensions)
    }

    /// Reads every `*.yaml`/`*.yml` file directly in `directory` (not `tests/`), in name order, and checks them
    /// together. A missing directory is an empty configuration.
    public static func load(directory: String, extraAlarms: Set<String> = [], extraTopics: Set<String> = [])
        -> (AlertConfiguration, [AlertFileError])
    {
        var config = AlertConfiguration()
        var errors: [AlertFileError] = []
        for path in alertFiles(in: directory) {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                errors.append(AlertFileError(file: path, line: 0, field: "", message: "cannot read the file"))
                continue
            }
            let (fileConfig, fileErrors) = parse(text, file: path)
            config.merge(fileConfig)
            errors += fileErrors
        }
        errors += config.crossCheck(extraAlarms: extraAlarms, extraTopics: extraTopics)
        return (config, errors)
    }

    public static func alertFiles(in directory: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted().map { directory + "/" + $0 }
    }

    /// An alarm sent to `PUT /api/v1/alarms/{name}` as JSON (or YAML): metric fields, or `rule` for a composite.
    public static func parseAlarmDocument(_ text: String, name: String) -> Result<AlarmDefinition, AlertFileErrors> {
        let sink = YAMLFields.ErrorSink()
        let file = "request body"
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch {
            return .failure(AlertFileErrors([AlertFileError(file: file, line: 1, field: "", message: "not valid JSON: \(error)")]))
        }
        guard let root, let fields = YAMLFields(root, path: "", file: file, sink: sink) else {
            return .failure(AlertFileErrors(sink.errors.isEmpty
                ? [AlertFileError(file: file, line: 1, field: "", message: "the body must be a JSON object")] : sink.errors))
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

    /// A metric filter sent to `PUT /api/v1/metric-filters/{name}` (the alert-file fields as JSON).
    public static func parseMetricFilterDocument(_ text: String, name: String) -> Result<MetricFilter, AlertFileErrors> {
        let sink = YAMLFields.ErrorSink()
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch {
            return .failure(AlertFileErrors([AlertFileError(file: "request body", line: 1, field: "", message: "not valid JSON: \(error)")]))
        }
        guard let root, case .mapping(var mapping) = root else {
            return .failure(AlertFileErrors([AlertFileError(file: "request body", line: 1, field: "", message: "the body must be a JSON object")]))
        }
        if let given = mapping["name"]?.string, given != name {
            return .failure(AlertFileErrors([AlertFileError(file: "request body", line: 1, field: "name", message: "'\(given)' differs from the name in the path ('\(name)')")]))
        }
        mapping["name"] = Node(name)
        guard let fields = YAMLFields(.mapping(mapping), path: "", file: "request body", sink: sink), let filter = metricFilter(fields), sink.errors.isEmpty else {
            return .failure(AlertFileErrors(sink.errors))
        }
        return .success(filter)
    }

    /// Alarm names: 1–255 printable characters (CloudWatch).
    static func checkName(_ name: String, _ fields: YAMLFields) -> Bool {
        guard !name.isEmpty, name.count <= 255, !name.contains(where: { $0.isNewline || $0.asciiValue.map { $0 < 32 } == true })
        else {
            fields.error("name", "an alarm name has 1 to 255 printable characters")
            return false
        }
        return true
    }

    static func metricAlarm(_ a: YAMLFields, name: String) -> MetricAlarm? {
        a.rejectUnknown(metricAlarmFields)
        let before = a.errorCount
        _ = checkName(name, a)
        // Either one series (namespace, metric, dimensions, statistic) or metric math (`metrics`).
        var math: [MetricDataQuery]?
        if let node = a.node("metrics"), node.null == nil {
            for key in ["namespace", "metric", "dimensions", "statistic"] where a.node(key) != nil {
                a.error(key, "an alarm on metrics (metric math) has no \(key) of its own")
            }
            do {
                let queries = try MetricData.decodeQueries(plainValue(node), at: a.fieldPath("metrics"))
                _ = try MetricData.validate(queries)
                let returned = queries.filter(\.returnData)
                if returned.count != 1 {
                    a.error("metrics", "exactly one query must have return: true (the one the alarm watches); \(returned.count) do")
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
            if statistic == nil { a.error("statistic", "'\(text)' is not SampleCount, Sum, Average, Minimum, Maximum or pNN") }
        }
        let period = a.int("period", required: true)
        if let period, !(period == 10 || period == 30 || (period > 0 && period % 60 == 0 && period <= 86_400)) {
            a.error("period", "\(period) must be 10, 30 or a multiple of 60 seconds, at most 86400")
        }
        let n = a.int("evaluation_periods", required: true)
        if let n, n < 1 { a.error("evaluation_periods", "must be at least 1") }
        if let n, let period, n >= 1, period > 0, n > 86_400 / period {
            let total = n.multipliedReportingOverflow(by: period)
            a.error("evaluation_periods", "period × evaluation_periods is \(total.overflow ? "over 2^63" : String(total.partialValue)) s; at most 86400 s (one day)")
        }
        let m = a.int("datapoints_to_alarm")
        if let m, let n, m < 1 || m > n { a.error("datapoints_to_alarm", "must be between 1 and evaluation_periods (\(n))") }
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
    static func severity(_ a: YAMLFields) -> String? {
        guard let text = a.string("severity") else { return nil }
        guard !text.isEmpty, text.count <= 64, !text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            a.error("severity", "a severity has 1 to 64 printable characters (critical, warning, info…)")
            return nil
        }
        return text
    }

    /// A YAML node as JSON values (maps, lists, strings; `true`/`false` as booleans), as a JSON parse gives them.
    static func plainValue(_ node: Node) -> JSONValue {
        if let mapping = node.mapping {
            var out: [String: JSONValue] = [:]
            for (k, v) in mapping { out[k.string ?? ""] = plainValue(v) }
            return .object(out)
        }
        if let sequence = node.sequence { return .array(sequence.map(plainValue)) }
        let text = node.string ?? ""
        switch text {
        case "true", "True", "TRUE": return .bool(true)
        case "false", "False", "FALSE": return .bool(false)
        default: return .string(text)
        }
    }

    static func compositeAlarm(_ a: YAMLFields, name: String) -> CompositeAlarm? {
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

    static func actionLists(_ a: YAMLFields) -> AlarmActions {
        var actions = AlarmActions()
        actions.alarm = a.stringList("alarm_actions")
        actions.ok = a.stringList("ok_actions")
        actions.insufficientData = a.stringList("insufficient_data_actions")
        for (key, list) in [("alarm_actions", actions.alarm), ("ok_actions", actions.ok), ("insufficient_data_actions", actions.insufficientData)]
        where list.count > 5 {
            a.error(key, "at most 5 actions per state")
        }
        return actions
    }

    static func topic(_ t: YAMLFields) -> TopicDefinition? {
        t.rejectUnknown(topicFields)
        let before = t.errorCount
        guard let name = t.string("name", required: true) else { return nil }
        if let problem = TopicDefinition.validateName(name) { t.error("name", problem) }
        let policy = t.nested("delivery_policy").flatMap(deliveryPolicy)
        var subscriptions: [SubscriptionDefinition] = []
        for (node, path) in t.list("subscriptions") {
            guard let s = YAMLFields(node, path: path, file: t.file, sink: t.sinkForChildren) else { continue }
            s.rejectUnknown(subscriptionFields)
            let sBefore = s.errorCount
            let proto = s.enum("protocol", SubscriptionProtocol.self, required: true)
            let endpoint = s.string("endpoint", required: true)
            var format = WebhookFormat.plumb
            if let name = s.string("format") {
                if let value = WebhookFormat(named: name) { format = value } else { s.error("format", "'\(name)' must be \(WebhookFormat.accepted)") }
            }
            let secretEnv = s.string("secret_env")
            let subPolicy = s.nested("delivery_policy").flatMap(deliveryPolicy)
            guard s.errorCount == sBefore, let proto, let endpoint else { continue }
            let subscription = SubscriptionDefinition(
                protocol: proto, endpoint: endpoint, secretEnv: secretEnv, format: format, deliveryPolicy: subPolicy)
            if let (field, problem) = subscription.problem() {
                s.error(field == "secret" ? "secret_env" : field, problem)
                continue
            }
            if proto != .webhook, s.node("format") != nil { s.error("format", "applies to webhooks only") }
            subscriptions.append(subscription)
        }
        guard t.errorCount == before else { return nil }
        return TopicDefinition(name: name, deliveryPolicy: policy, subscriptions: subscriptions)
    }

    static func deliveryPolicy(_ p: YAMLFields) -> DeliveryPolicy? {
        p.rejectUnknown(policyFields)
        let before = p.errorCount
        var policy = DeliveryPolicy()
        if let n = p.int("num_retries") { policy.numRetries = n }
        if let v = p.double("min_delay") { policy.minDelay = v }
        if let v = p.double("max_delay") { policy.maxDelay = v } else if p.node("min_delay") != nil {
            policy.maxDelay = max(policy.minDelay, policy.maxDelay)
        }
        if let b = p.enum("backoff", DeliveryPolicy.Backoff.self) { policy.backoff = b }
        guard p.errorCount == before else { return nil }
        if let problem = policy.validate() {
            p.error(nil, problem)
            return nil
        }
        return policy
    }

    static func yamlLine(_ error: YamlError) -> Int {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _): mark.line
        default: 1
        }
    }
}

extension YAMLFields {
    var errorCount: Int { sinkForChildren.errors.count }
}
