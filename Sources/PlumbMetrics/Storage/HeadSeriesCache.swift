import Synchronization

/// The series each line-protocol head and field resolved to in one store, across requests.
///
/// The parser hands out one `LineProtocolBatch.Head` object per distinct raw head for as long as its own cache keeps
/// it, so a sender that writes the same series request after request finds their ids here by object identity, without
/// building and hashing a `SeriesKey` per series. Entries hold their head, so an identity is never reused while it is
/// a key. Series ids never change once given, so an entry never goes stale; at `capacity` heads the cache starts over.
final class HeadSeriesCache: Sendable {
    private struct Entry {
        let head: LineProtocolBatch.Head
        var fields: [(name: String, id: Int64)]
    }

    private let state = Mutex<[ObjectIdentifier: Entry]>([:])
    let capacity: Int

    init(capacity: Int = 200_000) { self.capacity = capacity }

    /// The id of each (head, field) pair of `batch`, or -1 where this store has not resolved it through the cache yet.
    func lookup(_ batch: LineProtocolBatch, _ pairs: [(head: Int32, field: Int32)]) -> [Int64] {
        state.withLock { map in
            pairs.map { pair in
                guard let entry = map[ObjectIdentifier(batch.heads[Int(pair.head)])] else { return -1 }
                let name = batch.fields[Int(pair.field)]
                for field in entry.fields where field.name == name { return field.id }
                return -1
            }
        }
    }

    /// Remembers the ids of pairs resolved through the registry.
    func remember(_ batch: LineProtocolBatch, _ pairs: [(head: Int32, field: Int32)], ids: [Int64]) {
        guard !pairs.isEmpty else { return }
        state.withLock { map in
            if map.count + pairs.count > capacity { map = [:] }
            for (pair, id) in zip(pairs, ids) {
                let head = batch.heads[Int(pair.head)]
                map[ObjectIdentifier(head), default: Entry(head: head, fields: [])].fields.append(
                    (batch.fields[Int(pair.field)], id))
            }
        }
    }

    var count: Int { state.withLock { $0.count } }
}
