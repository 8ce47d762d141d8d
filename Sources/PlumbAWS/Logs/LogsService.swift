import Foundation
import PlumbAPI
import PlumbLogs

/// CloudWatch Logs (`logs`, AWS JSON 1.1) over the log store: a group made or written through boto3 is the group
/// `plumb logs` lists and tails, and its metric filters and retention apply.
public struct LogsService: AWSService {
    public static let signingName = "logs"
    public static let targetPrefix = "Logs_20140328"
    /// Logs' one double among its answers' numbers (the others are longs: times in milliseconds, counts, bytes).
    public static let memberTypes = AWSMemberTypes(doubles: ["defaultValue"])

    let store: any LogStoring
    let names: AWSNames
    /// Installs the metric filters made through an API again from their stored documents (after one changes).
    let reinstallFilters: @Sendable () async throws -> Void
    /// StartLiveTail's sessions running now.
    let liveTails = LiveTailSessions()

    public init(
        store: any LogStoring, names: AWSNames = AWSNames(),
        reinstallFilters: @escaping @Sendable () async throws -> Void
    ) {
        self.store = store
        self.names = names
        self.reinstallFilters = reinstallFilters
    }

    /// Plumb's IAM action for each operation (on `log-group/NAME`).
    static let actions: [String: String] = [
        "CreateLogGroup": "logs:PutLogEvents",
        "CreateLogStream": "logs:PutLogEvents",
        "PutLogEvents": "logs:PutLogEvents",
        "DescribeLogGroups": "logs:ListLogGroups",
        "DescribeLogStreams": "logs:ListLogStreams",
        "GetLogEvents": "logs:GetLogEvents",
        "FilterLogEvents": "logs:GetLogEvents",
        "PutRetentionPolicy": "logs:PutRetentionPolicy",
        "DeleteRetentionPolicy": "logs:PutRetentionPolicy",
        "DeleteLogGroup": "logs:DeleteLogGroup",
        "PutMetricFilter": "logs:PutMetricFilter",
        "DescribeMetricFilters": "logs:ListMetricFilters",
        "DeleteMetricFilter": "logs:DeleteMetricFilter",
    ]

