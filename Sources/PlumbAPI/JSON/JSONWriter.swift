/// Writes JSON bytes directly, for the answers too large for `JSONEncoder` to be cheap (a metric-data answer holds a
/// value and a timestamp per period per query). Output matches what Plumb's `JSONEncoder` settings write (sorted keys,
/// unescaped slashes), which the tests check.
public struct JSONWriter: Sendable {
    public private(set) var bytes: [UInt8] = []

    public init(capacity: Int = 1_024) { bytes.reserveCapacity(capacity) }

    public mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// A JSON string: quotes, backslashes and control characters escaped, everything else as its UTF-8.
    public mutating func string(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        var utf8 = value
        let plain = utf8.withUTF8 { buffer in
            // Most strings need no escape: copied whole.
            guard !buffer.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") })
            else { return false }
            bytes.append(contentsOf: buffer)
            return true
        }
        if plain {
            bytes.append(UInt8(ascii: "\""))
            return
        }
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): raw("\\\"")
            case UInt8(ascii: "\\"): raw("\\\\")
            case 0x0A: raw("\\n")
            case 0x0D: raw("\\r")
            case 0x09: raw("\\t")
            case 0x08: raw("\\b")
            case 0x0C: raw("\\f")
            case 0..<0x20:
                raw("\\u00")
                let hex: [UInt8] = Array("0123456789abcdef".utf8)
                bytes.append(hex[Int(byte >> 4)])
                bytes.append(hex[Int(byte & 0xF)])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// A finite number as `JSONEncoder` writes it: integral values without a fraction (`3`, not `3.0`), others in
    /// Swift's shortest round-tripping form.
    public mutating func number(_ value: Double) {
        // Integers below 2^53 are written digit by digit, as `description` would without its ".0".
        if value == value.rounded(.towardZero), abs(value) < 9_007_199_254_740_992 {
            var n = Int64(value)
            if n == 0 {
                // -0.0 is written "-0" by JSONEncoder, as by `description`.
                if value.sign == .minus { bytes.append(UInt8(ascii: "-")) }
                bytes.append(UInt8(ascii: "0"))
                return
            }
            if n < 0 {
                bytes.append(UInt8(ascii: "-"))
                n = -n
            }
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
                var count = 0
                while n > 0 {
                    digits[count] = UInt8(ascii: "0") + UInt8(n % 10)
                    n /= 10
                    count += 1
                }
                for i in stride(from: count - 1, through: 0, by: -1) { bytes.append(digits[i]) }
            }
            return
        }
        if decimal(value) { return }
        var text = value.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        bytes.append(contentsOf: text.utf8)
    }

    /// Writes a short decimal (at most 6 decimals, 0.001 ≤ |value| < 2^31: a gauge, a latency, a rate) as
    /// `description` would, without formatting it through a String; false, writing nothing, for any other value.
    ///
    /// The decimals are the fewest for which `m / 10^k` (m an integer) gives back exactly `value`. Doubles in that
    /// range lie less than 10^-6 apart, so no other decimal of that length reads back as the same double: this is
    /// the shortest text that round-trips, which is what `description` writes (`JSONWriterTests` compares the two
    /// over a million values).
    mutating func decimal(_ value: Double) -> Bool {
        let magnitude = abs(value)
        guard magnitude >= 0.001, magnitude < 2_147_483_648 else { return false }
        var scale = 1.0
        for k in 1...6 {
            scale *= 10
            let scaled = (magnitude * scale).rounded()
            guard scaled / scale == magnitude else { continue }
            var m = Int64(scaled)
            guard m % 10 != 0 else { return false }
            if value < 0 { bytes.append(UInt8(ascii: "-")) }
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 24) { digits in
                // Backwards: the k decimals, the point, then the whole part (at least its "0").
                var count = 0
                for _ in 0..<k {
                    digits[count] = UInt8(ascii: "0") + UInt8(m % 10)
                    m /= 10
                    count += 1
                }
                digits[count] = UInt8(ascii: ".")
                count += 1
                repeat {
                    digits[count] = UInt8(ascii: "0") + UInt8(m % 10)
                    m /= 10
                    count += 1
                } while m > 0
                for i in stride(from: count - 1, through: 0, by: -1) { bytes.append(digits[i]) }
            }
            return true
        }
        return false
    }

    public mutating func comma() { bytes.append(UInt8(ascii: ",")) }

    /// Bytes that already are JSON (a value written by another writer).
    public mutating func append(encoded: [UInt8]) { bytes.append(contentsOf: encoded) }

    /// Bytes that already are JSON, from a buffer (a piece formed on the stack).
    public mutating func append(encoded buffer: UnsafeRawBufferPointer) { bytes.append(contentsOf: buffer) }

    /// Text that needs no escaping (digits, signs, points), as it is.
    public mutating func append(ascii text: String) {
        var text = text
        text.withUTF8 { bytes.append(contentsOf: $0) }
    }

    /// The decimal digits of `n`, written without making a string: formed right to left in a buffer on the stack,
    /// then appended at once.
    public mutating func append(digitsOf n: Int64) {
        var buffer: (UInt64, UInt64, UInt64) = (0, 0, 0)
        var magnitude = n.magnitude
        withUnsafeMutableBytes(of: &buffer) { raw in
            var i = raw.count
            repeat {
                i -= 1
                raw[i] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            if n < 0 {
                i -= 1
                raw[i] = UInt8(ascii: "-")
            }
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[i...]))
        }
    }
}

