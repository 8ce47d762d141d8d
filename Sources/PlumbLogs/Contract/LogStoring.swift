import PlumbAPI
import PlumbMetrics

/// The log store as everything but the composition root sees it: append, groups and streams, filtered reads,
/// following a group from a cursor, retention, and the metric filters that turn appended events into samples.
///
/// Routes, the tail, the audit trail, the swift-log handler's sink and the CLI's benchmark take this protocol; SQL
/// lives only in the embedded SQLite backend (`LogStore`, with its sealed blocks). Every backend passes the same
/// conformance suite (`LogStoreConformanceTests`). Times are epoch milliseconds. The methods are asynchronous because
/// a shared backend (PostgreSQL) answers over the network; the embedded one answers synchronously.
public protocol LogStoring: Sendable {
    /// The store's "now" in epoch milliseconds: the ingestion time of appended events.
    var clock: @Sendable () -> Int64 { get }

    /// Appends one batch to a stream (creating the group and stream), and returns the samples its metric filters
    /// made (already stored through the store's sample sink, in the same commit, when it has one).
    func put(group: String, stream: String, events: [InputLogEvent]) async throws -> [Sample]
    /// Appends several batches in one commit: all of them and their samples, or none.
    func append(_ batches: [(group: String, stream: String, events: [InputLogEvent])]) async throws -> [Sample]

    /// Creates an empty group (CloudWatch Logs' CreateLogGroup); false when it exists already.
    func createGroup(_ name: String) async throws -> Bool
    /// Creates an empty stream (CreateLogStream); false when it exists already; a 404 when the group does not.
    func createStream(group: String, stream: String) async throws -> Bool
    /// Every group, optionally only those whose name starts with `prefix`.
    func groups(prefix: String?) async throws -> [LogGroupSummary]
    /// A group's streams; throws a 404 when the group does not exist.
    func streams(group: String) async throws -> [LogStreamSummary]
    /// FilterLogEvents: one page of a group's events in the query's range that match its pattern.
    func filter(_ query: LogQuery) async throws -> LogPage
    /// Events of a group stored after the cursor `after` (an event id), in storage order: following a group live.
    func events(in group: String, after: Int64, limit: Int) async throws -> [LogEvent]
    /// The newest cursor (0 when the store is empty): where a follower starts.
    func lastEventID() async throws -> Int64
    /// A group's retention in days (CloudWatch's allowed values), nil to keep its events forever.
    func setRetention(group: String, days: Int?) async throws
    /// Deletes a group with its streams and events (CloudWatch's DeleteLogGroup); a 404 `LogsError` when there is no
    /// such group. Event ids are never given again.
    func deleteGroup(_ name: String) async throws
    /// Deletes the events older than their group's retention; returns how many. Work for one node of a cluster.
    func applyRetention() async throws -> Int

    /// The metric filters in force, each with whether it came from an alert file.
    var metricFilters: [(filter: MetricFilter, fromFile: Bool)] { get }
    /// Replaces the metric filters declared in alert files.
    func setMetricFilters(_ list: [MetricFilter])
    /// Replaces the metric filters created through the API.
    func setAPIMetricFilters(_ list: [MetricFilter])
    /// API-created metric filters as stored: name → JSON document.
    func storedMetricFilterDocuments() async throws -> [String: String]
    /// Stores (or, with nil, removes) an API-created metric filter's document.
    func storeMetricFilterDocument(name: String, document: String?) async throws
}

extension LogStoring {
    /// DeleteLogGroup as both APIs serve it: the group, then the metric filters made through an API on it that this
    /// node has installed (an alert file's filters are configuration and stay). Two steps: a failure between them
    /// leaves the filters, which match nothing until a group of that name exists again.
    public func deleteGroupAndItsFilters(_ name: String) async throws {
        try await deleteGroup(name)
        let filters = metricFilters.filter { !$0.fromFile }.map(\.filter)
        let onGroup = filters.filter { $0.group == name }
        guard !onGroup.isEmpty else { return }
        for filter in onGroup { try await storeMetricFilterDocument(name: filter.name, document: nil) }
        setAPIMetricFilters(filters.filter { $0.group != name })
    }

    public func groups() async throws -> [LogGroupSummary] { try await groups(prefix: nil) }
    public func events(in group: String, after: Int64) async throws -> [LogEvent] {
        try await events(in: group, after: after, limit: 1_000)
    }
}

extension LogStore: LogStoring {}

/// A log group as listed: its retention and how much it holds.
public struct LogGroupSummary: Sendable, Equatable {
    public var name: String
    /// nil: never expire.
    public var retentionDays: Int?
    public var createdAt: Int64
    /// In the table and in sealed blocks.
    public var storedEvents: Int
    /// Of those, the ones stored compressed (sealed blocks), with their raw and compressed bytes.
    public var archivedEvents: Int
    public var archiveRawBytes: Int
    public var archiveCompressedBytes: Int
    /// Bytes the group holds: its messages not yet sealed (UTF-8) and its sealed blocks' compressed size (what
    /// CloudWatch Logs bills as archived storage).
    public var storedBytes: Int

    public init(
        name: String, retentionDays: Int?, createdAt: Int64, storedEvents: Int, archivedEvents: Int = 0,
        archiveRawBytes: Int = 0, archiveCompressedBytes: Int = 0, storedBytes: Int = 0
    ) {
        self.name = name
        self.retentionDays = retentionDays
        self.createdAt = createdAt
        self.storedEvents = storedEvents
        self.archivedEvents = archivedEvents
        self.archiveRawBytes = archiveRawBytes
        self.archiveCompressedBytes = archiveCompressedBytes
        self.storedBytes = storedBytes
    }
}

/// A stream of a group as listed.
public struct LogStreamSummary: Sendable, Equatable {
    public var name: String
    public var createdAt: Int64
    public var lastEventAt: Int64?

    public init(name: String, createdAt: Int64, lastEventAt: Int64?) {
        self.name = name
        self.createdAt = createdAt
        self.lastEventAt = lastEventAt
    }
}

/// One page of a search.
public struct LogPage: Sendable {
    public var events: [LogEvent]
    /// Pass back as `LogQuery.token` to continue; nil when the range is exhausted.
    public var nextToken: String?
    /// Rows examined for this page.
    public var scanned: Int

    public init(events: [LogEvent], nextToken: String?, scanned: Int) {
        self.events = events
        self.nextToken = nextToken
        self.scanned = scanned
    }
}