    public func handle(
        operation: String, input: [String: JSONValue], caller: AWSCaller
    ) async throws -> [String:
        JSONValue]
    {
        guard let action = Self.actions[operation] else {
            throw AWSError.unknownOperation(operation, service: "CloudWatch Logs")
        }
        let group =
            ["DescribeLogGroups", "DescribeMetricFilters"].contains(operation)
            ? nil : try string(input, "logGroupName")
        if operation.hasSuffix("MetricFilter") || operation == "DescribeMetricFilters" {
            // Plumb's API names a metric filter by itself: `metric-filter/NAME`.
            let filter = operation == "DescribeMetricFilters" ? "*" : try string(input, "filterName")
            try caller.authorize(action, "metric-filter/\(filter)")
        } else {
            try caller.authorize(action, "log-group/\(group ?? "*")")
        }
        if let group, ["CreateLogGroup", "CreateLogStream", "PutLogEvents"].contains(operation),
            group.hasPrefix("/plumb/")
        {
            throw AWSError(
                code: "AccessDeniedException", "log groups under /plumb/ are written by the server only", status: 400)
        }
        // The audit trail's retention is the admin's, whatever the policies say (as through Plumb's API).
        if group == "/plumb/audit", operation.hasSuffix("RetentionPolicy"), !caller.isAdmin {
            throw AWSError(
                code: "AccessDeniedException", "the retention of /plumb/audit is reserved to the admin key",
                status: 400)
        }
        if group == "/plumb/audit", operation == "DeleteLogGroup" {
            throw AWSError(
                code: "AccessDeniedException", "/plumb/audit is the audit trail and is never deleted", status: 400)
        }
        if let group, operation == "DeleteLogGroup", group.hasPrefix("/plumb/"), !caller.isAdmin {
            throw AWSError(
                code: "AccessDeniedException", "deleting \(group) is reserved to the admin key", status: 400)
        }
        do {
            switch operation {
            case "CreateLogGroup":
                guard try await store.createGroup(group!) else {
                    throw Self.error("ResourceAlreadyExistsException", "The specified log group already exists")
                }
                return [:]
            case "CreateLogStream":
                guard try await store.createStream(group: group!, stream: try string(input, "logStreamName")) else {
                    throw Self.error("ResourceAlreadyExistsException", "The specified log stream already exists")
                }
                return [:]
            case "PutLogEvents": return try await putLogEvents(input, group: group!)
            case "DeleteLogGroup":
                // The group's metric filters go with it, as in CloudWatch.
                try await store.deleteGroupAndItsFilters(group!)
                return [:]
            case "DescribeLogGroups": return try await describeLogGroups(input)
            case "DescribeLogStreams": return try await describeLogStreams(input, group: group!)
            case "GetLogEvents": return try await getLogEvents(input, group: group!)
            case "FilterLogEvents": return try await filterLogEvents(input, group: group!)
            case "PutMetricFilter": return try await putMetricFilter(input, group: group!, caller: caller)
            case "DescribeMetricFilters": return try describeMetricFilters(input)
            case "DeleteMetricFilter": return try await deleteMetricFilter(input, group: group!, caller: caller)
            case "PutRetentionPolicy":
                guard case .number(let n)? = input["retentionInDays"], let days = Int(exactly: n) else {
                    throw Self.error("InvalidParameterException", "retentionInDays is required (a number of days)")
                }
                try await store.setRetention(group: group!, days: days)
                return [:]
            default:  // DeleteRetentionPolicy
                try await store.setRetention(group: group!, days: nil)
                return [:]
            }
        } catch let error as AWSError {
            throw error
        } catch {
            // The log store's refusals in CloudWatch Logs' names (its JSON protocol has no Query codes; every
            // refusal of the caller's is a 400).
            let plumb = AWSError.from(error)
            if plumb.status >= 500 { throw plumb }
            throw Self.error(
                plumb.status == 404 ? "ResourceNotFoundException" : "InvalidParameterException", plumb.message)
        }
    }

    static func error(_ code: String, _ message: String, status: Int = 400) -> AWSError {
        AWSError(code: code, message, status: status)
    }

    func string(_ input: [String: JSONValue], _ name: String) throws -> String {
        guard case .string(let text)? = input[name], !text.isEmpty else {
            throw Self.error("InvalidParameterException", "\(name) is required")
        }
        return text
    }

    func optionalString(_ input: [String: JSONValue], _ name: String) throws -> String? {
        switch input[name] {
        case nil, .null?: return nil
        case .string(let text)?: return text
        default: throw Self.error("InvalidParameterException", "\(name) must be a string")
        }
    }

    func number(_ input: [String: JSONValue], _ name: String) throws -> Int64? {
        switch input[name] {
        case nil, .null?: return nil
        case .number(let n)?:
            guard let whole = Int64(exactly: n.rounded(.down)) else {
                throw Self.error("InvalidParameterException", "\(name) is out of range")
            }
            return whole
        default: throw Self.error("InvalidParameterException", "\(name) must be a number")
        }
    }

    func limit(_ input: [String: JSONValue], default value: Int, max: Int) throws -> Int {
        guard let limit = try number(input, "limit") else { return value }
        guard limit >= 1, limit <= max else {
            throw Self.error("InvalidParameterException", "limit must be 1 to \(max)")
        }
        return Int(limit)
    }

    /// Where a listing page starts: a `nextToken` this service gave.
    func offset(_ input: [String: JSONValue], count: Int) throws -> Int {
        guard let token = try optionalString(input, "nextToken") else { return 0 }
        guard let offset = AWSPageToken.offset(token, count: count) else {
            throw Self.error("InvalidParameterException", "The nextToken is not one this endpoint gave.")
        }
        return offset
    }

    func pageToken(_ offset: Int) -> JSONValue { AWSPageToken.encode(offset) }

