import PlumbAPI
import Synchronization

/// What Plumb knows of one series: its id, key and last-written unit.
public struct SeriesInfo: Sendable, Equatable {
    public let id: Int64
    public let key: SeriesKey
    public var unit: MetricUnit?
}

/// The in-memory index of every series, with the definitions not yet written to the database.
///
/// New series get ids here when their request is accepted; the next group commit writes every pending
/// definition in the same transaction as (or before) the first journal entry that refers to it.
final class SeriesRegistry: Sendable {
    private struct State {
        var byKey: [SeriesKey: Int64] = [:]
        var byID: [Int64: SeriesInfo] = [:]
        var unwritten: [Int64: SeriesInfo] = [:]
        var nextID: Int64 = 1
    }

    private let state = Mutex(State())

    init(existing: [SeriesInfo]) {
        state.withLock { s in
            for info in existing {
                s.byKey[info.key] = info.id
                s.byID[info.id] = info
                s.nextID = max(s.nextID, info.id + 1)
            }
        }
    }

    /// Ids for `keys` (creating the missing ones), with units updated where a sample gives one.
    func resolve(_ keys: [SeriesKey], units: [MetricUnit?]) -> [Int64] {
        state.withLock { s in
            keys.indices.map { i in
                let key = keys[i]
                if let id = s.byKey[key] {
                    if let unit = units[i], s.byID[id]!.unit != unit {
                        s.byID[id]!.unit = unit
                        s.unwritten[id] = s.byID[id]
                    }
                    return id
                }
                let id = s.nextID
                s.nextID += 1
                let info = SeriesInfo(id: id, key: key, unit: units[i])
                s.byKey[key] = id
                s.byID[id] = info
                s.unwritten[id] = info
                return id
            }
        }
    }

    func id(of key: SeriesKey) -> Int64? {
        state.withLock { $0.byKey[key] }
    }

    func info(_ id: Int64) -> SeriesInfo? {
        state.withLock { $0.byID[id] }
    }

    /// Takes the definitions that must be written with the next commit.
    func takeUnwritten() -> [SeriesInfo] {
        state.withLock { s in
            defer { s.unwritten = [:] }
            return Array(s.unwritten.values)
        }
    }

    /// Puts back definitions whose commit failed, so the next commit writes them.
    func restoreUnwritten(_ infos: [SeriesInfo]) {
        state.withLock { s in
            for info in infos where s.unwritten[info.id] == nil { s.unwritten[info.id] = s.byID[info.id] }
        }
    }

    func all() -> [SeriesInfo] {
        state.withLock { Array($0.byID.values) }
    }
}
