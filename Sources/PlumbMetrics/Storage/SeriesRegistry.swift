import PlumbAPI
import Synchronization

/// What Plumb knows of one series: its id, key and last-written unit.
public struct SeriesInfo: Sendable, Equatable {
    public let id: Int64
    public let key: SeriesKey
    public var unit: MetricUnit?

    /// `id` is the backend's own handle of the series (a row id; a backend without one uses 0).
    public init(id: Int64, key: SeriesKey, unit: MetricUnit?) {
        self.id = id
        self.key = key
        self.unit = unit
    }
}

/// The in-memory index of every series, with what is not yet durable and not yet in the database.
///
/// New series get ids here when their request is accepted. A definition is *undurable* until a journal record holding
/// it is on disk: every record whose samples use such a series carries the definition itself. It is *unstored* until
/// a flush writes it to the `series` table, which the flush does only once it is durable.
final class SeriesRegistry: Sendable {
    private struct State {
        var byKey: [SeriesKey: Int64] = [:]
        var byID: [Int64: SeriesInfo] = [:]
        var undurable: Set<Int64> = []
        var unstored: Set<Int64> = []
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

    /// Ids for `keys` (creating the missing ones, updating units where a sample gives a new one), and the
    /// definitions among them that no durable record holds yet.
    func resolve(_ keys: [SeriesKey], units: [MetricUnit?]) -> (ids: [Int64], undurable: [SeriesInfo]) {
        state.withLock { s in
            var pending: [SeriesInfo] = []
            let ids = keys.indices.map { i in
                let key = keys[i]
                if let id = s.byKey[key] {
                    if let unit = units[i], s.byID[id]!.unit != unit {
                        s.byID[id]!.unit = unit
                        s.undurable.insert(id)
                        s.unstored.insert(id)
                    }
                    if !s.undurable.isEmpty, s.undurable.contains(id) { pending.append(s.byID[id]!) }
                    return id
                }
                let id = s.nextID
                s.nextID += 1
                let info = SeriesInfo(id: id, key: key, unit: units[i])
                s.byKey[key] = id
                s.byID[id] = info
                s.undurable.insert(id)
                s.unstored.insert(id)
                pending.append(info)
                return id
            }
            return (ids, pending)
        }
    }

    /// The definitions among known `ids` that no durable record holds yet.
    func undurable(among ids: [Int64]) -> [SeriesInfo] {
        state.withLock { s in
            guard !s.undurable.isEmpty else { return [] }
            return ids.compactMap { s.undurable.contains($0) ? s.byID[$0] : nil }
        }
    }

    /// A durable record holds these definitions.
    func markDurable(_ infos: [SeriesInfo]) {
        guard !infos.isEmpty else { return }
        state.withLock { s in
            for info in infos where s.byID[info.id] == info { s.undurable.remove(info.id) }
        }
    }

    /// A definition replayed from the journal: durable, not yet stored.
    func define(_ info: SeriesInfo) {
        state.withLock { s in
            if let old = s.byID[info.id], old.key != info.key { s.byKey[old.key] = nil }
            s.byKey[info.key] = info.id
            s.byID[info.id] = info
            s.unstored.insert(info.id)
            s.nextID = max(s.nextID, info.id + 1)
        }
    }

    /// Takes the durable definitions the database does not have yet.
    func takeUnstored() -> [SeriesInfo] {
        state.withLock { s in
            let ready = s.unstored.subtracting(s.undurable)
            s.unstored.subtract(ready)
            return ready.compactMap { s.byID[$0] }
        }
    }

    /// Puts back definitions whose write failed.
    func restoreUnstored(_ infos: [SeriesInfo]) {
        state.withLock { s in
            for info in infos { s.unstored.insert(info.id) }
        }
    }

    func id(of key: SeriesKey) -> Int64? {
        state.withLock { $0.byKey[key] }
    }

    func ids(of keys: [SeriesKey]) -> [Int64?] {
        state.withLock { s in keys.map { s.byKey[$0] } }
    }

    func info(_ id: Int64) -> SeriesInfo? {
        state.withLock { $0.byID[id] }
    }

    func all() -> [SeriesInfo] {
        state.withLock { Array($0.byID.values) }
    }
}
