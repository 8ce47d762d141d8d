import Foundation
import Testing

@testable import PlumbMetrics

/// Chunks give back exactly what went in, and are small for what monitoring data looks like.
@Suite("Chunk codec")
struct ChunkCodecTests {
    static func roundTrip(_ timestamps: [Int64], _ values: [Double]) throws -> Int {
        let bytes = ChunkCodec.encode(timestamps: timestamps, values: values)
        let (t, v) = try ChunkCodec.decode(bytes)
        #expect(t == timestamps)
        #expect(v.map(\.bitPattern) == values.map(\.bitPattern), "bit for bit")
        return bytes.count
    }

    @Test("decimal gauges, counters and regular timestamps: a couple of bytes a sample")
    func monitoringData() throws {
        let t: [Int64] = (0..<500).map { (i: Int) -> Int64 in Int64(1_795_000_000 + i * 10) }
        // "%.3f" values, as the ingest benchmark sends them.
        let gauge: [Double] = (0..<500).map { (i: Int) -> Double in
            let raw = Double((7 + i) % 100) / 3
            return (raw * 1_000).rounded() / 1_000
        }
        let counter: [Double] = (0..<500).map { (i: Int) -> Double in Double(i * 37) }
        let gaugeBytes = try Self.roundTrip(t, gauge)
        let counterBytes = try Self.roundTrip(t, counter)
        #expect(Double(gaugeBytes) / 500 < 3.0, "\(gaugeBytes) bytes")
        #expect(Double(counterBytes) / 500 < 1.5, "\(counterBytes) bytes")
    }

    @Test("values with no short decimal form, jittered timestamps, -0, extremes: exact")
    func awkwardValues() throws {
        var rng = SystemRandomNumberGenerator()
        var t: [Int64] = []
        var latencies: [Double] = []
        for i in 0..<300 {
            t.append(Int64(1_795_000_000 + i * 15 + Int.random(in: -3...3, using: &rng)))
            latencies.append(Double.random(in: 0.5...250, using: &rng))
        }
        _ = try Self.roundTrip(t, latencies)
        _ = try Self.roundTrip([1, 2, 3, 4], [-0.0, 0.0, 1e-300, -1e300])
        _ = try Self.roundTrip([5], [Double.greatestFiniteMagnitude])
        _ = try Self.roundTrip([], [])
        _ = try Self.roundTrip([Int64.min / 4, Int64.max / 4], [1, 2])
    }

    @Test("a damaged chunk is refused, never trapped on")
    func damaged() throws {
        let timestamps: [Int64] = (0..<100).map { Int64($0) }
        let values: [Double] = (0..<100).map { Double($0) / 7 }
        let bytes = ChunkCodec.encode(timestamps: timestamps, values: values)
        for cut in [0, 1, 2, bytes.count / 2, bytes.count - 1] {
            #expect(throws: (any Error).self) { try ChunkCodec.decode(Array(bytes.prefix(cut))) }
        }
        var flipped = bytes
        flipped[0] = 0xFF
        _ = try? ChunkCodec.decode(flipped)
    }
}
