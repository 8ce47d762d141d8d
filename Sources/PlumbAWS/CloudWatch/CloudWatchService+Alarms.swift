import Foundation
import PlumbAPI
import PlumbAlarms

/// CloudWatch's alarm operations over the alarm engine: an alarm put through boto3 is an alarm made through the API
/// (`plumb alarms` lists it, it evaluates, notifies its topics and keeps its history), and every alarm, from the
/// alert files too, is described.
extension CloudWatchService {
    /// Plumb's IAM action for each alarm operation.
    static let alarmActions: [String: String] = [
        "PutMetricAlarm": "alarms:PutAlarm",
        "PutCompositeAlarm": "alarms:PutAlarm",
        "DescribeAlarms": "alarms:ListAlarms",
        "DescribeAlarmsForMetric": "alarms:ListAlarms",
        "DescribeAlarmHistory": "alarms:GetAlarmHistory",
        "SetAlarmState": "alarms:SetAlarmState",
        "DeleteAlarms": "alarms:DeleteAlarm",
        "EnableAlarmActions": "alarms:PutAlarm",
        "DisableAlarmActions": "alarms:PutAlarm",
    ]

    /// The alarm operations (their input and output as CloudWatch's model names the members).
    func handleAlarms(
        _ operation: String, _ input: [String: JSONValue], caller: AWSCaller
    ) async throws -> [String:
        JSONValue]
    {
        switch operation {
        case "PutMetricAlarm":
            let name = try alarmName(input)
            try caller.authorize("alarms:PutAlarm", "alarm/\(name)")
            try await put(name, document: try metricAlarmDocument(input))
            return [:]
        case "PutCompositeAlarm":
            let name = try alarmName(input)
            try caller.authorize("alarms:PutAlarm", "alarm/\(name)")
            try await put(name, document: try compositeAlarmDocument(input))
            return [:]
        case "DescribeAlarms":
            try caller.authorize("alarms:ListAlarms", "alarm/*")
            return try describeAlarms(input)
        case "DescribeAlarmsForMetric":
            try caller.authorize("alarms:ListAlarms", "alarm/*")
            return try describeAlarmsForMetric(input)
        case "DescribeAlarmHistory":
            let name = try optionalString(input, "AlarmName")
            try caller.authorize("alarms:GetAlarmHistory", "alarm/\(name ?? "*")")
            return try await describeHistory(input, name: name)
        case "SetAlarmState":
            let name = try alarmName(input)
            try caller.authorize("alarms:SetAlarmState", "alarm/\(name)")
            guard let stateText = try optionalString(input, "StateValue"), let state = AlarmState(rawValue: stateText)
            else { throw AWSError.invalidParameter("StateValue must be OK, ALARM or INSUFFICIENT_DATA") }
            guard let reason = try optionalString(input, "StateReason") else {
                throw AWSError.missingParameter("The parameter StateReason is required.")
            }
            try await alarmCall {
                try await alarms.setState(
                    name, state, reason: reason, reasonData: try optionalString(input, "StateReasonData"),
                    now: store.clock())
            }
            return [:]
        case "EnableAlarmActions", "DisableAlarmActions":
            // CloudWatch skips names that are no alarm; an alarm declared in a file is refused.
            let names = try alarmNames(input)
            try caller.authorizeEach("alarms:PutAlarm", names.map { "alarm/\($0)" })
            _ = try await alarmCall {
                try await alarms.setActionsEnabled(
                    operation == "EnableAlarmActions", names: names, now: store.clock())
            }
            return [:]
        default:  // DeleteAlarms
            let names = try alarmNames(input)
            try caller.authorizeEach("alarms:DeleteAlarm", names.map { "alarm/\($0)" })
            try await deleteAlarms(names)
            return [:]
        }
    }

    /// `AlarmNames`: 1 to 100 names.
    func alarmNames(_ input: [String: JSONValue]) throws -> [String] {
        let names = Array(Set(try strings(input, "AlarmNames"))).sorted()
        guard !names.isEmpty, names.count <= 100 else {
            throw AWSError.invalidParameter("AlarmNames must name 1 to 100 alarms")
        }
        return names
    }

