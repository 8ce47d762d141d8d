import Foundation
import PlumbStore

/// A log-bucketed quantile sketch with a guaranteed relative error (the DDSketch construction).
///
/// A positive value `x` falls in bucket `i = ceil(log_γ x)`, `γ = (1 + α) / (1 − α)`, and is represented by
/// `2γ^i / (γ + 1)`; every value of the bucket is within relative error `α` of that representative. The
/// value at any rank is therefore estimated within `α` of the true value at that rank. Sketches merge by
/// adding bucket counts, so period statistics stay exact in rank and bounded in value across merges.
public struct Sketch: Sendable, Equatable {
    /// The relative accuracy α: 1 %.
    public static let relativeAccuracy = 0.01
    static let gamma = (1 + relativeAccuracy) / (1 - relativeAccuracy)
    static let logGamma = log(gamma)
    /// Magnitudes below this count as zero.
    static let minIndexable = 1e-300

    var positive: [Int32: Double] = [:]
    var negative: [Int32: Double] = [:]
    var zero: Double = 0

    public init() {}

    static func index(_ magnitude: Double) -> Int32 {
        Int32((log(magnitude) / logGamma).rounded(.up))
    }

    static func representative(_ index: Int32) -> Double {
        2 * pow(gamma, Double(index)) / (gamma + 1)
    }

    public mutating func add(_ value: Double, weight: Double = 1) {
        if abs(value) < Self.minIndexable {
            zero += weight
        } else if value > 0 {
            positive[Self.index(value), default: 0] += weight
        } else {
            negative[Self.index(-value), default: 0] += weight
        }
    }

    public mutating func merge(_ other: Sketch) {
        zero += other.zero
        for (k, v) in other.positive { positive[k, default: 0] += v }
        for (k, v) in other.negative { negative[k, default: 0] += v }
    }

    /// The estimate of the value at 1-based rank `rank` (nearest-rank order, smallest first).
    public func value(atRank rank: Double) -> Double? {
        var seen = 0.0
        for key in negative.keys.sorted(by: >) {
            seen += negative[key]!
            if seen >= rank { return -Self.representative(key) }
        }
        seen += zero
        if seen >= rank { return 0 }
        for key in positive.keys.sorted() {
            seen += positive[key]!
            if seen >= rank { return Self.representative(key) }
        }
        return nil
    }

    func encode(into writer: inout BinaryWriter) {
        writer.writeDouble(zero)
        for store in [positive, negative] {
            writer.writeVarint(UInt64(store.count))
            for key in store.keys.sorted() {
                writer.writeSignedVarint(Int64(key))
                writer.writeDouble(store[key]!)
            }
        }
    }

    static func decode(from reader: inout BinaryReader) throws -> Sketch {
        var sketch = Sketch()
        sketch.zero = try reader.readDouble()
        for side in 0..<2 {
            let n = try reader.readVarint()
            for _ in 0..<n {
                let key = Int32(truncatingIfNeeded: try reader.readSignedVarint())
                let weight = try reader.readDouble()
                if side == 0 { sketch.positive[key] = weight } else { sketch.negative[key] = weight }
            }
        }
        return sketch
    }
}
