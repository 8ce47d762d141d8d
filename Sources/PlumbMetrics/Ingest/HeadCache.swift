import Synchronization

/// Series heads (`measurement,tag=value…` as sent) already decoded and validated, across requests: a sender writes
/// the same series request after request, and decoding and validating each head again is a large share of parsing.
///
/// Keyed by the FNV-1a hash of the raw bytes and verified byte for byte. Only heads that passed validation are kept;
/// at `capacity` entries the cache starts over, so a sender with endless new series costs memory once, not forever.
final class HeadCache: Sendable {
    private let entries = Mutex<(map: [UInt64: [(raw: [UInt8], head: LineProtocolBatch.Head)]], count: Int)>(([:], 0))
    let capacity: Int

    init(capacity: Int = 100_000) { self.capacity = capacity }

    func lookup(_ hash: UInt64, _ b: UnsafeBufferPointer<UInt8>, _ s: Int, _ e: Int) -> LineProtocolBatch.Head? {
        entries.withLock { state in
            guard let candidates = state.map[hash] else { return nil }
            for candidate in candidates where ParseState.same(candidate.raw, b, s, e) { return candidate.head }
            return nil
        }
    }

    func insert(_ hash: UInt64, raw: [UInt8], head: LineProtocolBatch.Head) {
        entries.withLock { state in
            if state.count >= capacity { state = ([:], 0) }
            state.map[hash, default: []].append((raw, head))
            state.count += 1
        }
    }
}