    /// All or nothing, as CloudWatch: every name is checked first (it exists, it was made through an API, no
    /// composite outside the set reads it), then composites go before the alarms they read.
    func deleteAlarms(_ names: [String]) async throws {
        let set = Set(names)
        let statuses = alarms.list()
        var composites: [String] = []
        if let missing = names.first(where: { name in !statuses.contains { $0.definition.name == name } }) {
            throw AWSError(code: "ResourceNotFound", "alarm '\(missing)' does not exist", status: 404)
        }
        for name in names {
            guard let status = statuses.first(where: { $0.definition.name == name }) else { continue }
            if case .file(let location) = status.origin {
                throw AWSError.invalidParameter(
                    "alarm '\(name)' is declared in \(location); remove it from the file and reload")
            }
            if case .composite = status.definition { composites.append(name) }
            for other in statuses where !set.contains(other.definition.name) {
                guard case .composite(let composite) = other.definition,
                    composite.rule.references.contains(name) || composite.actionsSuppressor == name
                else { continue }
                throw AWSError.invalidParameter("alarm '\(name)' is used by composite alarm '\(composite.name)'")
            }
        }
        // Composites that read other composites of the set go first: repeat until every one is gone.
        var remaining = composites
        while !remaining.isEmpty {
            let before = remaining.count
            for name in remaining {
                let readers = alarms.list().contains { status in
                    guard case .composite(let c) = status.definition, c.name != name else { return false }
                    return c.rule.references.contains(name) || c.actionsSuppressor == name
                }
                guard !readers else { continue }
                try await alarmCall { try await alarms.delete(name: name) }
                remaining.removeAll { $0 == name }
            }
            guard remaining.count < before else { break }
        }
        for name in names where !composites.contains(name) {
            try await alarmCall { try await alarms.delete(name: name) }
        }
    }

    func alarmName(_ input: [String: JSONValue]) throws -> String {
        guard let name = try optionalString(input, "AlarmName"), !name.isEmpty, name.utf8.count <= 255 else {
            throw AWSError.missingParameter("The parameter AlarmName is required (1 to 255 characters).")
        }
        return name
    }

    /// The engine's refusals in CloudWatch's terms (an alarm declared in a file is not the API's to change).
    func alarmCall<T>(_ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch let error as AlarmError {
            throw AWSError(
                code: error.status == 404 ? "ResourceNotFound" : "InvalidParameterValue",
                type: error.status == 404 ? "ResourceNotFound" : "InvalidParameterValueException", error.message,
                status: error.status == 404 ? 404 : 400)
        }
    }

    func put(_ name: String, document: [String: JSONValue]) async throws {
        let text = String(decoding: try JSONEncoder().encode(JSONValue.object(document)), as: UTF8.self)
        _ = try await alarmCall { try await alarms.put(name: name, document: text, now: store.clock()) }
    }

    /// PutMetricAlarm's input as the alarm document Plumb's API takes.
    func metricAlarmDocument(_ input: [String: JSONValue]) throws -> [String: JSONValue] {
        var document: [String: JSONValue] = [:]
        if input["Metrics"] != nil {
            try addMetrics(input, to: &document)
        } else {
            try addMetric(input, to: &document)
        }
        for (member, field) in [
            ("EvaluationPeriods", "evaluation_periods"), ("DatapointsToAlarm", "datapoints_to_alarm"),
            ("Threshold", "threshold"),
        ] {
            guard let value = input[member] else { continue }
            guard case .number = value else { throw AWSError.invalidParameter("\(member) must be a number") }
            document[field] = value
        }
        for (member, field) in [
            ("ComparisonOperator", "comparison"), ("TreatMissingData", "treat_missing_data"),
            ("AlarmDescription", "description"),
            ("EvaluateLowSampleCountPercentile", "evaluate_low_sample_count_percentile"),
        ] {
            if let value = try optionalString(input, member) { document[field] = .string(value) }
        }
        try addActions(input, to: &document)
        return document
    }

