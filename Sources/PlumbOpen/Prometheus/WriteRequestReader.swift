import Foundation
import PlumbAPI
import PlumbMetrics

/// Reads a remote write `WriteRequest` straight off its protobuf bytes into Plumb samples, without building the
/// messages first (the generated `Prometheus_WriteRequest` is what writes them, in `RemoteWriteBody`).
///
/// Senders repeat a series in every request, one sample each, so a series' labels are decoded and checked once per
/// request: the key of the cache is the labels' bytes as they came. A field of an unknown number is skipped
/// (exemplars, native histograms, metadata).
typealias WriteRequestReader = ProtobufReader

extension ProtobufReader {
    /// Every sample of the request, in order, with `sample` called for each; series named through `key`, once per
    /// distinct label bytes.
    mutating func read(
        key: (_ labels: [(name: String, value: String)], _ index: Int) throws -> SeriesKey,
        sample: (_ series: SeriesKey, _ index: Int, _ sample: Int, _ value: Double, _ milliseconds: Int64) throws ->
            Void
    ) throws -> Int {
        var keys: [LabelBytes: SeriesKey] = [:]
        var index = 0
        let end = bytes.count
        while let (field, wire) = try tag(limit: end) {
            guard field == 1, wire == 2 else {
                try skip(wire: wire, limit: end)
                continue
            }
            let series = try delimited(limit: end)
            let saved = position
            position = series.lowerBound
            // First pass: where the labels are; second: the samples.
            var labelStart = -1
            var labelEnd = -1
            var contiguous = true
            var samples: [Range<Int>] = []
            var tagStart = position
            while let (f, w) = try tag(limit: series.upperBound) {
                if f == 1 && w == 2 {
                    _ = try delimited(limit: series.upperBound)
                    // The labels' bytes are the cache key only when nothing else lies between them.
                    if labelStart < 0 {
                        labelStart = tagStart
                    } else if labelEnd != tagStart {
                        contiguous = false
                    }
                    labelEnd = position
                } else if f == 2 && w == 2 {
                    samples.append(try delimited(limit: series.upperBound))
                } else {
                    try skip(wire: w, limit: series.upperBound)
                }
                tagStart = position
            }
            let seriesKey: SeriesKey
            if labelStart >= 0, contiguous, let known = keys[LabelBytes(bytes[labelStart..<labelEnd])] {
                seriesKey = known
            } else {
                var labels: [(name: String, value: String)] = []
                position = series.lowerBound
                while let (f, w) = try tag(limit: series.upperBound) {
                    guard f == 1, w == 2 else {
                        try skip(wire: w, limit: series.upperBound)
                        continue
                    }
                    let label = try delimited(limit: series.upperBound)
                    let after = position
                    position = label.lowerBound
                    var name = ""
                    var value = ""
                    while let (lf, lw) = try tag(limit: label.upperBound) {
                        if lf <= 2, lw == 2 {
                            let text = try string(try delimited(limit: label.upperBound), "a label")
                            if lf == 1 { name = text } else { value = text }
                        } else {
                            try skip(wire: lw, limit: label.upperBound)
                        }
                    }
                    labels.append((name, value))
                    position = after
                }
                seriesKey = try key(labels, index)
                if labelStart >= 0, contiguous { keys[LabelBytes(bytes[labelStart..<labelEnd])] = seriesKey }
            }
            for (k, range) in samples.enumerated() {
                position = range.lowerBound
                var value = 0.0
                var milliseconds: Int64 = 0
                while let (f, w) = try tag(limit: range.upperBound) {
                    if f == 1, w == 1 {
                        guard 8 <= range.upperBound - position else {
                            throw Malformed(description: "truncated at byte \(position)")
                        }
                        value = Double(bitPattern: fixed64(at: position))
                        position += 8
                    } else if f == 2, w == 0 {
                        milliseconds = Int64(bitPattern: try varint(limit: range.upperBound))
                    } else {
                        try skip(wire: w, limit: range.upperBound)
                    }
                }
                try sample(seriesKey, index, k, value, milliseconds)
            }
            position = saved
            index += 1
        }
        return index
    }
}
