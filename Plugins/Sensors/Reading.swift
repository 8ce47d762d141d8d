import Foundation
import PlumbKit

/// A detector reading: 16 fields, as the detectors send them (one JSON object, about 1 KB with its padding fields).
public struct Reading: Sendable, Equatable {
    /// The 16 fields in their canonical order; `detector` and `timestamp` identify a reading.
    public static let fields = [
        "detector", "timestamp", "event_count", "coincidence_count", "rate_hz", "temperature_c", "pressure_hpa",
        "humidity_pct", "sipm_voltage_v", "sipm_current_ua", "dead_time_ms", "adc_peak", "adc_area", "battery_v",
        "rssi_dbm", "firmware",
    ]
    /// Numeric fields (all but detector, timestamp and firmware).
    public static let numeric = Array(fields[2..<15])
    /// The model's 8 features, the default projection of `export.csv`.
    public static let modelFeatures = [
        "event_count", "coincidence_count", "rate_hz", "temperature_c", "pressure_hpa", "sipm_voltage_v",
        "dead_time_ms", "adc_peak",
    ]

    public var detector: String
    /// Epoch milliseconds (UTC).
    public var timestamp: Int64
    /// The numeric fields, in the order of `numeric`.
    public var numbers: [Double]
    public var firmware: String
    /// The JSON as received (kept as the stored body, so nothing is re-encoded on the ingest path).
    public var raw: String = ""

    public init(detector: String, timestamp: Int64, values: [String: Double], firmware: String) {
        self.detector = detector
        self.timestamp = timestamp
        self.numbers = Self.numeric.map { values[$0] ?? 0 }
        self.firmware = firmware
    }

    /// The numeric fields by name.
    public var values: [String: Double] { Dictionary(uniqueKeysWithValues: zip(Self.numeric, numbers)) }

    /// One numeric field, or nil for a name that is not one.
    public func value(_ name: String) -> Double? { Self.numericIndex[name].map { numbers[$0] } }

    /// The event rate, the scorer's input.
    public var rate: Double { numbers[Self.rateIndex] }

    static let numericIndex = Dictionary(uniqueKeysWithValues: numeric.enumerated().map { ($1, $0) })
    static let rateIndex = numeric.firstIndex(of: "rate_hz")!

    public struct Invalid: Error, CustomStringConvertible, Sendable {
        public let reason: String
        public var description: String { reason }
    }

    /// What a reading's fields held while parsing, before validation.
    enum Field {
        case missing
        case number(Double)
        case string(String)
        /// A boolean, null, or anything else that is not a number or a string.
        case other
    }

    /// Parses one JSON reading; the reason names the field. `timestamp` is RFC 3339 or epoch milliseconds.
    public static func parse(_ bytes: some Collection<UInt8>) throws -> Reading {
        guard bytes.count <= 8_192 else { throw Invalid(reason: "a reading is at most 8 KiB") }
        let array = Array(bytes)
        // Readings are flat objects of numbers and strings: a scanner reads those straight into the fields (the
        // ingest hot path, no dictionary, no string for a key or an unknown field); anything else (nesting, arrays)
        // goes through JSONSerialization.
        var fields = [Field](repeating: .missing, count: fieldNames.count)
        let flat = array.withUnsafeBufferPointer { b in
            FlatJSON.scan(b) { key, value in
                guard let index = fieldIndex(key) else { return }
                switch value {
                case .number(let x): fields[index] = .number(x)
                case .string(let range, let escaped):
                    // Only the identifying and firmware strings are decoded; a numeric field holding one is invalid.
                    if index == 0 || index == 1 || index == 15 {
                        guard let text = FlatJSON.decode(b, range, escaped: escaped) else {
                            fields[index] = .other
                            return
                        }
                        fields[index] = .string(text)
                    } else {
                        fields[index] = .other
                    }
                case .other: fields[index] = .other
                }
            }
        }
        if !flat {
            guard let object = try? JSONSerialization.jsonObject(with: Data(array)) as? [String: Any] else {
                throw Invalid(reason: "not a JSON object")
            }
            for (index, name) in Self.fields.enumerated() {
                guard let raw = object[name] else { continue }
                if let text = raw as? String {
                    fields[index] = .string(text)
                } else if type(of: raw) != Bool.self, !(raw is NSNull), let number = raw as? NSNumber {
                    fields[index] = .number(number.doubleValue)
                } else {
                    fields[index] = .other
                }
            }
        }
        guard case .string(let detector) = fields[0], validDetector(detector) else {
            throw Invalid(reason: "'detector' must be 1–64 letters, digits, '_', '.' or '-'")
        }
        let timestamp: Int64
        switch fields[1] {
        case .string(let text):
            guard let ms = parseTime(text) else {
                throw Invalid(reason: "'timestamp' must be RFC 3339 or epoch milliseconds")
            }
            timestamp = ms
        case .number(let x) where x.isFinite && x > 0 && x < 9.2e18:
            timestamp = Int64(x)
        default:
            throw Invalid(reason: "'timestamp' must be RFC 3339 or epoch milliseconds")
        }
        var numbers = [Double](repeating: 0, count: numeric.count)
        for i in numbers.indices {
            switch fields[i + 2] {
            case .missing: throw Invalid(reason: "'\(numeric[i])' is missing")
            case .number(let x) where x.isFinite: numbers[i] = x
            default: throw Invalid(reason: "'\(numeric[i])' must be a finite number")
            }
        }
        var firmware = ""
        if case .string(let text) = fields[15] { firmware = text }
        guard firmware.count <= 64 else { throw Invalid(reason: "'firmware' is longer than 64 characters") }
        var reading = Reading(detector: detector, timestamp: timestamp, numbers: numbers, firmware: firmware)
        reading.raw = String(decoding: array, as: UTF8.self)
        return reading
    }