    /// A metric-math alarm's `Metrics`: GetMetricData's queries, exactly one returned (the one the alarm watches),
    /// every period given the same (the alarm's period).
    func addMetrics(_ input: [String: JSONValue], to document: inout [String: JSONValue]) throws {
        for member in ["Namespace", "MetricName", "Dimensions", "Statistic", "ExtendedStatistic", "Period", "Unit"]
        where input[member] != nil {
            throw AWSError(
                code: "InvalidParameterCombination", type: "InvalidParameterCombinationException",
                "\(member) cannot be given with Metrics: each query names its own metric and period")
        }
        guard case .array(let items) = input["Metrics"], !items.isEmpty, items.count <= 20 else {
            throw AWSError.invalidParameter("Metrics must be a list of 1 to 20 queries")
        }
        var queries: [MetricDataQuery] = []
        var periods: Set<Int64> = []
        for (index, item) in items.enumerated() {
            let (query, period) = try metricDataQuery(item, place: "Metrics.member.\(index + 1)")
            queries.append(query)
            if let period { periods.insert(period) }
        }
        guard let period = periods.first, periods.count == 1 else {
            throw AWSError.invalidParameter(
                periods.isEmpty
                    ? "a metric-math alarm needs a MetricStat.Period (or a query's Period)"
                    : "every query's period must be the same (got \(periods.sorted().map(String.init).joined(separator: ", ")))"
            )
        }
        document["metrics"] = try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(queries))
        document["period"] = .number(Double(period))
    }

    /// A one-series alarm's metric, statistic and period.
    func addMetric(_ input: [String: JSONValue], to document: inout [String: JSONValue]) throws {
        guard let namespace = try optionalString(input, "Namespace"),
            let metric = try optionalString(input, "MetricName")
        else { throw AWSError.missingParameter("Namespace and MetricName are required.") }
        document["namespace"] = .string(namespace)
        document["metric"] = .string(metric)
        var dimensions: [String: JSONValue] = [:]
        if case .array(let items)? = input["Dimensions"] {
            for (index, item) in items.enumerated() {
                guard case .object(let pair) = item, case .string(let n)? = pair["Name"],
                    case .string(let v)? = pair["Value"]
                else { throw AWSError.invalidParameter("Dimensions.member.\(index + 1) needs Name and Value") }
                dimensions[n] = .string(v)
            }
        }
        if !dimensions.isEmpty { document["dimensions"] = .object(dimensions) }
        switch (try optionalString(input, "Statistic"), try optionalString(input, "ExtendedStatistic")) {
        case (let statistic?, nil): document["statistic"] = .string(statistic)
        case (nil, let extended?): document["statistic"] = .string(extended)
        default:
            throw AWSError(
                code: "InvalidParameterCombination", type: "InvalidParameterCombinationException",
                "Exactly one of Statistic or ExtendedStatistic is required.")
        }
        if let value = input["Period"] {
            guard case .number = value else { throw AWSError.invalidParameter("Period must be a number") }
            document["period"] = value
        }
    }

    /// PutCompositeAlarm's input as the alarm document Plumb's API takes.
    func compositeAlarmDocument(_ input: [String: JSONValue]) throws -> [String: JSONValue] {
        guard let rule = try optionalString(input, "AlarmRule") else {
            throw AWSError.missingParameter("The parameter AlarmRule is required.")
        }
        var document: [String: JSONValue] = ["rule": .string(rule)]
        if let description = try optionalString(input, "AlarmDescription") {
            document["description"] = .string(description)
        }
        if let suppressor = try optionalString(input, "ActionsSuppressor") {
            document["actions_suppressor"] = .string(names.alarm(fromARN: suppressor))
        }
        for (member, field) in [
            ("ActionsSuppressorWaitPeriod", "wait_period"), ("ActionsSuppressorExtensionPeriod", "extension_period"),
        ] {
            if let value = input[member] { document[field] = value }
        }
        try addActions(input, to: &document)
        return document
    }

    /// The three action lists: SNS topic ARNs (the topic is the ARN's last part; a bare name is taken too).
    func addActions(_ input: [String: JSONValue], to document: inout [String: JSONValue]) throws {
        if input["ActionsEnabled"]?.bool == false { document["actions_enabled"] = .bool(false) }
        for (member, field) in [
            ("AlarmActions", "alarm_actions"), ("OKActions", "ok_actions"),
            ("InsufficientDataActions", "insufficient_data_actions"),
        ] {
            let arns = try strings(input, member)
            guard arns.count <= 5 else { throw AWSError.invalidParameter("\(member) holds at most 5 actions") }
            if !arns.isEmpty {
                document[field] = .array(try arns.map { .string(try names.topic(fromARN: $0, member: member)) })
            }
        }
    }
}
