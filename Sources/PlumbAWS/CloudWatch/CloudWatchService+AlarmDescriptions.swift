import Foundation
import PlumbAPI
import PlumbAlarms
import PlumbMetrics

/// DescribeAlarms, DescribeAlarmsForMetric and DescribeAlarmHistory: every alarm (the API's and the alert files')
/// in CloudWatch's shapes.
extension CloudWatchService {
    func describeAlarms(_ input: [String: JSONValue]) throws -> [String: JSONValue] {
        let wanted = Set(try strings(input, "AlarmNames"))
        let prefix = try optionalString(input, "AlarmNamePrefix")
        if !wanted.isEmpty, prefix != nil {
            throw AWSError(
                code: "InvalidParameterCombination", type: "InvalidParameterCombinationException",
                "AlarmNames and AlarmNamePrefix cannot both be given.")
        }
        for member in ["ChildrenOfAlarmName", "ParentsOfAlarmName"] where input[member] != nil {
            throw AWSError.invalidParameter("\(member) is not served on the AWS API yet")
        }
        let state = try optionalString(input, "StateValue")
        if let state, AlarmState(rawValue: state) == nil {
            throw AWSError.invalidParameter("StateValue must be OK, ALARM or INSUFFICIENT_DATA")
        }
        let actionPrefix = try optionalString(input, "ActionPrefix")
        let types = Set(try strings(input, "AlarmTypes"))
        if let unknown = types.first(where: { $0 != "MetricAlarm" && $0 != "CompositeAlarm" }) {
            throw AWSError.invalidParameter("AlarmTypes: '\(unknown)' is not MetricAlarm or CompositeAlarm")
        }
        let maxRecords = try pageSize(input)
        let list = alarms.list().filter { status in
            // With no AlarmTypes, CloudWatch lists metric alarms only.
            let composite = if case .composite = status.definition { true } else { false }
            let actions = status.definition.actions
            return (composite ? types.contains("CompositeAlarm") : types.isEmpty || types.contains("MetricAlarm"))
                && (wanted.isEmpty || wanted.contains(status.definition.name))
                && (prefix.map { status.definition.name.hasPrefix($0) } ?? true)
                && (state.map { status.state.rawValue == $0 } ?? true)
                && (actionPrefix.map { wantedPrefix in
                    (actions.alarm + actions.ok + actions.insufficientData).contains {
                        names.topicARN($0).hasPrefix(wantedPrefix)
                    }
                } ?? true)
        }
        let offset = try pageOffset(input["NextToken"], count: list.count)
        let page = list.dropFirst(offset).prefix(maxRecords)
        var metric: [JSONValue] = []
        var composite: [JSONValue] = []
        for status in page {
            switch status.definition {
            case .metric(let alarm): metric.append(describe(alarm, status))
            case .composite(let alarm): composite.append(describe(alarm, status))
            }
        }
        var output: [String: JSONValue] = ["MetricAlarms": .array(metric), "CompositeAlarms": .array(composite)]
        if offset + page.count < list.count {
            output["NextToken"] = AWSPageToken.encode(offset + page.count)
        }
        return output
    }

    func describeAlarmsForMetric(_ input: [String: JSONValue]) throws -> [String: JSONValue] {
        guard let namespace = try optionalString(input, "Namespace"),
            let metric = try optionalString(input, "MetricName")
        else { throw AWSError.missingParameter("Namespace and MetricName are required.") }
        var dimensions: [PlumbAPI.Dimension] = []
        if case .array(let items)? = input["Dimensions"] {
            for item in items {
                if case .object(let pair) = item, case .string(let n)? = pair["Name"],
                    case .string(let v)? = pair["Value"]
                {
                    dimensions.append(PlumbAPI.Dimension(name: n, value: v))
                }
            }
        }
        let statistic = try optionalString(input, "Statistic") ?? optionalString(input, "ExtendedStatistic")
        let period = input["Period"].flatMap { if case .number(let n) = $0 { Int64(exactly: n) } else { nil } }
        let matching = alarms.list().compactMap { status -> JSONValue? in
            // Only alarms on one series, as CloudWatch (not those on metric math).
            guard case .metric(let alarm) = status.definition, alarm.metrics == nil,
                alarm.series.namespace == namespace,
                alarm.series.name == metric,
                dimensions.isEmpty || Set(alarm.series.dimensions) == Set(dimensions),
                statistic.map({ $0 == "\(alarm.statistic)" }) ?? true, period.map({ $0 == alarm.period }) ?? true
            else { return nil }
            return describe(alarm, status)
        }
        return ["MetricAlarms": .array(matching)]
    }

