import CZlib
import Foundation
import Synchronization

/// An append-only write-ahead journal in plain files, with group commit: what a store acknowledges once it is on
/// disk and folds into its real layout later.
///
/// `append` hands a record to the journal's own thread and returns once the record is written and — under
/// `Durability.full` — `fdatasync`ed. While one sync runs, every record that arrives waits for the next, so one sync
/// covers many requests (PostgreSQL's and Prometheus' WAL do the same). The thread is a real thread, not a task:
/// writing and syncing block, and Swift's cooperative pool has only a thread per core.
///
/// Records live in segments `<name>-<sequence>.wal`, each record `[length u32][crc32 u32][payload]` (little
/// endian). `rotate()` starts a new segment; once the store has folded in everything up to a segment, `remove(upTo:)`
/// deletes it. `replay` reads the segments in order and stops at the first torn or damaged record (a crash in the
/// middle of a write): what follows was never acknowledged.
public final class Journal: @unchecked Sendable {
    // @unchecked: `file` and `segment` are touched only on the journal thread, or under `state`'s lock at rotation;
    // `state` is a Mutex and `wake` is only signalled.

    public struct Segment: Sendable, Comparable {
        public let sequence: Int
        public let path: String
        public static func < (a: Segment, b: Segment) -> Bool { a.sequence < b.sequence }
    }

    struct Pending {
        var records: [[UInt8]] = []
        var waiters: [@Sendable (Result<Int, any Error>) -> Void] = []
        var rotateAfter = false
        var closed = false
        /// The segment appends go to.
        var segment = 1
        /// Records written but not yet applied by the store (`markApplied`), by segment: a segment may go only once
        /// everything in it is in the store's memory (else an acknowledged record could be neither on disk nor there).
        var unapplied: [Int: Int] = [:]
    }

    public let directory: String
    public let name: String
    let durability: Durability
    private let state = Mutex(Pending())
    private let wake = NSCondition()
    private var file: Int32 = -1
    private var thread: Thread?

    /// Opens (or creates) the journal in `directory`; appends go to a new segment after the existing ones.
    public init(directory: String, name: String, durability: Durability) throws {
        self.directory = directory
        self.name = name
        self.durability = durability
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let segment = (try Self.segments(directory: directory, name: name).last?.sequence ?? 0) + 1
        state.withLock { $0.segment = segment }
        file = try Self.open(Self.path(directory, name, segment))
        // The thread holds the journal until `close()`/`shutdown()` ends it.
        let thread = Thread { self.run() }
        thread.name = "plumb-journal-\(name)"
        thread.stackSize = 256 * 1_024
        self.thread = thread
        thread.start()
    }

    deinit {
        if file >= 0 { Foundation.close(file) }
    }

    static func path(_ directory: String, _ name: String, _ sequence: Int) -> String {
        directory + "/" + name + "-" + String(format: "%010d", sequence) + ".wal"
    }