    init(detector: String, timestamp: Int64, numbers: [Double], firmware: String) {
        self.detector = detector
        self.timestamp = timestamp
        self.numbers = numbers
        self.firmware = firmware
    }

    /// The 16 field names as bytes, for matching keys without making strings.
    static let fieldNames = fields.map { Array($0.utf8) }

    /// The index in `fields` of the key at `key`, or nil for another key.
    static func fieldIndex(_ key: UnsafeBufferPointer<UInt8>) -> Int? {
        for (index, name) in fieldNames.enumerated() where name.count == key.count && name.first == key.first {
            if name.withUnsafeBufferPointer({ memcmp($0.baseAddress!, key.baseAddress!, key.count) == 0 }) {
                return index
            }
        }
        return nil
    }

    static func validDetector(_ text: String) -> Bool {
        !text.isEmpty && text.count <= 64
            && text.unicodeScalars.allSatisfy {
                CharacterSet.alphanumerics.contains($0) || "_.-".unicodeScalars.contains($0)
            }
    }

    static func parseTime(_ text: String) -> Int64? {
        RFC3339.parse(text).map { Int64(($0 * 1_000).rounded()) }
    }

    /// The reading as stored: compact JSON with the 16 fields.
    public var json: String {
        var object: [String: Any] = ["detector": detector, "timestamp": timestamp, "firmware": firmware]
        for (k, v) in values { object[k] = v }
        return String(
            decoding: (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data(),
            as: UTF8.self)
    }
}

/// A scanner for flat JSON objects whose values are numbers, strings, booleans or null. It hands each key (as
/// bytes; a key with escapes is not a field name, so it is handed as is) and value to a visitor, and returns false for
/// anything else (nesting, arrays, bad syntax), so the caller can fall back to a full parser and its error.
enum FlatJSON {
    enum Value {
        case number(Double)
        /// The bytes between the quotes; `escaped` when they hold a backslash escape (see `decode`).
        case string(Range<Int>, escaped: Bool)
        case other
    }

