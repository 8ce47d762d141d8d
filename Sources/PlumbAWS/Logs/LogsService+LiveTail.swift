import Foundation
import PlumbAPI
import PlumbLogs
import Synchronization

/// StartLiveTail: the events of up to ten groups as they are stored, in AWS's event stream (an `initial-response`,
/// a `sessionStart`, then a `sessionUpdate` every second with at most 500 events), for up to three hours, as
/// CloudWatch Logs streams them. boto3's `start_live_tail` reads it; the operation's `stream-` host prefix must be
/// turned off for an `endpoint_url` (`Config(inject_host_prefix=False)`).
extension LogsService {
    /// A session's longest life, as CloudWatch's; it then ends with a `SessionTimeoutException`.
    static let liveTailLimit: Duration = .seconds(3 * 3_600)
    /// Events a `sessionUpdate` carries at most, and their messages' bytes at most (500 events of 256 KB would be a
    /// 128 MB message); beyond either the update says it is `sampled`.
    static let liveTailBatch = 500
    static let liveTailBatchBytes = 1_048_576

    public static let streamingOperations: Set<String> = ["StartLiveTail"]

    public func stream(
        operation: String, input: [String: JSONValue], caller: AWSCaller
    ) async throws -> AWSResponse {
        let tail = try liveTail(input, caller: caller)
        for group in tail.groups {
            // A group's streams are read by one indexed lookup; an unknown group is the store's 404.
            do { _ = try await store.streams(group: group.name) } catch let error as LogsError where error.status == 404
            {
                throw Self.error("ResourceNotFoundException", "The specified log group does not exist: \(group.name)")
            }
        }
        guard liveTails.open() else {
            throw Self.error(
                "LimitExceededException",
                "at most \(LiveTailSessions.limit) live tail sessions run at once; end one first")
        }
        let start = try await store.lastEventID()
        let requestID = UUID().uuidString.lowercased()
        var sessionStart: [String: JSONValue] = [
            "requestId": .string(requestID), "sessionId": .string(UUID().uuidString.lowercased()),
            "logGroupIdentifiers": .array(tail.groups.map { .string($0.identifier) }),
        ]
        if let names = tail.streamNames { sessionStart["logStreamNames"] = .array(names.map { .string($0) }) }
        if let prefixes = tail.streamPrefixes {
            sessionStart["logStreamNamePrefixes"] = .array(prefixes.map { .string($0) })
        }
        if let text = tail.patternText { sessionStart["logEventFilterPattern"] = .string(text) }
        let head =
            try AWSEventStream.event("initial-response", json: Array("{}".utf8))
            + AWSEventStream.event("sessionStart", json: Self.json(.object(sessionStart)))
        let store = self.store
        let sessions = liveTails
        return AWSResponse(
            status: 200, headers: [("Content-Type", AWSEventStream.contentType)], body: head,
            stream: { write in
                defer { sessions.close() }
                try await tail.run(store: store, from: start, write: write)
            })
    }

    /// StartLiveTail's input, checked.
    func liveTail(_ input: [String: JSONValue], caller: AWSCaller) throws -> LiveTail {
        guard case .array(let items)? = input["logGroupIdentifiers"], (1...10).contains(items.count) else {
            throw Self.error("InvalidParameterException", "logGroupIdentifiers must name 1 to 10 log groups")
        }
        var groups: [LiveTail.Group] = []
        for item in items {
            guard let identifier = item.string, !identifier.isEmpty, identifier.utf8.count <= 2_048 else {
                throw Self.error("InvalidParameterException", "logGroupIdentifiers holds names or ARNs")
            }
            let name = groupName(identifier)
            guard !groups.contains(where: { $0.name == name }) else {
                throw Self.error("InvalidParameterException", "logGroupIdentifiers names \(name) twice")
            }
            groups.append(LiveTail.Group(identifier: identifier, name: name))
        }
        try caller.authorizeEach("logs:GetLogEvents", groups.map { "log-group/\($0.name)" })
        let streamNames = try strings(input, "logStreamNames")
        let streamPrefixes = try strings(input, "logStreamNamePrefixes")
        if streamNames != nil || streamPrefixes != nil {
            guard groups.count == 1 else {
                throw Self.error(
                    "InvalidParameterException",
                    "logStreamNames and logStreamNamePrefixes apply to one log group only")
            }
            guard streamNames == nil || streamPrefixes == nil else {
                throw Self.error(
                    "InvalidParameterException", "give logStreamNames or logStreamNamePrefixes, not both")
            }
        }
        let patternText = try optionalString(input, "logEventFilterPattern")
        var pattern: FilterPattern?
        if let patternText, !patternText.isEmpty {
            do { pattern = try FilterPattern(patternText) } catch {
                throw Self.error("InvalidParameterException", "Invalid filter pattern: \(error.message)")
            }
        }
        return LiveTail(
            groups: groups, streamNames: streamNames.map(Set.init), streamPrefixes: streamPrefixes,
            pattern: pattern, patternText: patternText)
    }