/// A metric-data result with its times as epoch seconds, before they are formatted (what the store answers with).
public protocol MetricDataTimes {
    var id: String { get }
    var label: String { get }
    var timestamps: [Int64] { get }
    var values: [Double] { get }
}

extension MetricDataResponse {
    /// The JSON of the answer made of `results`, written directly: the same bytes as `jsonBytes()` of the
    /// response with each time formatted by `TimeParsing.format`. Times on the grid of `period` from `first` (all
    /// of them, in a metric-data answer) are formatted and quoted once, then copied.
    public static func jsonBytes(_ results: [some MetricDataTimes], first: Int64, period: Int64) -> [UInt8] {
        let slots =
            period > 0
            ? Int(
                Swift.min(
                    Swift.max(0, results.reduce(0) { Swift.max($0, $1.timestamps.last ?? 0) } - first) / period + 1,
                    100_801)) : 0
        var quoted = [[UInt8]?](repeating: nil, count: slots)
        return write(results, id: \.id, label: \.label, values: \.values, times: \.timestamps.count) { w, result, i in
            let t = result.timestamps[i]
            let slot = period > 0 && t >= first ? (t - first) / period : -1
            guard slot >= 0, slot < slots, (t - first) % period == 0 else {
                w.string(TimeParsing.format(t))
                return
            }
            if quoted[Int(slot)] == nil {
                var one = JSONWriter(capacity: 24)
                one.string(TimeParsing.format(t))
                quoted[Int(slot)] = one.bytes
            }
            w.append(encoded: quoted[Int(slot)]!)
        }
    }

    /// The answer's shape, for either form of its times: `time` writes a result's `i`th time.
    private static func write<R>(
        _ results: [R], id: (R) -> String, label: (R) -> String, values: (R) -> [Double], times: (R) -> Int,
        time: (inout JSONWriter, R, Int) -> Void
    ) -> [UInt8] {
        var w = JSONWriter(capacity: 64 + results.reduce(0) { $0 + 64 + values($1).count * 36 })
        w.raw("{\"results\":[")
        for (n, result) in results.enumerated() {
            if n > 0 { w.comma() }
            w.raw("{\"id\":")
            w.string(id(result))
            w.raw(",\"label\":")
            w.string(label(result))
            w.raw(",\"timestamps\":[")
            for i in 0..<times(result) {
                if i > 0 { w.comma() }
                time(&w, result, i)
            }
            w.raw("],\"values\":[")
            for (i, v) in values(result).enumerated() {
                if i > 0 { w.comma() }
                w.number(v)
            }
            w.raw("]}")
        }
        w.raw("]}")
        return w.bytes
    }

    /// The answer's JSON, written directly: the same bytes `JSONEncoder` (sorted keys) gives, several times faster.
    public func jsonBytes() -> [UInt8] {
        Self.write(results, id: \.id, label: \.label, values: \.values, times: \.timestamps.count) { w, result, i in
            w.string(result.timestamps[i])
        }
    }
}