    static func open(_ path: String) throws -> Int32 {
        let fd = Foundation.open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw StoreError(code: .io, message: "cannot open journal \(path): errno \(errno)") }
        return fd
    }

    /// The segments on disk, oldest first.
    public static func segments(directory: String, name: String) throws -> [Segment] {
        let prefix = name + "-"
        return ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).compactMap { file in
            guard file.hasPrefix(prefix), file.hasSuffix(".wal"), let n = Int(file.dropFirst(prefix.count).dropLast(4))
            else { return nil }
            return Segment(sequence: n, path: directory + "/" + file)
        }.sorted()
    }

    /// The segment appends go to now.
    public var currentSegment: Int { state.withLock { $0.segment } }

    /// Writes one record; returns once it is durable (synced under `Durability.full`), with the segment it is in. The
    /// caller applies it to its memory and then calls `markApplied(segment)`.
    @discardableResult
    public func append(_ record: [UInt8]) async throws -> Int {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Int, any Error>) in
            enqueue(record) { continuation.resume(with: $0) }
        }
    }

    /// `append`, blocking the calling thread until the record is durable: for a synchronous writer that must know
    /// its record is on disk before it commits something of its own. Not for the cooperative pool's threads.
    @discardableResult
    public func appendBlocking(_ record: [UInt8]) throws -> Int {
        let done = DispatchSemaphore(value: 0)
        let result = Mutex<Result<Int, any Error>?>(nil)
        enqueue(record) { outcome in
            result.withLock { $0 = outcome }
            done.signal()
        }
        done.wait()
        return try result.withLock { $0! }.get()
    }

    private func enqueue(_ record: [UInt8], _ waiter: @escaping @Sendable (Result<Int, any Error>) -> Void) {
        let closed = state.withLock { s -> Bool in
            guard !s.closed else { return true }
            s.records.append(record)
            s.waiters.append(waiter)
            return false
        }
        if closed {
            waiter(.failure(StoreError(code: .io, message: "the journal \(name) is closed")))
            return
        }
        signal()
    }

    /// Starts a new segment after the records already handed over; returns the sequence of the segment it closed.
    /// Everything in that segment and the ones before can be removed once the store has folded it in (after
    /// `waitApplied(through:)`).
    public func rotate() async throws -> Int {
        state.withLock { $0.rotateAfter = true }
        let closing = try await append([])  // an empty record is not written, only waited for
        return closing
    }

    /// The store has applied a record of `segment` to its memory.
    public func markApplied(_ segment: Int) {
        state.withLock { s in
            s.unapplied[segment, default: 0] -= 1
            if s.unapplied[segment] == 0 { s.unapplied[segment] = nil }
        }
    }

    /// Waits until every record written to the segments up to `sequence` has been applied.
    public func waitApplied(through sequence: Int) async {
        while state.withLock({ $0.unapplied.contains { $0.key <= sequence } }) {
            try? await Task.sleep(for: .milliseconds(1))
        }
    }

    /// Deletes every segment up to and including `sequence`.
    public func remove(upTo sequence: Int) throws {
        for segment in try Self.segments(directory: directory, name: name) where segment.sequence <= sequence {
            try FileManager.default.removeItem(atPath: segment.path)
        }
    }

    /// Stops the thread after the records already handed over are written.
    public func close() async {
        _ = try? await append([])
        shutdown()
    }

    /// Refuses further appends and lets the thread end once the records already handed over are written; does not
    /// wait for that (for a `deinit`).
    public func shutdown() {
        state.withLock { $0.closed = true }
        signal()
    }

    /// Wakes the journal thread (a synchronous call: the condition's lock is not for async contexts).
    private func signal() {
        wake.lock()
        wake.signal()
        wake.unlock()
    }

    private func run() {
        while true {
            wake.lock()
            while state.withLock({ $0.records.isEmpty && !$0.closed }) { wake.wait() }
            wake.unlock()
            let (records, waiters, rotate, closed, written) = state.withLock { s in
                defer { (s.records, s.waiters, s.rotateAfter) = ([], [], false) }
                return (s.records, s.waiters, s.rotateAfter, s.closed, s.segment)
            }
            var failure: (any Error)?
            do {
                try write(records)
                if durability == .full, records.contains(where: { !$0.isEmpty }), fdatasync(file) != 0 {
                    throw StoreError(code: .io, message: "fdatasync of journal \(name) failed: errno \(errno)")
                }
                let count = records.count { !$0.isEmpty }
                if count > 0 { state.withLock { $0.unapplied[written, default: 0] += count } }
                if rotate { try startSegment() }
            } catch {
                failure = error
            }
            // Each waiter learns the segment its record went to (an empty record, a barrier, was not written and has
            // nothing to apply).
            for waiter in waiters {
                if let failure { waiter(.failure(failure)) } else { waiter(.success(written)) }
            }
            if closed && state.withLock({ $0.records.isEmpty }) {
                if file >= 0 { Foundation.close(file) }
                file = -1
                return
            }
        }
    }

    private func write(_ records: [[UInt8]]) throws {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(records.reduce(0) { $0 + $1.count + 8 })
        for record in records where !record.isEmpty {
            Self.appendFramed(record, to: &buffer)
        }
        var offset = 0
        while offset < buffer.count {
            let written = buffer.withUnsafeBytes {
                Foundation.write(file, $0.baseAddress! + offset, buffer.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                throw StoreError(code: .io, message: "write to journal \(name) failed: errno \(errno)")
            }
            offset += written
        }
    }

    private func startSegment() throws {
        if durability == .full { _ = fsync(file) }
        Foundation.close(file)
        file = -1
        let next = state.withLock { $0.segment + 1 }
        file = try Self.open(Self.path(directory, name, next))
        state.withLock { $0.segment = next }
    }

    static func appendFramed(_ record: [UInt8], to buffer: inout [UInt8]) {
        let length = UInt32(record.count)
        let crc = record.withUnsafeBufferPointer {
            UInt32(truncatingIfNeeded: crc32(0, $0.baseAddress, uInt($0.count)))
        }
        for shift in stride(from: 0, to: 32, by: 8) {
            buffer.append(UInt8(truncatingIfNeeded: length >> UInt32(shift)))
        }
        for shift in stride(from: 0, to: 32, by: 8) { buffer.append(UInt8(truncatingIfNeeded: crc >> UInt32(shift))) }
        buffer.append(contentsOf: record)
    }

    /// Every intact record of the segments up to `sequence` (all when nil), oldest first; a torn or damaged record
    /// ends its segment (a crash mid-write) and is reported in `torn`.
    public static func replay(
        directory: String, name: String, through sequence: Int? = nil, _ body: ([UInt8]) throws -> Void
    ) throws -> (records: Int, torn: Int) {
        var records = 0
        var torn = 0
        for segment in try segments(directory: directory, name: name)
        where sequence.map({ segment.sequence <= $0 }) ?? true {
            guard let data = FileManager.default.contents(atPath: segment.path) else { continue }
            let bytes = [UInt8](data)
            var offset = 0
            while offset + 8 <= bytes.count {
                let length = Int(
                    UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(
                        bytes[offset + 3]) << 24)
                let crc =
                    UInt32(bytes[offset + 4]) | UInt32(bytes[offset + 5]) << 8 | UInt32(bytes[offset + 6]) << 16
                    | UInt32(bytes[offset + 7]) << 24
                guard length <= bytes.count - offset - 8 else { break }
                let record = Array(bytes[(offset + 8)..<(offset + 8 + length)])
                let actual = record.withUnsafeBufferPointer {
                    UInt32(truncatingIfNeeded: crc32(0, $0.baseAddress, uInt($0.count)))
                }
                guard actual == crc else { break }
                try body(record)
                records += 1
                offset += 8 + length
            }
            if offset < bytes.count { torn += 1 }
        }
        return (records, torn)
    }
}
