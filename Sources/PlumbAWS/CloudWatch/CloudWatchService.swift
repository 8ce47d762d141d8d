import Foundation
import PlumbAPI
import PlumbAlarms
import PlumbMetrics

/// CloudWatch (`monitoring`) over the metric store: the same series `plumb metrics` and the dashboards read. Each
/// operation is authorized as Plumb's own API authorizes the same work (`cloudwatch:PutMetricData` is
/// `metrics:PutMetricData` on `metric/*`), so one policy governs both surfaces.
public struct CloudWatchService: AWSService {
    public static let signingName = "monitoring"
    public static let targetPrefix = "GraniteServiceVersion20100801"
    public static let queryVersion: String? = "2010-08-01"
    public static let iamPrefix = "cloudwatch"
    public static let queryCompatible = true
    public static let xmlNamespace = "http://monitoring.amazonaws.com/doc/2010-08-01/"
    /// CloudWatch's members that are not text, as its model types them (`Value` is a datum's number except in
    /// `Dimensions`).
    public static let memberTypes = AWSMemberTypes(
        numbers: [
            "ActionsSuppressorExtensionPeriod", "ActionsSuppressorWaitPeriod", "Counts", "DatapointsToAlarm",
            "EvaluationInterval", "EvaluationPeriods", "MaxContributorCount", "MaxDatapoints", "MaxRecords",
            "MaxResults", "Maximum", "Minimum", "PendingPeriod", "Period", "RecoveryPeriod", "SampleCount",
            "StorageResolution", "Sum", "Threshold", "Value", "Values",
        ],
        doubles: [
            "AggregateValue", "ApproximateAggregateValue", "ApproximateValue", "Average", "Counts",
            "ExtendedStatistics", "MaxContributorValue", "Maximum", "Minimum", "SampleCount", "Sum", "Threshold",
            "UniqueContributors", "Value", "Values",
        ],
        booleans: [
            "ActionsEnabled", "ApplyOnTransformedLogs", "IncludeLinkedAccounts", "IncludeLinkedAccountsMetrics",
            "PeriodicSpikes", "ReturnData", "StrictEntityValidation",
        ],
        timestamps: [
            "AlarmConfigurationUpdatedTimestamp", "EndDate", "EndTime", "StartDate", "StartTime",
            "StateTransitionedTimestamp", "StateUpdatedTimestamp", "Timestamp", "Timestamps", "LastModified",
        ],
        maps: ["ExtendedStatistics"],
        lists: [
            "AlarmActions", "AlarmNames", "AlarmTypes", "Counts", "Dimensions", "ExtendedStatistics",
            "InsufficientDataActions", "MetricData", "MetricDataQueries", "Metrics", "OKActions", "Statistics",
            "Tags", "Values",
        ],
        textValueLists: ["Dimensions"])
    /// ListMetrics answers 500 metrics a page, as CloudWatch.
    static let listPageSize = 500

    let store: any MetricStoring
    let alarms: AlarmEngine
    let names: AWSNames
    let decoder: PutMetricDataDecoder
    /// Called with the samples of each PutMetricData stored (the usage counters).
    let ingested: @Sendable (Int) -> Void

    public init(
        store: any MetricStoring, alarms: AlarmEngine, names: AWSNames = AWSNames(), limits: IngestLimits,
        ingested: @escaping @Sendable (Int) -> Void
    ) {
        self.store = store
        self.alarms = alarms
        self.names = names
        decoder = PutMetricDataDecoder(limits: limits, keys: .aws)
        self.ingested = ingested
    }

    /// Plumb's IAM action for each operation.
    static let actions: [String: String] = [
        "PutMetricData": "metrics:PutMetricData",
        "ListMetrics": "metrics:ListMetrics",
        "GetMetricStatistics": "metrics:GetMetricStatistics",
        "GetMetricData": "metrics:GetMetricData",
    ]

    public func handle(
        operation: String, input: [String: JSONValue], caller: AWSCaller
    ) async throws -> [String:
        JSONValue]
    {
        if Self.alarmActions[operation] != nil { return try await handleAlarms(operation, input, caller: caller) }
        guard let action = Self.actions[operation] else {
            throw AWSError.unknownOperation(operation, service: "CloudWatch")
        }
        try caller.authorize(action, "metric/*")
        switch operation {
        case "PutMetricData": return try await putMetricData(input, caller: caller)
        case "ListMetrics": return try await listMetrics(input)
        case "GetMetricData": return try await getMetricData(input)
        default: return try await getMetricStatistics(input)
        }
    }

