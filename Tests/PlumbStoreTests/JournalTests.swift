import Foundation
import PlumbStore
import Testing

/// The group-commit journal: everything acknowledged is replayed, in order per writer; a torn tail is dropped;
/// segments rotate and go only once applied.
@Suite("Journal")
struct JournalTests {
    static func directory() -> String {
        let path = NSTemporaryDirectory() + "plumb-journal-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test("200 concurrent appends are all replayed, each writer's in its order, across a rotation")
    func concurrentAppends() async throws {
        let dir = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let journal = try Journal(directory: dir, name: "t", durability: .full)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<4 {
                group.addTask {
                    for i in 0..<50 {
                        let segment = try await journal.append(Array("\(writer):\(i)".utf8))
                        journal.markApplied(segment)
                    }
                }
            }
            try await group.waitForAll()
        }
        let closed = try await journal.rotate()
        await journal.waitApplied(through: closed)
        _ = try await journal.append(Array("after".utf8))
        await journal.close()
        var seen: [String] = []
        let (records, torn) = try Journal.replay(directory: dir, name: "t") {
            seen.append(String(decoding: $0, as: UTF8.self))
        }
        #expect(records == 201 && torn == 0)
        for writer in 0..<4 {
            #expect(seen.filter { $0.hasPrefix("\(writer):") } == (0..<50).map { "\(writer):\($0)" })
        }
        #expect(seen.last == "after")
        #expect(try Journal.segments(directory: dir, name: "t").count == 2)
        try journal.remove(upTo: closed)
        var after: [String] = []
        _ = try Journal.replay(directory: dir, name: "t") { after.append(String(decoding: $0, as: UTF8.self)) }
        #expect(after == ["after"])
    }

    @Test("a torn or damaged tail ends the replay of its segment")
    func tornTail() async throws {
        let dir = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let journal = try Journal(directory: dir, name: "t", durability: .normal)
        for i in 0..<10 { try await journal.append(Array(repeating: UInt8(i), count: 100)) }
        await journal.close()
        let path = try #require(try Journal.segments(directory: dir, name: "t").first).path
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        bytes.removeLast(30)  // the last record cut in the middle of its payload
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        var count = 0
        var result = try Journal.replay(directory: dir, name: "t") { _ in count += 1 }
        #expect(count == 9 && result.torn == 1)
        bytes[108 * 3 + 10] ^= 0xFF  // a flipped byte in the fourth record's payload
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        count = 0
        result = try Journal.replay(directory: dir, name: "t") { _ in count += 1 }
        #expect(count == 3 && result.torn == 1)
    }

    @Test("waitApplied returns only once every record of the segment is applied")
    func applied() async throws {
        let dir = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let journal = try Journal(directory: dir, name: "t", durability: .normal)
        let segment = try await journal.append([1, 2, 3])
        let closed = try await journal.rotate()
        #expect(closed == segment)
        let waiter = Task { await journal.waitApplied(through: closed) }
        try await Task.sleep(for: .milliseconds(50))
        journal.markApplied(segment)
        await waiter.value
        await journal.close()
    }
}
