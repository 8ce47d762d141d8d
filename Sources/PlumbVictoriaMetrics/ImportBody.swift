import PlumbAPI
import PlumbMetrics

/// A `/api/v1/import` body being built: JSON lines, one per stored series, each with its values and timestamps
/// (milliseconds).
struct ImportBody {
    struct Target: Hashable {
        let key: SeriesKey
        let part: SeriesLabels.Part
        let bucket: DistributionBucket?
    }

    private var order: [Target] = []
    private var points: [Target: (timestamps: [Int64], values: [Double])] = [:]
    private var extra: [UInt8] = []

    mutating func add(
        _ key: SeriesKey, _ part: SeriesLabels.Part, _ milliseconds: Int64, _ value: Double,
        bucket: DistributionBucket? = nil
    ) {
        let target = Target(key: key, part: part, bucket: bucket)
        if points[target] == nil {
            order.append(target)
            points[target] = ([], [])
        }
        points[target]!.timestamps.append(milliseconds)
        points[target]!.values.append(value)
    }

    /// Count, sum and extremes to their companions, and the distribution (if any) to its buckets.
    mutating func addSummary(_ key: SeriesKey, _ milliseconds: Int64, _ aggregate: Aggregate) {
        add(key, .count, milliseconds, aggregate.count)
        add(key, .sum, milliseconds, aggregate.sum)
        add(key, .min, milliseconds, aggregate.min)
        add(key, .max, milliseconds, aggregate.max)
        for (bucket, weight) in aggregate.distributionBuckets() ?? [:] {
            add(key, .bucket, milliseconds, weight, bucket: bucket)
        }
    }

    /// A line for a series given by its labels.
    mutating func addLine(_ labels: [(String, String)], timestamps: [Int64], values: [Double]) {
        Self.line(labels, timestamps, values, into: &extra)
    }

    func bytes() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(extra.count + points.count * 256)
        for target in order {
            let (timestamps, values) = points[target]!
            Self.line(
                SeriesLabels.labels(target.key, part: target.part, bucket: target.bucket), timestamps, values,
                into: &out)
        }
        out.append(contentsOf: extra)
        return out
    }

    static func line(_ labels: [(String, String)], _ timestamps: [Int64], _ values: [Double], into out: inout [UInt8]) {
        out.append(contentsOf: #"{"metric":{"#.utf8)
        for (i, (name, value)) in labels.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            string(name, into: &out)
            out.append(UInt8(ascii: ":"))
            string(value, into: &out)
        }
        out.append(contentsOf: #"},"values":["#.utf8)
        for (i, value) in values.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            // Swift's shortest round-trip form. VictoriaMetrics keeps about 12 significant digits of it (it stores
            // decimals): README "Metrics on VictoriaMetrics".
            out.append(contentsOf: value.description.utf8)
        }
        out.append(contentsOf: #"],"timestamps":["#.utf8)
        for (i, timestamp) in timestamps.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: String(timestamp).utf8)
        }
        out.append(contentsOf: "]}\n".utf8)
    }

    /// A JSON string: quotes, backslashes and control characters escaped.
    static func string(_ text: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: #"\""#.utf8)
            case UInt8(ascii: "\\"): out.append(contentsOf: #"\\"#.utf8)
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out.append(contentsOf: #"\u00"#.utf8)
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0x0F)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
