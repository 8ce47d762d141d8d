import PlumbAPI
import PlumbStore

/// One journal record of the metric store: the series it defines, its raw samples by stream, and its other samples.
///
/// Layout: `2` (the format), the definitions (`varint n`, then id, namespace, name, dimensions text, unit), the runs
/// (`varint n`, then per run its stream, its sample count, the timestamps as zig-zag deltas from the one before and
/// the values as 8-byte doubles), then values with counts, statistic sets and distributions in `JournalCodec`'s form.
/// A record carries the definition of every series it uses that had no durable definition yet, so a record never
/// depends on another one.
struct MetricRecord: Sendable {
    static let format: UInt8 = 2

    var definitions: [SeriesInfo] = []
    var runs = SampleRuns()
    var aggregated: [ResolvedSample] = []

    func encode() -> [UInt8] {
        var w = BinaryWriter(capacity: 16 + runs.sampleCount * 11 + runs.streams.count * 4)
        w.writeByte(Self.format)
        w.writeVarint(UInt64(definitions.count))
        for info in definitions {
            w.writeVarint(UInt64(info.id))
            w.writeString(info.key.namespace)
            w.writeString(info.key.name)
            w.writeString(info.key.dimensionsText)
            w.writeString(info.unit?.rawValue ?? "")
        }
        w.writeVarint(UInt64(runs.streams.count))
        for run in runs.streams.indices {
            let range = runs.range(run)
            w.writeVarint(UInt64(bitPattern: runs.streams[run]))
            w.writeVarint(UInt64(range.count))
            var previous: Int64 = 0
            for i in range {
                w.writeSignedVarint(runs.timestamps[i] &- previous)
                previous = runs.timestamps[i]
            }
            for i in range { w.writeDouble(runs.values[i]) }
        }
        if !aggregated.isEmpty { w.writeBytes(JournalCodec.encode(aggregated)) }
        return w.bytes
    }

    static func decode(_ bytes: [UInt8]) throws -> MetricRecord {
        var r = BinaryReader(bytes)
        guard try r.readByte() == format else {
            throw StoreError(code: .corrupt, message: "unknown metric record format")
        }
        var record = MetricRecord()
        let definitions = try r.readVarint()
        guard definitions <= UInt64(bytes.count) else { throw StoreError(code: .corrupt, message: "metric record") }
        for _ in 0..<definitions {
            let id = Int64(bitPattern: try r.readVarint())
            let namespace = try r.readString()
            let name = try r.readString()
            let dimensions = SeriesKey.parseDimensionsText(try r.readString())
            let unit = try r.readString()
            record.definitions.append(
                SeriesInfo(
                    id: id, key: SeriesKey(namespace: namespace, name: name, dimensions: dimensions),
                    unit: unit.isEmpty ? nil : MetricUnit(rawValue: unit)))
        }
        let runs = try r.readVarint()
        guard runs <= UInt64(bytes.count) else { throw StoreError(code: .corrupt, message: "metric record") }
        for _ in 0..<runs {
            record.runs.streams.append(Int64(bitPattern: try r.readVarint()))
            let count = try r.readVarint()
            guard count <= UInt64(bytes.count) else { throw StoreError(code: .corrupt, message: "metric record") }
            var previous: Int64 = 0
            for _ in 0..<count {
                previous &+= try r.readSignedVarint()
                record.runs.timestamps.append(previous)
            }
            for _ in 0..<count { record.runs.values.append(try r.readDouble()) }
            record.runs.ends.append(record.runs.timestamps.count)
        }
        if !r.isAtEnd {
            record.aggregated = try JournalCodec.decode(Array(try r.readBytes(bytes.count - r.offset)))
        }
        return record
    }
}
