import Foundation
import PlumbAPI

/// Other nodes' writes to a shared alarm store: read by revision and merged into this engine's memory.
extension AlarmEngine {
    /// Takes in what other nodes wrote to a shared store since this engine last looked: alarms created, changed or
    /// deleted through their API, state changes from their evaluations and `SetAlarmState`, and silences. With
    /// `force`, reads everything even when the revision has not moved (a node that has just become the leader).
    /// Returns whether anything was read.
    @discardableResult
    public func refresh(force: Bool = false) async throws -> Bool {
        guard let store else { return false }
        return try await writes.withLock { () async throws -> Bool in try await catchUp(force: force) }
    }

    /// `refresh`'s work, under `writes`: takes in what other nodes wrote since `seen` (everything with `force`).
    @discardableResult
    func catchUp(force: Bool = false) async throws -> Bool {
        guard let store else { return false }
        if !force, try await store.revision() <= seen.withLock({ $0 }) { return false }
        let snapshot = try await store.load()
        registry.withLock { r in merge(snapshot, into: &r) }
        silences.merge(snapshot.silences)
        seen.withLock { $0 = max($0, snapshot.revision) }
        return true
    }

    /// Before a write to a shared store (under `writes`): what other nodes wrote, so this write starts from the
    /// store's states and definitions, not from memory up to a refresh interval old. Nothing on an unshared store.
    func catchUpBeforeWriting() async throws(AlarmError) {
        guard store?.isShared == true else { return }
        do {
            try await catchUp()
        } catch {
            throw AlarmError.storeFailed("the shared alarm store cannot be read", error)
        }
    }

    /// A snapshot merged into memory: a stored alarm written after this node's copy replaces its state (and, made
    /// through the API, its definition); API alarms no longer stored are gone. File alarms keep this node's files'
    /// definitions: a cluster's nodes read the same alert files.
    func merge(_ snapshot: AlarmSnapshot, into r: inout Registry) {
        var changed = false
        for (name, record) in snapshot.records {
            guard var entry = r.entries[name] else {
                if let document = record.document, let definition = parse(document, name: name) {
                    r.entries[name] = Entry(
                        definition: definition, origin: .api(document: document), state: record.state,
                        reason: record.reason, reasonData: record.reasonData, updatedAt: record.updatedAt,
                        revision: record.revision)
                    changed = true
                } else if record.document == nil {
                    r.restored[name] = record
                }
                continue
            }
            guard record.revision > entry.revision else { continue }
            if let document = record.document {
                if entry.origin != .api(document: document) {
                    guard let definition = parse(document, name: name) else { continue }
                    entry.definition = definition
                    entry.origin = .api(document: document)
                    entry.lastEvaluatedAt = nil
                    entry.suppression = .none
                    entry.deferred = nil
                    changed = true
                }
            } else if case .api = entry.origin {
                continue
            }
            if entry.state != record.state {
                // A composite's actions held for its suppressor belong to the state this node had.
                entry.suppression = .none
                entry.deferred = nil
            }
            entry.state = record.state
            entry.reason = record.reason
            entry.reasonData = record.reasonData
            entry.updatedAt = record.updatedAt
            entry.revision = record.revision
            r.entries[name] = entry
        }
        for (name, entry) in r.entries where snapshot.records[name] == nil {
            guard case .api = entry.origin else { continue }
            r.entries[name] = nil
            changed = true
        }
        if changed { r.reindex() }
    }

    func parse(_ document: String, name: String) -> AlarmDefinition? {
        switch AlarmParser.parseDocument(document, name: name, reader: documents) {
        case .success(let definition): return definition
        case .failure(let errors):
            logger.error("alarm '\(name)' stored through the API does not parse here and is skipped: \(errors)")
            return nil
        }
    }
}