    /// Stores the whole batch or nothing (CloudWatch's rule), once synced.
    func putMetricData(_ input: [String: JSONValue], caller: AWSCaller) async throws -> [String: JSONValue] {
        if case .string(let namespace)? = input["Namespace"] {
            if namespace.hasPrefix("AWS/") {
                throw AWSError.invalidParameter("The value \(namespace) for parameter Namespace is invalid.")
            }
            if namespace.hasPrefix("Plumb/") && !caller.isAdmin {
                throw AWSError(
                    code: "AccessDenied", type: "AccessDeniedException",
                    "namespace '\(namespace)' is reserved to the admin key", status: 400)
            }
        }
        // `EntityMetricData` and `StrictEntityValidation` (entities for Explore) have nothing to attach to here.
        if case .array(let data)? = input["MetricData"], data.count > decoder.validator.limits.maxDatumsPerRequest {
            throw AWSError.invalidParameter(
                "The collection MetricData must not have a size greater than \(decoder.validator.limits.maxDatumsPerRequest)."
            )
        }
        var metricInput = input
        metricInput["EntityMetricData"] = nil
        metricInput["StrictEntityValidation"] = nil
        let samples = try decoder.decode(metricInput, now: store.clock())
        try await store.put(samples)
        ingested(samples.count)
        return [:]
    }

    /// The series that exist, filtered by namespace, name and dimensions (a filter without a value matches any
    /// value), 500 a page.
    func listMetrics(_ input: [String: JSONValue]) async throws -> [String: JSONValue] {
        let namespace = try optionalString(input, "Namespace")
        let name = try optionalString(input, "MetricName")
        var filters: [(name: String, value: String?)] = []
        if let dimensions = input["Dimensions"] {
            guard case .array(let items) = dimensions, items.count <= 10 else {
                throw AWSError.invalidParameter("Dimensions must be a list of at most 10 filters")
            }
            for (index, item) in items.enumerated() {
                guard case .object(let pair) = item, case .string(let filterName)? = pair["Name"] else {
                    throw AWSError.invalidParameter("Dimensions.member.\(index + 1).Name is required")
                }
                filters.append((filterName, pair["Value"]?.string))
            }
        }
        if input["RecentlyActive"] != nil, input["RecentlyActive"]?.string != "PT3H" {
            throw AWSError.invalidParameter("RecentlyActive must be PT3H")
        }
        var series = try await store.listMetrics(namespace: namespace, name: name).filter { info in
            filters.allSatisfy { filter in
                info.key.dimensions.contains {
                    $0.name == filter.name && (filter.value == nil || $0.value == filter.value)
                }
            }
        }
        series.sort { ($0.key.namespace, $0.key.name) < ($1.key.namespace, $1.key.name) }
        let offset = try pageOffset(input["NextToken"], count: series.count)
        let page = series.dropFirst(offset).prefix(Self.listPageSize)
        var output: [String: JSONValue] = [
            "Metrics": .array(
                page.map { info in
                    .object([
                        "Namespace": .string(info.key.namespace), "MetricName": .string(info.key.name),
                        "Dimensions": .array(
                            info.key.dimensions.map {
                                .object(["Name": .string($0.name), "Value": .string($0.value)])
                            }),
                    ])
                })
        ]
        if offset + page.count < series.count {
            output["NextToken"] = AWSPageToken.encode(offset + page.count)
        }
        return output
    }