    func describeHistory(_ input: [String: JSONValue], name: String?) async throws -> [String: JSONValue] {
        let type = try optionalString(input, "HistoryItemType")
        if let type, !["ConfigurationUpdate", "StateUpdate", "Action"].contains(type) {
            throw AWSError.invalidParameter("HistoryItemType must be ConfigurationUpdate, StateUpdate or Action")
        }
        let start = input["StartDate"] == nil ? nil : try time(input, "StartDate")
        let end = input["EndDate"] == nil ? nil : try time(input, "EndDate")
        let maxRecords = try pageSize(input)
        let alarmNames = name.map { [$0] } ?? alarms.list().map(\.definition.name)
        var items: [(name: String, composite: Bool, item: AlarmHistoryItem)] = []
        for alarm in alarmNames {
            // An alarm that does not exist (or was deleted meanwhile) has no history to show here.
            guard let status = alarms.status(alarm) else { continue }
            let composite = if case .composite = status.definition { true } else { false }
            let history: [AlarmHistoryItem]
            do {
                history = try await alarms.history(of: alarm, type: type, limit: 1_000, before: end)
            } catch let error as AlarmError where error.status == 404 {
                continue
            }
            for item in history {
                if let start, item.timestamp < start { continue }
                items.append((alarm, composite, item))
            }
        }
        // Newest first (ScanBy TimestampDescending, CloudWatch's default), a page at a time.
        items.sort { $0.item.timestamp > $1.item.timestamp }
        let offset = try pageOffset(input["NextToken"], count: items.count)
        let page = items.dropFirst(offset).prefix(maxRecords)
        var output: [String: JSONValue] = [
            "AlarmHistoryItems": .array(
                page.map { entry in
                    var members: [String: JSONValue] = [
                        "AlarmName": .string(entry.name),
                        "AlarmType": .string(entry.composite ? "CompositeAlarm" : "MetricAlarm"),
                        "Timestamp": .number(Double(entry.item.timestamp)),
                        "HistoryItemType": .string(entry.item.type),
                        "HistorySummary": .string(entry.item.summary),
                    ]
                    if let data = entry.item.data { members["HistoryData"] = .string(data) }
                    return .object(members)
                })
        ]
        if offset + page.count < items.count {
            output["NextToken"] = AWSPageToken.encode(offset + page.count)
        }
        return output
    }

    /// `MaxRecords`: 1 to 100, 50 when absent (CloudWatch's).
    func pageSize(_ input: [String: JSONValue]) throws -> Int {
        guard let value = input["MaxRecords"] else { return 50 }
        guard case .number(let n) = value, let size = Int(exactly: n), (1...100).contains(size) else {
            throw AWSError.invalidParameter("MaxRecords must be 1 to 100")
        }
        return size
    }

    func describe(_ alarm: MetricAlarm, _ status: AlarmEngine.Status) -> JSONValue {
        var members = common(alarm.name, alarm.description, alarm.actions, status)
        if let queries = alarm.metrics {
            members["Metrics"] = .array(queries.map { describe($0, period: alarm.period) })
        } else {
            members["Namespace"] = .string(alarm.series.namespace)
            members["MetricName"] = .string(alarm.series.name)
            members["Dimensions"] = dimensions(alarm.series)
            if case .percentile = alarm.statistic {
                members["ExtendedStatistic"] = .string("\(alarm.statistic)")
            } else {
                members["Statistic"] = .string("\(alarm.statistic)")
            }
            members["Period"] = .number(Double(alarm.period))
        }
        members["EvaluationPeriods"] = .number(Double(alarm.evaluationPeriods))
        members["DatapointsToAlarm"] = .number(Double(alarm.datapointsToAlarm))
        members["Threshold"] = .number(alarm.threshold)
        members["ComparisonOperator"] = .string(alarm.comparison.rawValue)
        members["TreatMissingData"] = .string(alarm.treatMissingData.rawValue)
        return .object(members)
    }

    /// One query of a metric-math alarm as CloudWatch's `MetricDataQuery` (a metric's period is the alarm's).
    func describe(_ query: MetricDataQuery, period: Int64) -> JSONValue {
        var members: [String: JSONValue] = ["Id": .string(query.id), "ReturnData": .bool(query.returnData)]
        if let label = query.label { members["Label"] = .string(label) }
        switch query.source {
        case .expression(_, let text):
            members["Expression"] = .string(text)
        case .metric(let series, let statistic):
            members["MetricStat"] = .object([
                "Metric": .object([
                    "Namespace": .string(series.namespace), "MetricName": .string(series.name),
                    "Dimensions": dimensions(series),
                ]),
                "Period": .number(Double(period)), "Stat": .string("\(statistic)"),
            ])
        }
        return .object(members)
    }

    func dimensions(_ series: SeriesKey) -> JSONValue {
        .array(series.dimensions.map { .object(["Name": .string($0.name), "Value": .string($0.value)]) })
    }

    func describe(_ alarm: CompositeAlarm, _ status: AlarmEngine.Status) -> JSONValue {
        var members = common(alarm.name, alarm.description, alarm.actions, status)
        members["AlarmRule"] = .string(alarm.ruleText)
        if let suppressor = alarm.actionsSuppressor {
            members["ActionsSuppressor"] = .string(names.alarmARN(suppressor))
            members["ActionsSuppressorWaitPeriod"] = .number(Double(alarm.waitPeriod))
            members["ActionsSuppressorExtensionPeriod"] = .number(Double(alarm.extensionPeriod))
        }
        return .object(members)
    }

    func common(
        _ name: String, _ description: String?, _ actions: AlarmActions, _ status: AlarmEngine.Status
    )
        -> [String: JSONValue]
    {
        var members: [String: JSONValue] = [
            "AlarmName": .string(name), "AlarmArn": .string(names.alarmARN(name)),
            "ActionsEnabled": .bool(actions.enabled),
            "AlarmActions": .array(actions.alarm.map { .string(names.topicARN($0)) }),
            "OKActions": .array(actions.ok.map { .string(names.topicARN($0)) }),
            "InsufficientDataActions": .array(actions.insufficientData.map { .string(names.topicARN($0)) }),
            "StateValue": .string(status.state.rawValue), "StateReason": .string(status.reason),
            "StateUpdatedTimestamp": .number(Double(status.updatedAt)),
        ]
        if let description { members["AlarmDescription"] = .string(description) }
        if let data = status.reasonData { members["StateReasonData"] = .string(data) }
        return members
    }
}