    /// Appends the batch to an existing stream (CloudWatch Logs does not create one on write), checked as Plumb's
    /// own API checks a batch: all of it is stored, or none.
    func putLogEvents(_ input: [String: JSONValue], group: String) async throws -> [String: JSONValue] {
        let stream = try string(input, "logStreamName")
        guard case .array(let items)? = input["logEvents"], !items.isEmpty else {
            throw Self.error("InvalidParameterException", "logEvents must hold at least one event")
        }
        let events = try items.enumerated().map { index, item -> InputLogEvent in
            guard case .object(let event) = item, case .number(let ts)? = event["timestamp"],
                let timestamp = Checked.epochMilliseconds(ts), case .string(let message)? = event["message"]
            else {
                throw Self.error(
                    "InvalidParameterException", "logEvents.\(index + 1) needs timestamp (epoch ms) and message")
            }
            return InputLogEvent(timestamp: timestamp, message: message)
        }
        guard try await store.streams(group: group).contains(where: { $0.name == stream }) else {
            throw Self.error("ResourceNotFoundException", "The specified log stream does not exist.", status: 400)
        }
        _ = try await store.put(group: group, stream: stream, events: events)
        return [:]
    }

    func describeLogGroups(_ input: [String: JSONValue]) async throws -> [String: JSONValue] {
        let prefix = try optionalString(input, "logGroupNamePrefix")
        let groups = try await store.groups(prefix: prefix).sorted { $0.name < $1.name }
        let size = try limit(input, default: 50, max: 50)
        let start = try offset(input, count: groups.count)
        let page = groups.dropFirst(start).prefix(size)
        var output: [String: JSONValue] = [
            "logGroups": .array(
                page.map { group in
                    var members: [String: JSONValue] = [
                        "logGroupName": .string(group.name), "creationTime": .number(Double(group.createdAt)),
                        "storedBytes": .number(Double(group.storedBytes)),
                        "arn": .string(names.logGroupARN(group.name) + ":*"),
                        "logGroupArn": .string(names.logGroupARN(group.name)),
                        "metricFilterCount": .number(
                            Double(store.metricFilters.count { $0.filter.group == group.name })),
                    ]
                    if let days = group.retentionDays { members["retentionInDays"] = .number(Double(days)) }
                    return .object(members)
                })
        ]
        if start + page.count < groups.count { output["nextToken"] = pageToken(start + page.count) }
        return output
    }

    func describeLogStreams(_ input: [String: JSONValue], group: String) async throws -> [String: JSONValue] {
        let prefix = try optionalString(input, "logStreamNamePrefix")
        let byTime = try optionalString(input, "orderBy") == "LastEventTime"
        if prefix != nil, byTime {
            throw Self.error(
                "InvalidParameterException", "logStreamNamePrefix cannot be used with orderBy LastEventTime")
        }
        var streams = try await store.streams(group: group).filter { prefix.map($0.name.hasPrefix) ?? true }
        if byTime {
            streams.sort { ($0.lastEventAt ?? 0, $0.name) < ($1.lastEventAt ?? 0, $1.name) }
        } else {
            streams.sort { $0.name < $1.name }
        }
        if input["descending"]?.bool == true { streams.reverse() }
        let size = try limit(input, default: 50, max: 50)
        let start = try offset(input, count: streams.count)
        let page = streams.dropFirst(start).prefix(size)
        var output: [String: JSONValue] = [
            "logStreams": .array(
                page.map { stream in
                    var members: [String: JSONValue] = [
                        "logStreamName": .string(stream.name), "creationTime": .number(Double(stream.createdAt)),
                        "arn": .string(names.logGroupARN(group) + ":log-stream:" + stream.name),
                    ]
                    if let last = stream.lastEventAt {
                        members["lastEventTimestamp"] = .number(Double(last))
                        members["firstEventTimestamp"] = .number(Double(stream.createdAt))
                    }
                    return .object(members)
                })
        ]
        if start + page.count < streams.count { output["nextToken"] = pageToken(start + page.count) }
        return output
    }