    /// One series' statistics per period (`Statistics` or `ExtendedStatistics` pNN, not both), oldest first.
    func getMetricStatistics(_ input: [String: JSONValue]) async throws -> [String: JSONValue] {
        guard let namespace = try optionalString(input, "Namespace") else {
            throw AWSError.missingParameter("The parameter Namespace is required.")
        }
        guard let name = try optionalString(input, "MetricName") else {
            throw AWSError.missingParameter("The parameter MetricName is required.")
        }
        var dimensions: [PlumbAPI.Dimension] = []
        if case .array(let items)? = input["Dimensions"] {
            for (index, item) in items.enumerated() {
                guard case .object(let pair) = item, case .string(let n)? = pair["Name"],
                    case .string(let v)? = pair["Value"]
                else { throw AWSError.invalidParameter("Dimensions.member.\(index + 1) needs Name and Value") }
                dimensions.append(PlumbAPI.Dimension(name: n, value: v))
            }
        }
        let start = try time(input, "StartTime")
        let end = try time(input, "EndTime")
        guard case .number(let periodNumber)? = input["Period"], let period = Int64(exactly: periodNumber) else {
            throw AWSError.missingParameter("The parameter Period is required and must be a whole number of seconds.")
        }
        let basic = try strings(input, "Statistics")
        let extended = try strings(input, "ExtendedStatistics")
        guard basic.isEmpty != extended.isEmpty else {
            throw AWSError(
                code: "InvalidParameterCombination", type: "InvalidParameterCombinationException",
                "Must specify either Statistics or ExtendedStatistics, but not both.")
        }
        var statistics: [(String, Statistic)] = []
        for text in basic {
            guard let statistic = Statistic(text), !statistic.needsDistribution else {
                throw AWSError.invalidParameter(
                    "Statistics: '\(text)' is not SampleCount, Average, Sum, Minimum or Maximum")
            }
            statistics.append((text, statistic))
        }
        for text in extended {
            guard let statistic = Statistic(text), statistic.needsDistribution else {
                throw AWSError.invalidParameter("ExtendedStatistics: '\(text)' is not a percentile such as p99")
            }
            statistics.append((text, statistic))
        }
        let key = SeriesKey(namespace: namespace, name: name, dimensions: dimensions)
        let query = StatisticsQuery(
            series: key, period: period, start: start, end: end, statistics: statistics.map(\.1))
        let datapoints = try await store.statistics(query)
        let unit = try await store.seriesInfo(key)?.unit?.rawValue ?? "None"
        if let wanted = try optionalString(input, "Unit"), wanted != unit {
            // CloudWatch answers a unit that does not match with no datapoints.
            return ["Label": .string(name), "Datapoints": .array([])]
        }
        return [
            "Label": .string(name),
            "Datapoints": .array(
                datapoints.map { point in
                    var members: [String: JSONValue] = [
                        "Timestamp": .number(Double(point.timestamp)), "Unit": .string(unit),
                    ]
                    var percentiles: [String: JSONValue] = [:]
                    for (text, statistic) in statistics {
                        guard let value = point.values[statistic] else { continue }
                        if statistic.needsDistribution {
                            percentiles[text] = .number(value)
                        } else {
                            members[text] = .number(value)
                        }
                    }
                    if !percentiles.isEmpty { members["ExtendedStatistics"] = .object(percentiles) }
                    return .object(members)
                }),
        ]
    }

    func optionalString(_ input: [String: JSONValue], _ name: String) throws -> String? {
        switch input[name] {
        case nil, .null?: return nil
        case .string(let text)?: return text
        case let other?: throw AWSError.invalidParameter("\(name) must be a string, not \(other.typeName)")
        }
    }

    func strings(_ input: [String: JSONValue], _ name: String) throws -> [String] {
        switch input[name] {
        case nil, .null?: return []
        case .array(let items)?:
            return try items.map {
                guard case .string(let text) = $0 else { throw AWSError.invalidParameter("\(name) must be strings") }
                return text
            }
        case let other?: throw AWSError.invalidParameter("\(name) must be a list, not \(other.typeName)")
        }
    }

    /// A timestamp member: epoch seconds (the JSON protocols) or an ISO 8601 string (the Query protocol).
    func time(_ input: [String: JSONValue], _ name: String) throws -> Int64 {
        switch input[name] {
        case .number(let seconds)?:
            guard let value = Checked.epochSeconds(seconds) else {
                throw AWSError.invalidParameter("\(name) \(seconds) is not a time")
            }
            return value
        case .string(let text)?:
            guard let seconds = TimeParsing.rfc3339(text).flatMap(Checked.epochSeconds) else {
                throw AWSError.invalidParameter("\(name) '\(text)' is not an ISO 8601 time")
            }
            return seconds
        default:
            throw AWSError.missingParameter("The parameter \(name) is required.")
        }
    }

    /// Where a page starts: a `NextToken` this service gave.
    func pageOffset(_ token: JSONValue?, count: Int) throws -> Int {
        guard let token else { return 0 }
        guard case .string(let text) = token, let offset = AWSPageToken.offset(text, count: count) else {
            throw AWSError(code: "InvalidNextToken", "The NextToken is not one this endpoint gave.")
        }
        return offset
    }
}
