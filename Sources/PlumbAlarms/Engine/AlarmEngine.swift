import Foundation
import Logging
import PlumbAPI
import PlumbMetrics
import PlumbStore
import Synchronization

/// Holds every alarm with its state, evaluates them on ticks and reports transitions.
///
/// Metric alarms with periods under 60 s are evaluated every 10 s, others every 60 s, each over the complete
/// periods before the tick. Composite alarms are evaluated after the metric alarms of the same tick, children
/// first. Actions run on transitions only; `setState` holds until the alarm's next evaluation.
public final class AlarmEngine: Sendable {
    /// Where an alarm was declared.
    public enum Origin: Sendable, Equatable {
        case file(String)
        /// Created through the API; the JSON document is persisted.
        case api(document: String)
    }

    /// A composite's actions waiting on its suppressor (CloudWatch's WaitPeriod / ExtensionPeriod).
    enum Suppression: Sendable, Equatable {
        case none
        case waiting(until: Int64)
        case suppressed
        case extending(until: Int64)
    }

    struct Entry: Sendable {
        var definition: AlarmDefinition
        var origin: Origin
        var state: AlarmState
        var reason: String
        var reasonData: String?
        var updatedAt: Int64
        var lastEvaluatedAt: Int64?
        var suppression = Suppression.none
        /// The ALARM transition whose actions wait on the suppressor.
        var deferred: AlarmTransition?
        /// The store's revision that last wrote this alarm (0: not stored yet); another node's newer write replaces
        /// the state (`refresh`).
        var revision: Int64 = 0
    }

    struct Registry: Sendable {
        var entries: [String: Entry] = [:]
        var metricNames: [String] = []
        var compositeOrder: [String] = []
        /// Persisted states of file alarms, applied when the files are first installed.
        var restored: [String: AlarmRecord] = [:]

        mutating func reindex() {
            metricNames = entries.values.compactMap { if case .metric(let a) = $0.definition { a.name } else { nil } }
                .sorted()
            var graph: [String: [String]] = [:]
            for entry in entries.values {
                if case .composite(let c) = entry.definition { graph[c.name] = c.rule.references }
            }
            compositeOrder = AlarmGraph.evaluationOrder(of: graph)
        }
    }

    /// What one run of actions produced, for the alarm's history.
    public struct ActionOutcome: Sendable {
        public var topic: String
        public var messageId: String?
        public var error: String?

        public init(topic: String, messageId: String? = nil, error: String? = nil) {
            self.topic = topic
            self.messageId = messageId
            self.error = error
        }
    }

    let registry: Mutex<Registry>
    let source: any AlarmDataSource
    let store: (any AlarmStoring)?
    /// Writes to the store, and re-reads of what other nodes wrote, one at a time: what memory holds is always what
    /// the store held at some revision plus this node's later writes.
    let writes = AsyncLock()
    /// The newest store revision this engine's memory reflects.
    let seen: Mutex<Int64>
    let logger: Logger
    /// Where transitions' actions go.
    let notifier: any AlarmNotifier
    /// Reads alarm documents (from the API, and stored ones again at start).
    let documents: any ConfigReader
    /// While one matches an alarm, its transitions notify no topic (`commit` holds them).
    public let silences: Silences
    /// Concurrent evaluation tasks per tick.
    public let parallelism: Int

    /// An engine whose transitions go to closures (tests, `plumb test-alarms`).
    public convenience init(
        source: any AlarmDataSource, store: (any AlarmStoring)?, logger: Logger = Logger(label: "plumb.alarms"),
        parallelism: Int = max(2, ProcessInfo.processInfo.activeProcessorCount * 2),
        topicExists: @escaping @Sendable (String) -> Bool = { _ in true },
        runActions: @escaping @Sendable (AlarmTransition) async -> [ActionOutcome] = { _ in [] }
    ) async throws {
        try await self.init(
            source: source, store: store, notifier: ClosureAlarmNotifier(topicExists: topicExists, notify: runActions),
            logger: logger, parallelism: parallelism)
    }

