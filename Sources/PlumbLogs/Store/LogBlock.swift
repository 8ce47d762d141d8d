import PlumbStore

/// A sealed block of one group's events, as stored (zlib-compressed) in `log_blocks.data`.
///
/// Events are in (timestamp, id) order, the order a search reads them. The layout is by column, which is what
/// makes it compress: `PLB1`, the event count, the stream names (count, then each), then each column in turn —
/// ids and timestamps as signed deltas from the previous event, ingestion times as signed deltas from the event's
/// timestamp, stream indexes, message lengths — and last the messages' UTF-8 bytes back to back.
struct LogBlock {
    struct Event {
        var id: Int64
        var stream: String
        var timestamp: Int64
        var ingestionTime: Int64
        var message: String
    }

    static let magic = Array("PLB1".utf8)
    /// Events per block, at most.
    static let maxEvents = 4_096
    /// Message bytes per block, at most (a block is sealed early once its messages reach this).
    static let maxMessageBytes = 1 << 20

    /// The uncompressed encoding of `events` (sorted here by timestamp and id).
    static func encode(_ events: [Event]) -> [UInt8] {
        let sorted = events.sorted { ($0.timestamp, $0.id) < ($1.timestamp, $1.id) }
        var streams: [String] = []
        var streamIndex: [String: Int] = [:]
        for event in sorted where streamIndex[event.stream] == nil {
            streamIndex[event.stream] = streams.count
            streams.append(event.stream)
        }
        var writer = BinaryWriter(capacity: sorted.reduce(64) { $0 + $1.message.utf8.count + 12 })
        writer.writeBytes(magic)
        writer.writeVarint(UInt64(sorted.count))
        writer.writeVarint(UInt64(streams.count))
        for stream in streams { writer.writeString(stream) }
        var previous: Int64 = 0
        for event in sorted {
            writer.writeSignedVarint(event.id &- previous)
            previous = event.id
        }
        previous = 0
        for event in sorted {
            writer.writeSignedVarint(event.timestamp &- previous)
            previous = event.timestamp
        }
        for event in sorted { writer.writeSignedVarint(event.ingestionTime &- event.timestamp) }
        for event in sorted { writer.writeVarint(UInt64(streamIndex[event.stream]!)) }
        for event in sorted { writer.writeVarint(UInt64(event.message.utf8.count)) }
        for event in sorted { writer.writeBytes(Array(event.message.utf8)) }
        return writer.bytes
    }
}

/// A block read back: its columns, and its messages as byte ranges of one buffer.
struct DecodedLogBlock {
    let ids: [Int64]
    let timestamps: [Int64]
    let ingestionTimes: [Int64]
    let streamIndexes: [Int]
    let streams: [String]
    /// Message `i` is `bytes[messageStarts[i]..<messageStarts[i + 1]]`.
    let messageStarts: [Int]
    let bytes: [UInt8]

    var count: Int { ids.count }

    init(compressed: [UInt8], rawBytes: Int) throws {
        bytes = try Zlib.decompress(compressed, originalSize: rawBytes)
        var reader = BinaryReader(bytes)
        guard Array(try reader.readBytes(4)) == LogBlock.magic else {
            throw StoreError(code: .corrupt, message: "a log block does not start with PLB1")
        }
        let count = try Self.count(&reader, limit: bytes.count)
        let streamCount = try Self.count(&reader, limit: bytes.count)
        streams = try (0..<streamCount).map { _ in try reader.readString() }
        var ids = [Int64](repeating: 0, count: count)
        var timestamps = [Int64](repeating: 0, count: count)
        var ingestionTimes = [Int64](repeating: 0, count: count)
        var streamIndexes = [Int](repeating: 0, count: count)
        var previous: Int64 = 0
        for i in 0..<count {
            previous &+= try reader.readSignedVarint()
            ids[i] = previous
        }
        previous = 0
        for i in 0..<count {
            previous &+= try reader.readSignedVarint()
            timestamps[i] = previous
        }
        for i in 0..<count { ingestionTimes[i] = timestamps[i] &+ (try reader.readSignedVarint()) }
        for i in 0..<count {
            let index = try Self.count(&reader, limit: streamCount - 1)
            streamIndexes[i] = index
        }
        var starts = [Int](repeating: 0, count: count + 1)
        var lengths = [Int](repeating: 0, count: count)
        for i in 0..<count { lengths[i] = try Self.count(&reader, limit: bytes.count) }
        starts[0] = reader.offset
        for i in 0..<count {
            let (end, overflow) = starts[i].addingReportingOverflow(lengths[i])
            guard !overflow, end <= bytes.count else {
                throw StoreError(code: .corrupt, message: "a log block's messages run past its end")
            }
            starts[i + 1] = end
        }
        guard starts[count] == bytes.count else {
            throw StoreError(code: .corrupt, message: "a log block has bytes after its last message")
        }
        self.ids = ids
        self.timestamps = timestamps
        self.ingestionTimes = ingestionTimes
        self.streamIndexes = streamIndexes
        messageStarts = starts
    }

    /// A varint that must be at most `limit` (a count or an index read from the block).
    private static func count(_ reader: inout BinaryReader, limit: Int) throws -> Int {
        let value = try reader.readVarint()
        guard limit >= 0, value <= UInt64(limit) else {
            throw StoreError(code: .corrupt, message: "a log block holds a count or index out of range")
        }
        return Int(value)
    }

    func withMessage<T>(_ i: Int, _ body: (UnsafeRawBufferPointer) -> T) -> T {
        bytes.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[messageStarts[i]..<messageStarts[i + 1]])) }
    }

    func event(_ i: Int, group: String) -> LogEvent {
        LogEvent(
            id: ids[i], group: group, stream: streams[streamIndexes[i]], timestamp: timestamps[i],
            ingestionTime: ingestionTimes[i],
            message: withMessage(i) { String(decoding: $0, as: UTF8.self) })
    }
}