    /// One stream's events, oldest first from the start (`startFromHead`) or the newest page; the forward token
    /// continues after the last event returned, so polling with it follows the stream.
    func getLogEvents(_ input: [String: JSONValue], group: String) async throws -> [String: JSONValue] {
        let stream = try string(input, "logStreamName")
        let size = try limit(input, default: 10_000, max: 10_000)
        var descending = input["startFromHead"]?.bool != true
        var cursor: String?
        if let token = try optionalString(input, "nextToken") {
            guard token.hasPrefix("f/") || token.hasPrefix("b/") else {
                throw Self.error("InvalidParameterException", "The nextToken is not one this endpoint gave.")
            }
            descending = token.hasPrefix("b/")
            let rest = String(token.dropFirst(2))
            cursor = rest.isEmpty ? nil : rest
        }
        guard try await store.streams(group: group).contains(where: { $0.name == stream }) else {
            throw Self.error("ResourceNotFoundException", "The specified log stream does not exist.", status: 400)
        }
        var events: [LogEvent] = []
        var token = cursor
        // The store pages by a stream prefix: events of longer names sharing it are dropped here.
        repeat {
            let page = try await store.filter(
                LogQuery(
                    group: group, start: try number(input, "startTime") ?? 0, end: try number(input, "endTime") ?? .max,
                    streamPrefix: stream, limit: size - events.count, descending: descending, token: token))
            events += page.events.filter { $0.stream == stream }
            token = page.nextToken
        } while token != nil && events.count < size
        let ordered = descending ? events.reversed() : events
        func pageToken(_ prefix: String, _ event: LogEvent?) -> JSONValue {
            .string(prefix + (event.map { LogPageToken.encode(ts: $0.timestamp, id: $0.id) } ?? (cursor ?? "")))
        }
        return [
            "events": .array(
                ordered.map {
                    .object([
                        "timestamp": .number(Double($0.timestamp)), "message": .string($0.message),
                        "ingestionTime": .number(Double($0.ingestionTime)),
                    ])
                }),
            "nextForwardToken": pageToken("f/", descending ? events.first : events.last),
            "nextBackwardToken": pageToken("b/", descending ? events.last : events.first),
        ]
    }

    /// Events of a group matching a filter pattern, across streams, oldest first, a page at a time.
    func filterLogEvents(_ input: [String: JSONValue], group: String) async throws -> [String: JSONValue] {
        var pattern: FilterPattern?
        if let text = try optionalString(input, "filterPattern"), !text.isEmpty {
            do { pattern = try FilterPattern(text) } catch {
                throw Self.error("InvalidParameterException", "Invalid filter pattern: \(error.message)")
            }
        }
        var streams: Set<String>?
        if case .array(let items)? = input["logStreamNames"] {
            streams = Set(items.compactMap(\.string))
        }
        let prefix = try optionalString(input, "logStreamNamePrefix")
        if streams != nil, prefix != nil {
            throw Self.error("InvalidParameterException", "logStreamNames and logStreamNamePrefix cannot both be given")
        }
        let page = try await store.filter(
            LogQuery(
                group: group, pattern: pattern, start: try number(input, "startTime") ?? 0,
                end: try number(input, "endTime") ?? .max, streamPrefix: prefix,
                limit: try limit(input, default: 10_000, max: 10_000), token: try optionalString(input, "nextToken")))
        let events = page.events.filter { streams?.contains($0.stream) ?? true }
        var output: [String: JSONValue] = [
            "events": .array(
                events.map {
                    .object([
                        "logStreamName": .string($0.stream), "timestamp": .number(Double($0.timestamp)),
                        "message": .string($0.message), "ingestionTime": .number(Double($0.ingestionTime)),
                        "eventId": .string(String($0.id)),
                    ])
                }),
            "searchedLogStreams": .array([]),
        ]
        if let next = page.nextToken { output["nextToken"] = .string(next) }
        return output
    }
}
