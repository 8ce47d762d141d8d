/// Where alarm states, alarms created through the API, their history and the silences are kept: the embedded SQLite
/// file (`AlarmStore`, the default) or PostgreSQL, shared by the nodes of a cluster.
///
/// Every write bumps the store's revision, and every alarm row carries the revision that last wrote it: a node of
/// a cluster polls `revision()` and, when another node has written, merges `load()` into what it holds
/// (`AlarmEngine.refresh`). Every backend passes the same conformance suite (`AlarmStoreConformanceTests`). Times are
/// epoch seconds.
public protocol AlarmStoring: Sendable {
    /// Whether other nodes write to this store too: then an engine reads what they wrote before each of its own
    /// writes, so it never writes back a state or a definition older than the store's.
    var isShared: Bool { get }
    /// Every stored alarm and silence, with the revision they were read at (one snapshot).
    func load() async throws -> AlarmSnapshot
    /// The revision now: how many writes the store has seen.
    func revision() async throws -> Int64
    /// Writes `records` (stamped with the new revision) and history items, and deletes the alarms named in
    /// `deleting`, in one transaction; returns the new revision.
    @discardableResult
    func save(_ records: [AlarmRecord], history: [AlarmHistoryEntry], deleting: [String]) async throws -> Int64
    /// An alarm's history, newest first.
    func history(of alarm: String, type: String?, limit: Int, before: Int64?) async throws -> [AlarmHistoryItem]
    /// Drops history older than `AlarmHistoryItem.retention`; returns how many items went.
    @discardableResult
    func pruneHistory(now: Int64) async throws -> Int
    /// Inserts or replaces one silence (its end and who expired it); returns the new revision.
    @discardableResult
    func save(_ silence: Silence) async throws -> Int64
    /// Drops silences that ended before `before`; returns how many went.
    @discardableResult
    func pruneSilences(endedBefore before: Int64) async throws -> Int
}

extension AlarmStoring {
    @discardableResult
    public func save(_ records: [AlarmRecord], history: [AlarmHistoryEntry] = []) async throws -> Int64 {
        try await save(records, history: history, deleting: [])
    }

    public func history(of alarm: String) async throws -> [AlarmHistoryItem] {
        try await history(of: alarm, type: nil, limit: 100, before: nil)
    }
}

/// What is persisted of one alarm.
public struct AlarmRecord: Sendable, Equatable {
    public var name: String
    /// The JSON document of an alarm created through the API; nil for file alarms.
    public var document: String?
    public var state: AlarmState
    public var reason: String
    public var reasonData: String?
    public var updatedAt: Int64
    /// The store's revision that wrote this row (0 until written).
    public var revision: Int64

    public init(
        name: String, document: String?, state: AlarmState, reason: String, reasonData: String?, updatedAt: Int64,
        revision: Int64 = 0
    ) {
        self.name = name
        self.document = document
        self.state = state
        self.reason = reason
        self.reasonData = reasonData
        self.updatedAt = updatedAt
        self.revision = revision
    }
}

/// One history item, as CloudWatch's DescribeAlarmHistory.
public struct AlarmHistoryItem: Sendable, Equatable, Codable {
    /// `StateUpdate`, `ConfigurationUpdate` or `Action`.
    public var type: String
    public var timestamp: Int64
    public var summary: String
    /// JSON (old and new state with reasons, or the action's outcome).
    public var data: String?

    public init(type: String, timestamp: Int64, summary: String, data: String?) {
        self.type = type
        self.timestamp = timestamp
        self.summary = summary
        self.data = data
    }

    /// CloudWatch keeps alarm history for 14 days.
    public static let retention: Int64 = 14 * 86_400
}

/// A history item with the alarm it belongs to.
public struct AlarmHistoryEntry: Sendable, Equatable {
    public var alarm: String
    public var item: AlarmHistoryItem

    public init(_ alarm: String, _ item: AlarmHistoryItem) {
        self.alarm = alarm
        self.item = item
    }
}

/// Everything an alarm store holds, read at one revision.
public struct AlarmSnapshot: Sendable {
    public var revision: Int64
    public var records: [String: AlarmRecord]
    public var silences: [Silence]

    public init(revision: Int64, records: [String: AlarmRecord], silences: [Silence]) {
        self.revision = revision
        self.records = records
        self.silences = silences
    }
}