    /// Restores the alarms created through the API (and the states of file alarms) from `store`.
    ///
    /// - Parameter documents: reads alarm documents; the server's reads YAML and JSON, the default JSON only.
    public init(
        source: any AlarmDataSource, store: (any AlarmStoring)?, notifier: any AlarmNotifier,
        documents: any ConfigReader = JSONConfigReader(),
        logger: Logger = Logger(label: "plumb.alarms"),
        parallelism: Int = max(2, ProcessInfo.processInfo.activeProcessorCount * 2)
    ) async throws {
        self.documents = documents
        self.source = source
        self.store = store
        self.logger = logger
        self.parallelism = parallelism
        self.notifier = notifier
        let snapshot = try await store?.load() ?? AlarmSnapshot(revision: 0, records: [:], silences: [])
        self.silences = Silences(store: store, loaded: snapshot.silences)
        self.seen = Mutex(snapshot.revision)
        var registry = Registry()
        for (name, record) in snapshot.records {
            guard let document = record.document else {
                registry.restored[name] = record
                continue
            }
            switch AlarmParser.parseDocument(document, name: name, reader: documents) {
            case .success(let definition):
                registry.entries[name] = Entry(
                    definition: definition, origin: .api(document: document), state: record.state,
                    reason: record.reason, reasonData: record.reasonData, updatedAt: record.updatedAt,
                    revision: record.revision)
            case .failure(let errors):
                logger.error("alarm '\(name)' stored through the API no longer parses and is skipped: \(errors)")
            }
        }
        registry.reindex()
        self.registry = Mutex(registry)
    }

    // MARK: Reading

    /// One alarm as the API shows it.
    public struct Status: Sendable {
        public var definition: AlarmDefinition
        public var origin: Origin
        public var state: AlarmState
        public var reason: String
        public var reasonData: String?
        public var updatedAt: Int64
        public var lastEvaluatedAt: Int64?
    }

    public func status(_ name: String) -> Status? {
        registry.withLock { r in r.entries[name].map(Self.status) }
    }

    public func list() -> [Status] {
        registry.withLock { r in r.entries.values.map(Self.status) }.sorted { $0.definition.name < $1.definition.name }
    }

    public var count: Int { registry.withLock { $0.entries.count } }

    /// The names of the alarms in `state` now.
    public func names(in state: AlarmState) -> Set<String> {
        registry.withLock { r in Set(r.entries.values.filter { $0.state == state }.map(\.definition.name)) }
    }

    /// How many alarms are in each state.
    public func stateCounts() -> [AlarmState: Int] {
        registry.withLock { r in
            var counts: [AlarmState: Int] = [.ok: 0, .alarm: 0, .insufficientData: 0]
            for entry in r.entries.values { counts[entry.state, default: 0] += 1 }
            return counts
        }
    }

    static func status(_ e: Entry) -> Status {
        Status(
            definition: e.definition, origin: e.origin, state: e.state, reason: e.reason, reasonData: e.reasonData,
            updatedAt: e.updatedAt, lastEvaluatedAt: e.lastEvaluatedAt)
    }

    public func history(
        of name: String, type: String? = nil, limit: Int = 100, before: Int64? = nil
    ) async throws -> [AlarmHistoryItem] {
        guard status(name) != nil else { throw AlarmError.notFound(name) }
        return try await store?.history(of: name, type: type, limit: limit, before: before) ?? []
    }

    // MARK: Changing definitions

    /// Replaces every file-declared alarm with `config`'s, all or nothing. Alarms that keep their name keep their
    /// state (as CloudWatch's PutMetricAlarm on an existing alarm); new ones start in INSUFFICIENT_DATA.
    /// `topics` are every topic the alarms may notify (declared in the files or created through the API).
    public func install(
        _ config: AlarmConfiguration, now: Int64, topics: Set<String> = []
    ) async throws(AlertFileErrors) {
        try await writes.withLock { () async throws(AlertFileErrors) in
            try await installLocked(config, now: now, topics: topics)
        }
    }