    /// A group's name from its identifier: an ARN (`…:log-group:NAME`, with or without `:*`) or the name itself.
    func groupName(_ identifier: String) -> String {
        guard identifier.hasPrefix("arn:"), let range = identifier.range(of: ":log-group:") else { return identifier }
        let name = identifier[range.upperBound...]
        return String(name.hasSuffix(":*") ? name.dropLast(2) : name)
    }

    /// An optional list of 1 to 100 non-empty strings.
    func strings(_ input: [String: JSONValue], _ member: String) throws -> [String]? {
        guard let value = input[member], value != .null else { return nil }
        guard case .array(let items) = value, (1...100).contains(items.count) else {
            throw Self.error("InvalidParameterException", "\(member) holds 1 to 100 names")
        }
        return try items.map { item in
            guard let text = item.string, !text.isEmpty, text.utf8.count <= 512 else {
                throw Self.error("InvalidParameterException", "\(member) holds names")
            }
            return text
        }
    }

    static func json(_ value: JSONValue) -> [UInt8] { (try? Array(JSONEncoder().encode(value))) ?? Array("{}".utf8) }
}

/// One StartLiveTail session: what it follows, and the loop that writes its updates.
struct LiveTail: Sendable {
    struct Group: Sendable {
        /// As the request named it (an ARN or a name); results name their group so.
        var identifier: String
        var name: String
    }

    var groups: [Group]
    var streamNames: Set<String>?
    var streamPrefixes: [String]?
    var pattern: FilterPattern?
    var patternText: String?

    func shows(_ event: LogEvent) -> Bool {
        if let streamNames, !streamNames.contains(event.stream) { return false }
        if let streamPrefixes, !streamPrefixes.contains(where: event.stream.hasPrefix) { return false }
        if let pattern, !pattern.matches(event.message) { return false }
        return true
    }

    /// A `sessionUpdate` a second (empty when nothing came: that is how a client that went away is noticed, the
    /// write failing), until the limit, the client's leaving or the task's cancellation.
    func run(
        store: any LogStoring, from start: Int64, write: @Sendable ([UInt8]) async throws -> Void
    ) async throws {
        var cursors = Dictionary(uniqueKeysWithValues: groups.map { ($0.name, start) })
        let deadline = ContinuousClock.now + LogsService.liveTailLimit
        while !Task.isCancelled {
            if ContinuousClock.now >= deadline {
                try await write(
                    try AWSEventStream.exception(
                        "SessionTimeoutException",
                        json: LogsService.json(.object(["message": .string("The session lasted 3 hours")]))))
                return
            }
            try? await Task.sleep(for: .seconds(1))
            var results: [JSONValue] = []
            var matched = 0
            var bytes = 0
            for group in groups {
                var cursor = cursors[group.name] ?? start
                // Up to 10,000 events a group a second are read; the cursor moves past all of them.
                for _ in 0..<10 {
                    let events: [LogEvent]
                    do { events = try await store.events(in: group.name, after: cursor) } catch { break }
                    for event in events {
                        cursor = event.id
                        guard shows(event) else { continue }
                        matched += 1
                        guard results.count < LogsService.liveTailBatch,
                            bytes + event.message.utf8.count + event.stream.utf8.count
                                <= LogsService.liveTailBatchBytes
                        else { continue }
                        bytes += event.message.utf8.count + event.stream.utf8.count
                        results.append(
                            .object([
                                "logStreamName": .string(event.stream),
                                "logGroupIdentifier": .string(group.identifier),
                                "message": .string(event.message), "timestamp": .number(Double(event.timestamp)),
                                "ingestionTime": .number(Double(event.ingestionTime)),
                            ]))
                    }
                    if events.count < 1_000 { break }
                }
                cursors[group.name] = cursor
            }
            let update: JSONValue = .object([
                "sessionMetadata": .object(["sampled": .bool(matched > results.count)]),
                "sessionResults": .array(results),
            ])
            try await write(try AWSEventStream.event("sessionUpdate", json: LogsService.json(update)))
        }
    }
}

/// The live tail sessions running, at most 15 at once (CloudWatch's quota per account).
final class LiveTailSessions: Sendable {
    static let limit = 15
    private let running = Mutex(0)

    /// Counts a new session in, or false when `limit` run already.
    func open() -> Bool {
        running.withLock { n in
            guard n < Self.limit else { return false }
            n += 1
            return true
        }
    }

    func close() { running.withLock { $0 -= 1 } }
}
