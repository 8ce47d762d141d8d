import PlumbStore

/// A sample whose series has an id: what the journal records and the head aggregates.
struct ResolvedSample: Sendable {
    var series: Int64
    var timestamp: Int64
    var resolution: Int32
    var value: Sample.Value

    /// The start of the storage bucket this sample falls in.
    var bucket: Int64 {
        let r = Int64(resolution)
        return timestamp >= 0 ? timestamp / r * r : -((-timestamp + r - 1) / r) * r
    }
}

/// The journal's record format: a run of resolved samples, compactly encoded.
enum JournalCodec {
    static func encode(_ samples: [ResolvedSample]) -> [UInt8] {
        var w = BinaryWriter(capacity: samples.count * 14)
        for s in samples {
            w.writeVarint(UInt64(s.series))
            w.writeSignedVarint(s.timestamp)
            w.writeByte(UInt8(s.resolution == 1 ? 1 : 60))
            switch s.value {
            case .single(let v):
                w.writeByte(0)
                w.writeDouble(v)
            case .values(let values, let counts):
                w.writeByte(counts == nil ? 1 : 2)
                w.writeVarint(UInt64(values.count))
                for v in values { w.writeDouble(v) }
                for c in counts ?? [] { w.writeDouble(c) }
            case .statistics(let count, let sum, let min, let max):
                w.writeByte(3)
                for v in [count, sum, min, max] { w.writeDouble(v) }
            case .distribution(let aggregate):
                w.writeByte(4)
                for v in [aggregate.count, aggregate.sum, aggregate.min, aggregate.max] { w.writeDouble(v) }
                let dist = aggregate.encodedDistribution() ?? []
                w.writeVarint(UInt64(dist.count))
                w.writeBytes(dist)
            }
        }
        return w.bytes
    }

    static func decode(_ bytes: [UInt8]) throws -> [ResolvedSample] {
        var r = BinaryReader(bytes)
        var out: [ResolvedSample] = []
        while !r.isAtEnd {
            let series = Int64(try r.readVarint())
            let ts = try r.readSignedVarint()
            let res = Int32(try r.readByte())
            let value: Sample.Value
            switch try r.readByte() {
            case 0:
                value = .single(try r.readDouble())
            case let kind where kind == 1 || kind == 2:
                let n = Int(try r.readVarint())
                guard n <= 1_000_000 else { throw StoreError(code: .corrupt, message: "journal entry too long") }
                let values = try (0..<n).map { _ in try r.readDouble() }
                let counts = kind == 2 ? try (0..<n).map { _ in try r.readDouble() } : nil
                value = .values(values, counts: counts)
            case 3:
                value = .statistics(
                    count: try r.readDouble(), sum: try r.readDouble(), min: try r.readDouble(), max: try r.readDouble()
                )
            case 4:
                let count = try r.readDouble()
                let sum = try r.readDouble()
                let min = try r.readDouble()
                let max = try r.readDouble()
                let n = Int(try r.readVarint())
                let dist = try (0..<n).map { _ in try r.readByte() }
                value = .distribution(
                    try Aggregate.decode(count: count, sum: sum, min: min, max: max, distribution: n == 0 ? nil : dist))
            default:
                throw StoreError(code: .corrupt, message: "unknown journal value kind")
            }
            out.append(ResolvedSample(series: series, timestamp: ts, resolution: res, value: value))
        }
        return out
    }
}

extension Aggregate {
    mutating func add(_ value: Sample.Value) {
        switch value {
        case .single(let v):
            add(v)
        case .values(let values, let counts):
            for i in values.indices where (counts?[i] ?? 1) > 0 { add(values[i], weight: counts?[i] ?? 1) }
        case .statistics(let count, let sum, let min, let max):
            addStatistics(count: count, sum: sum, min: min, max: max)
        case .distribution(let aggregate):
            merge(aggregate)
        }
    }
}