    func installLocked(
        _ config: AlarmConfiguration, now: Int64, topics: Set<String>
    ) async throws(AlertFileErrors) {
        do {
            try await catchUpBeforeWriting()
        } catch {
            logger.warning("alert files installed from the states this node knew: \(error.message)")
        }
        var errors: [AlertFileError] = []
        var saves: [AlarmRecord] = []
        var history: [AlarmHistoryEntry] = []
        var deletions: [String] = []
        registry.withLock { r in
            let apiNames = Set(
                r.entries.values.filter { if case .api = $0.origin { true } else { false } }.map(\.definition.name))
            errors = config.crossCheck(topics: topics, extraAlarms: apiNames)
            var next = r.entries.filter { if case .api = $0.value.origin { true } else { false } }
            for alarm in config.alarms {
                let location = config.alarmLocations[alarm.name]
                let origin = Origin.file(location.map { "\($0.file):\($0.line)" } ?? "")
                if var existing = r.entries[alarm.name], case .file = existing.origin {
                    if existing.definition != alarm {
                        existing.lastEvaluatedAt = nil
                        existing.suppression = .none
                        existing.deferred = nil
                        history.append(
                            AlarmHistoryEntry(
                                alarm.name,
                                .init(
                                    type: "ConfigurationUpdate", timestamp: now,
                                    summary: "Alarm \"\(alarm.name)\" updated", data: nil)))
                    }
                    existing.definition = alarm
                    existing.origin = origin
                    next[alarm.name] = existing
                } else if let restored = r.restored[alarm.name] {
                    next[alarm.name] = Entry(
                        definition: alarm, origin: origin, state: restored.state, reason: restored.reason,
                        reasonData: restored.reasonData, updatedAt: restored.updatedAt, revision: restored.revision)
                } else {
                    next[alarm.name] = Entry(
                        definition: alarm, origin: origin, state: .insufficientData,
                        reason: "Unchecked: Initial alarm creation",
                        updatedAt: now)
                    saves.append(
                        .init(
                            name: alarm.name, document: nil, state: .insufficientData,
                            reason: "Unchecked: Initial alarm creation", reasonData: nil, updatedAt: now))
                    history.append(
                        AlarmHistoryEntry(
                            alarm.name,
                            .init(
                                type: "ConfigurationUpdate", timestamp: now, summary: "Alarm \"\(alarm.name)\" created",
                                data: nil)))
                }
            }
            // Composites created through the API must still find every alarm they name.
            for entry in next.values {
                guard case .api = entry.origin, case .composite(let c) = entry.definition else { continue }
                for reference in c.rule.references + [c.actionsSuppressor].compactMap({ $0 })
                where next[reference] == nil {
                    errors.append(
                        AlertFileError(
                            file: "api", line: 0, field: c.name,
                            message:
                                "composite alarm '\(c.name)' (created through the API) refers to '\(reference)', which the files no longer declare"
                        ))
                }
            }
            guard errors.isEmpty else { return }
            for (name, entry) in r.entries where next[name] == nil {
                if case .file = entry.origin { deletions.append(name) }
            }
            r.restored = [:]
            r.entries = next
            r.reindex()
        }
        guard errors.isEmpty else { throw AlertFileErrors(errors) }
        do {
            try await persist(saves, history: history, deleting: deletions)
        } catch {
            logger.error("could not store the states of new file alarms: \(error)")
        }
    }

    /// Creates or replaces an alarm from an API document.
    public func put(name: String, document: String, now: Int64) async throws(AlarmError) -> Status {
        let definition: AlarmDefinition
        switch AlarmParser.parseDocument(document, name: name, reader: documents) {
        case .success(let d): definition = d
        case .failure(let errors):
            throw AlarmError(
                errors.errors.map { e in e.field.isEmpty ? e.message : "\(e.field): \(e.message)" }.joined(
                    separator: "; "))
        }
        for (field, topics) in [
            ("alarm_actions", definition.actions.alarm), ("ok_actions", definition.actions.ok),
            ("insufficient_data_actions", definition.actions.insufficientData),
        ] {
            for topic in topics {
                let exists: Bool
                do { exists = try await notifier.topicExists(topic) } catch {
                    throw AlarmError.storeFailed(
                        "\(field): cannot tell whether topic '\(Checked.shown(topic))' exists", error)
                }
                guard exists else { throw AlarmError("\(field): topic '\(Checked.shown(topic))' does not exist") }
            }
        }
        return try await writes.withLock { () async throws(AlarmError) in
            try await putLocked(name: name, definition: definition, document: document, now: now)
        }
    }