    static func scan(_ b: UnsafeBufferPointer<UInt8>, _ visit: (UnsafeBufferPointer<UInt8>, Value) -> Void) -> Bool {
        var i = 0
        let n = b.count
        func skip() { while i < n, b[i] == 0x20 || b[i] == 0x09 || b[i] == 0x0A || b[i] == 0x0D { i += 1 } }
        /// A string's content range; validates escapes (decoded later, only when needed).
        func string() -> (Range<Int>, Bool)? {
            guard i < n, b[i] == UInt8(ascii: "\"") else { return nil }
            i += 1
            let start = i
            var escaped = false
            while i < n, b[i] != UInt8(ascii: "\"") {
                let c = b[i]
                if c < 0x20 { return nil }
                if c == UInt8(ascii: "\\") {
                    escaped = true
                    i += 1
                    guard i < n else { return nil }
                    switch b[i] {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
                        UInt8(ascii: "f"), UInt8(ascii: "n"),
                        UInt8(ascii: "r"), UInt8(ascii: "t"):
                        break
                    case UInt8(ascii: "u"):
                        guard i + 4 < n, (1...4).allSatisfy({ hexDigit(b[i + $0]) != nil }) else { return nil }
                        i += 4
                    default: return nil
                    }
                }
                i += 1
            }
            guard i < n else { return nil }
            i += 1
            return (start..<(i - 1), escaped)
        }
        skip()
        guard i < n, b[i] == UInt8(ascii: "{") else { return false }
        i += 1
        skip()
        if i < n, b[i] == UInt8(ascii: "}") {
            i += 1
        } else {
            while true {
                skip()
                guard let (keyRange, _) = string() else { return false }
                skip()
                guard i < n, b[i] == UInt8(ascii: ":") else { return false }
                i += 1
                skip()
                guard i < n else { return false }
                let key = UnsafeBufferPointer(rebasing: b[keyRange])
                let c = b[i]
                if c == UInt8(ascii: "\"") {
                    guard let (range, escaped) = string() else { return false }
                    if escaped, decode(b, range, escaped: true) == nil { return false }
                    visit(key, .string(range, escaped: escaped))
                } else if c == UInt8(ascii: "-") || (c >= 0x30 && c <= 0x39) {
                    let start = i
                    while i < n,
                        (b[i] >= 0x30 && b[i] <= 0x39) || b[i] == UInt8(ascii: "-") || b[i] == UInt8(ascii: "+")
                            || b[i] == UInt8(ascii: ".") || b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E")
                    { i += 1 }
                    guard let value = number(UnsafeBufferPointer(rebasing: b[start..<i])) else { return false }
                    visit(key, .number(value))
                } else if literal(b, &i, "true") || literal(b, &i, "false") || literal(b, &i, "null") {
                    visit(key, .other)
                } else {
                    return false
                }
                skip()
                guard i < n else { return false }
                if b[i] == UInt8(ascii: ",") {
                    i += 1
                    continue
                }
                if b[i] == UInt8(ascii: "}") {
                    i += 1
                    break
                }
                return false
            }
        }
        skip()
        return i == n
    }

    static func literal(_ b: UnsafeBufferPointer<UInt8>, _ i: inout Int, _ word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        guard i + count <= b.count, memcmp(b.baseAddress! + i, word.utf8Start, count) == 0 else { return false }
        i += count
        return true
    }

    static func hexDigit(_ c: UInt8) -> UInt32? {
        switch c {
        case 0x30...0x39: UInt32(c - 0x30)
        case 0x41...0x46: UInt32(c - 0x41 + 10)
        case 0x61...0x66: UInt32(c - 0x61 + 10)
        default: nil
        }
    }

    /// A JSON number's bytes as a Double (strtod, correctly rounded), or nil when they are not one number.
    static func number(_ text: UnsafeBufferPointer<UInt8>) -> Double? {
        guard text.count < 64 else { return Double(String(decoding: text, as: UTF8.self)) }
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: 64) { buffer -> Double? in
            for k in 0..<text.count { buffer[k] = CChar(bitPattern: text[k]) }
            buffer[text.count] = 0
            var end: UnsafeMutablePointer<CChar>?
            let value = strtod(buffer.baseAddress!, &end)
            guard let end, end - buffer.baseAddress! == text.count else { return nil }
            return value
        }
    }

    /// A string's content decoded (JSON's \" \\ \/ \b \f \n \r \t \uXXXX, surrogate pairs joined), or nil for a
    /// lone or reversed surrogate.
    static func decode(_ b: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, escaped: Bool) -> String? {
        guard escaped else { return String(decoding: UnsafeBufferPointer(rebasing: b[range]), as: UTF8.self) }
        var out: [UInt8] = []
        out.reserveCapacity(range.count)
        var i = range.lowerBound
        func hex4() -> UInt32? {
            guard i + 4 <= range.upperBound else { return nil }
            var v: UInt32 = 0
            for k in i..<(i + 4) {
                guard let d = hexDigit(b[k]) else { return nil }
                v = v << 4 | d
            }
            i += 4
            return v
        }
        while i < range.upperBound {
            let c = b[i]
            i += 1
            guard c == UInt8(ascii: "\\") else {
                out.append(c)
                continue
            }
            let e = b[i]
            i += 1
            switch e {
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                guard var scalar = hex4() else { return nil }
                if (0xD800...0xDBFF).contains(scalar) {
                    guard i + 1 < range.upperBound, b[i] == UInt8(ascii: "\\"), b[i + 1] == UInt8(ascii: "u") else {
                        return nil
                    }
                    i += 2
                    guard let low = hex4(), (0xDC00...0xDFFF).contains(low) else { return nil }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00...0xDFFF).contains(scalar) {
                    return nil
                }
                guard let u = Unicode.Scalar(scalar) else { return nil }
                out.append(contentsOf: String(Character(u)).utf8)
            default: out.append(e)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
