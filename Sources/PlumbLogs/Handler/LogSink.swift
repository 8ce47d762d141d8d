import Foundation
import Logging
import Metrics
import PlumbAPI
import PlumbMetrics
import Synchronization

/// The bounded, non-blocking queue between the process's loggers and the log store.
///
/// `enqueue` never waits: when `capacity` events are already waiting, the event is dropped and counted in
/// `Plumb/Logs/DroppedEvents`, so a slow disk can never stall a request path. `flush` (run by
/// `LogSinkService` every 200 ms and at shutdown) writes what is queued in one transaction; a batch the store
/// refuses goes back to the queue (within `capacity`) for the next flush.
public final class LogSink: Sendable {
    struct Pending: Sendable {
        var group: String
        var stream: String
        var event: InputLogEvent
    }

    struct State: Sendable {
        var queue: [Pending] = []
        var store: (any LogStoring)?
    }

    public let capacity: Int
    private let state = Mutex(State())
    private let droppedCounter = Counter(label: "Plumb/Logs/DroppedEvents")
    private let dropped = Atomic<Int>(0)

    public init(capacity: Int = 50_000) {
        self.capacity = capacity
    }

    /// The store to write into; events queued before it is attached wait (up to `capacity`).
    public func attach(_ store: any LogStoring) {
        state.withLock { $0.store = store }
    }

    /// Queues an event, or drops it when the queue is full. Returns whether it was queued.
    @discardableResult
    public func enqueue(group: String, stream: String, timestamp: Int64, message: String) -> Bool {
        let queued = state.withLock { s -> Bool in
            guard s.queue.count < capacity else { return false }
            s.queue.append(
                Pending(group: group, stream: stream, event: InputLogEvent(timestamp: timestamp, message: message)))
            return true
        }
        if !queued {
            dropped.add(1, ordering: .relaxed)
            droppedCounter.increment()
        }
        return queued
    }

    public var droppedCount: Int { dropped.load(ordering: .relaxed) }
    public var queuedCount: Int { state.withLock { $0.queue.count } }

    /// Writes everything queued (events over the size limit are cut to it); returns the metric filters' samples.
    @discardableResult
    public func flush() async throws -> [Sample] {
        let (batch, store) = state.withLock { s -> ([Pending], (any LogStoring)?) in
            guard let store = s.store else { return ([], nil) }
            defer { s.queue.removeAll(keepingCapacity: true) }
            return (s.queue, store)
        }
        guard let store, !batch.isEmpty else { return [] }
        var byStream: [String: (group: String, stream: String, events: [InputLogEvent])] = [:]
        for p in batch {
            var event = p.event
            let limit = LogLimits.maxEventBytes - LogLimits.eventOverhead
            if event.message.utf8.count > limit {
                event.message = String(decoding: event.message.utf8.prefix(limit - 16), as: UTF8.self) + " …[truncated]"
            }
            if event.message.utf8.contains(0) {
                event.message = event.message.replacingOccurrences(of: "\u{0}", with: "\u{FFFD}")
            }
            byStream[p.group + "\u{0}" + p.stream, default: (p.group, p.stream, [])].events.append(event)
        }
        do {
            return try await store.append(byStream.values.map { ($0.group, $0.stream, $0.events) })
        } catch let error as any HTTPResponseError where error.status == 503 {
            // The store is away (a shared database that is down): the batch goes back ahead of what came since, as
            // far as the capacity allows, and is tried again at the next flush.
            requeue(batch)
            throw error
        } catch {
            // Refused for good: retrying would refuse it again at every flush. Counted as dropped.
            dropped.add(batch.count, ordering: .relaxed)
            droppedCounter.increment(by: batch.count)
            throw error
        }
    }

    private func requeue(_ batch: [Pending]) {
        let lost = state.withLock { s -> Int in
            let room = max(0, capacity - s.queue.count)
            let kept = batch.suffix(room)
            s.queue.insert(contentsOf: kept, at: 0)
            return batch.count - kept.count
        }
        if lost > 0 {
            dropped.add(lost, ordering: .relaxed)
            droppedCounter.increment(by: lost)
        }
    }
}