    func putLocked(
        name: String, definition: AlarmDefinition, document: String, now: Int64
    ) async throws(AlarmError) -> Status {
        try await catchUpBeforeWriting()
        let result: Result<(Status, AlarmRecord, String, Entry?), AlarmError> = registry.withLock { r in
            if let existing = r.entries[name], case .file(let location) = existing.origin {
                return .failure(
                    AlarmError(
                        status: 409, code: "ResourceConflict",
                        "alarm '\(name)' is declared in \(location); edit the file and reload"))
            }
            if case .composite(let c) = definition {
                for reference in c.rule.references + [c.actionsSuppressor].compactMap({ $0 })
                where r.entries[reference] == nil && reference != name {
                    return .failure(AlarmError("the rule refers to alarm '\(reference)', which does not exist"))
                }
                var graph: [String: [String]] = [:]
                for entry in r.entries.values {
                    if case .composite(let other) = entry.definition { graph[other.name] = other.rule.references }
                }
                graph[name] = c.rule.references
                if let cycle = AlarmGraph.cycle(in: graph) {
                    return .failure(
                        AlarmError("composite alarms would form a cycle: \(cycle.joined(separator: " → "))"))
                }
            }
            var entry: Entry
            let summary: String
            let previous = r.entries[name]
            if var existing = r.entries[name] {
                existing.definition = definition
                existing.origin = .api(document: document)
                existing.lastEvaluatedAt = nil
                existing.suppression = .none
                existing.deferred = nil
                entry = existing
                summary = "Alarm \"\(name)\" updated"
            } else {
                entry = Entry(
                    definition: definition, origin: .api(document: document), state: .insufficientData,
                    reason: "Unchecked: Initial alarm creation", updatedAt: now)
                summary = "Alarm \"\(name)\" created"
            }
            r.entries[name] = entry
            r.reindex()
            entry = r.entries[name]!
            let record = AlarmRecord(
                name: name, document: document, state: entry.state, reason: entry.reason, reasonData: entry.reasonData,
                updatedAt: entry.updatedAt)
            return .success((Self.status(entry), record, summary, previous))
        }
        let (status, record, summary, previous) = try result.get()
        do {
            try await persist(
                [record],
                history: [.init(name, .init(type: "ConfigurationUpdate", timestamp: now, summary: summary, data: nil))])
        } catch {
            // Not stored: not made either.
            registry.withLock { r in
                r.entries[name] = previous
                r.reindex()
            }
            throw AlarmError.storeFailed("the alarm could not be stored", error)
        }
        return status
    }

    /// Deletes an alarm created through the API.
    public func delete(name: String) async throws(AlarmError) {
        try await writes.withLock { () async throws(AlarmError) in try await deleteLocked(name: name) }
    }

    func deleteLocked(name: String) async throws(AlarmError) {
        try await catchUpBeforeWriting()
        let result: Result<Entry, AlarmError> = registry.withLock { r in
            guard let entry = r.entries[name] else { return .failure(.notFound(name)) }
            if case .file(let location) = entry.origin {
                return .failure(
                    AlarmError(
                        status: 409, code: "ResourceConflict",
                        "alarm '\(name)' is declared in \(location); remove it from the file and reload"))
            }
            for other in r.entries.values {
                guard case .composite(let c) = other.definition, c.name != name else { continue }
                if c.rule.references.contains(name) || c.actionsSuppressor == name {
                    return .failure(AlarmError("alarm '\(name)' is used by composite alarm '\(c.name)'"))
                }
            }
            r.entries[name] = nil
            r.reindex()
            return .success(entry)
        }
        let removed = try result.get()
        do {
            try await persist([], deleting: [name])
        } catch {
            registry.withLock { r in
                r.entries[name] = removed
                r.reindex()
            }
            throw AlarmError.storeFailed("the alarm could not be deleted", error)
        }
    }

    /// Sets initial states without transitions (`plumb test-alarms`' `initial_states`).
    public func setInitialState(_ name: String, _ state: AlarmState) {
        registry.withLock { r in r.entries[name]?.state = state }
    }

    // MARK: Persistence

    /// Writes to the store (under `writes`), then stamps the written alarms with the revision.
    func persist(_ records: [AlarmRecord], history: [AlarmHistoryEntry] = [], deleting: [String] = []) async throws {
        guard let store, !records.isEmpty || !history.isEmpty || !deleting.isEmpty else { return }
        let revision = try await store.save(records, history: history, deleting: deleting)
        registry.withLock { r in
            for record in records { r.entries[record.name]?.revision = revision }
        }
        seen.withLock { seen in
            // Only when no other node wrote in between; else the next `refresh` reads what it wrote.
            if revision == seen + 1 { seen = revision }
        }
    }
}
