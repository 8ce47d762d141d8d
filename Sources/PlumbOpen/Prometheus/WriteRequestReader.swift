import Foundation
import PlumbAPI
import PlumbMetrics

/// Reads a remote write `WriteRequest` straight off its protobuf bytes into Plumb samples, without building the
/// messages first (the generated `Prometheus_WriteRequest` is what writes them, in `RemoteWriteBody`).
///
/// Senders repeat a series in every request, one sample each, so a series' labels are decoded and checked once per
/// request: the key of the cache is the labels' bytes as they came. Every length is checked against what is left;
/// a field of an unknown number is skipped by its wire type, as protobuf requires (exemplars, native histograms,
/// metadata).
struct WriteRequestReader {
    let bytes: [UInt8]
    var position = 0

    struct Malformed: Error, CustomStringConvertible {
        let description: String
    }

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func varint(limit: Int) throws -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < limit else { throw Malformed(description: "truncated at byte \(position)") }
            let byte = bytes[position]
            position += 1
            guard shift < 64 else { throw Malformed(description: "a varint longer than 10 bytes at \(position)") }
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
    }

    /// The field number and wire type of the next field, or nil at `limit`.
    mutating func tag(limit: Int) throws -> (field: UInt64, wire: UInt64)? {
        guard position < limit else { return nil }
        let tag = try varint(limit: limit)
        guard tag >> 3 > 0 else { throw Malformed(description: "field number 0 at byte \(position)") }
        return (tag >> 3, tag & 7)
    }

    /// The range of a length-delimited field's payload.
    mutating func delimited(limit: Int) throws -> Range<Int> {
        let length = try varint(limit: limit)
        guard length <= UInt64(limit - position) else {
            throw Malformed(description: "a field of \(length) bytes at byte \(position) runs past its message")
        }
        let start = position
        position += Int(length)
        return start..<position
    }

    mutating func skip(wire: UInt64, limit: Int) throws {
        switch wire {
        case 0: _ = try varint(limit: limit)
        case 1, 5:
            let size = wire == 1 ? 8 : 4
            guard size <= limit - position else { throw Malformed(description: "truncated at byte \(position)") }
            position += size
        case 2: _ = try delimited(limit: limit)
        default: throw Malformed(description: "wire type \(wire) at byte \(position)")
        }
    }

    func fixed64(at start: Int) -> UInt64 {
        var value: UInt64 = 0
        for k in 0..<8 { value |= UInt64(bytes[start + k]) << (8 * UInt64(k)) }
        return value
    }

    func string(_ range: Range<Int>, _ what: String) throws -> String {
        guard let text = String(validating: bytes[range], as: UTF8.self) else {
            throw Malformed(description: "\(what) is not UTF-8")
        }
        return text
    }

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

/// A series' label bytes as a dictionary key: hashed once, when made, by FNV-1a over 8-byte words (the dictionary's
/// own hasher then mixes 8 bytes, not the whole slice), and compared with `memcmp`.
struct LabelBytes: Hashable {
    let bytes: ArraySlice<UInt8>
    let digest: UInt64

    init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        bytes.withUnsafeBytes { raw in
            var i = 0
            while i + 8 <= raw.count {
                h = (h ^ raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0x0000_0100_0000_01B3
                i += 8
            }
            while i < raw.count {
                h = (h ^ UInt64(raw[i])) &* 0x0000_0100_0000_01B3
                i += 1
            }
        }
        digest = h
    }

    func hash(into hasher: inout Hasher) { hasher.combine(digest) }

    static func == (a: LabelBytes, b: LabelBytes) -> Bool {
        a.digest == b.digest && a.bytes.count == b.bytes.count
            && a.bytes.withUnsafeBytes { x in
                b.bytes.withUnsafeBytes { y in memcmp(x.baseAddress!, y.baseAddress!, x.count) == 0 }
            }
    }
}
