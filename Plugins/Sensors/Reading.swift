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
        "event_count", "coincidence_count", "rate_hz", "temperature_c", "pressure_hpa", "sipm_voltage_v", "dead_time_ms", "adc_peak",
    ]

    public var detector: String
    /// Epoch milliseconds (UTC).
    public var timestamp: Int64
    public var values: [String: Double]
    public var firmware: String
    /// The JSON as received (kept as the stored body, so nothing is re-encoded on the ingest path).
    public var raw: String = ""

    public struct Invalid: Error, CustomStringConvertible, Sendable {
        public let reason: String
        public var description: String { reason }
    }

    /// Parses one JSON reading; the reason names the field. `timestamp` is RFC 3339 or epoch milliseconds.
    public static func parse(_ bytes: some Collection<UInt8>) throws -> Reading {
        guard bytes.count <= 8_192 else { throw Invalid(reason: "a reading is at most 8 KiB") }
        // Readings are flat objects of numbers and strings: a small parser reads those (the ingest hot path); anything
        // else (nesting, arrays) goes through JSONSerialization.
        let object: [String: Any]
        if let flat = FlatJSON.parse(Array(bytes)) {
            object = flat
        } else {
            guard let parsed = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
                throw Invalid(reason: "not a JSON object")
            }
            object = parsed
        }
        guard let detector = object["detector"] as? String, validDetector(detector) else {
            throw Invalid(reason: "'detector' must be 1–64 letters, digits, '_', '.' or '-'")
        }
        let timestamp: Int64
        if let text = object["timestamp"] as? String, let ms = parseTime(text) {
            timestamp = ms
        } else if let number = object["timestamp"] as? Double, number.isFinite, number > 0 {
            timestamp = Int64(number)
        } else if let number = object["timestamp"] as? NSNumber, !(object["timestamp"] is Bool), number.doubleValue.isFinite, number.doubleValue > 0 {
            timestamp = Int64(number.doubleValue)
        } else {
            throw Invalid(reason: "'timestamp' must be RFC 3339 or epoch milliseconds")
        }
        var values: [String: Double] = [:]
        for name in numeric {
            guard let raw = object[name] else { throw Invalid(reason: "'\(name)' is missing") }
            if type(of: raw) == Bool.self { throw Invalid(reason: "'\(name)' must be a finite number") }
            if let number = raw as? Double {
                guard number.isFinite else { throw Invalid(reason: "'\(name)' must be a finite number") }
                values[name] = number
                continue
            }
            guard let number = raw as? NSNumber, !(raw is String), number.doubleValue.isFinite else { throw Invalid(reason: "'\(name)' must be a finite number") }
            values[name] = number.doubleValue
        }
        let firmware = object["firmware"] as? String ?? ""
        guard firmware.count <= 64 else { throw Invalid(reason: "'firmware' is longer than 64 characters") }
        var reading = Reading(detector: detector, timestamp: timestamp, values: values, firmware: firmware)
        reading.raw = String(decoding: bytes, as: UTF8.self)
        return reading
    }

    static func validDetector(_ text: String) -> Bool {
        !text.isEmpty && text.count <= 64 && text.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || "_.-".unicodeScalars.contains($0) }
    }

    static func parseTime(_ text: String) -> Int64? {
        RFC3339.parse(text).map { Int64(($0 * 1_000).rounded()) }
    }

    /// The reading as stored: compact JSON with the 16 fields.
    public var json: String {
        var object: [String: Any] = ["detector": detector, "timestamp": timestamp, "firmware": firmware]
        for (k, v) in values { object[k] = v }
        return String(decoding: (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data(), as: UTF8.self)
    }
}

/// A parser for flat JSON objects whose values are numbers (as Double), strings, booleans or null;
/// nil for anything else, so the caller can fall back to a full parser and its error.
enum FlatJSON {
    static func parse(_ b: [UInt8]) -> [String: Any]? {
        var i = 0
        let n = b.count
        func skip() { while i < n, b[i] == 0x20 || b[i] == 0x09 || b[i] == 0x0A || b[i] == 0x0D { i += 1 } }
        func hex4() -> UInt32? {
            guard i + 4 <= n else { return nil }
            var v: UInt32 = 0
            for k in i..<(i + 4) {
                let c = b[k]
                let d: UInt8
                switch c {
                case 0x30...0x39: d = c - 0x30
                case 0x41...0x46: d = c - 0x41 + 10
                case 0x61...0x66: d = c - 0x61 + 10
                default: return nil
                }
                v = v << 4 | UInt32(d)
            }
            i += 4
            return v
        }
        func string() -> String? {
            guard i < n, b[i] == UInt8(ascii: "\"") else { return nil }
            i += 1
            let start = i
            while i < n, b[i] != UInt8(ascii: "\""), b[i] != UInt8(ascii: "\\") {
                if b[i] < 0x20 { return nil }
                i += 1
            }
            guard i < n else { return nil }
            if b[i] == UInt8(ascii: "\"") {
                let text = String(decoding: b[start..<i], as: UTF8.self)
                i += 1
                return text
            }
            // Escapes (JSON's \" \\ \/ \b \f \n \r \t \uXXXX, surrogate pairs joined): decoded into a buffer.
            var out = Array(b[start..<i])
            while i < n, b[i] != UInt8(ascii: "\"") {
                let c = b[i]
                if c < 0x20 { return nil }
                guard c == UInt8(ascii: "\\") else { out.append(c); i += 1; continue }
                i += 1
                guard i < n else { return nil }
                let e = b[i]
                i += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    guard var scalar = hex4() else { return nil }
                    if (0xD800...0xDBFF).contains(scalar) {
                        guard i + 1 < n, b[i] == UInt8(ascii: "\\"), b[i + 1] == UInt8(ascii: "u") else { return nil }
                        i += 2
                        guard let low = hex4(), (0xDC00...0xDFFF).contains(low) else { return nil }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00...0xDFFF).contains(scalar) {
                        return nil
                    }
                    guard let u = Unicode.Scalar(scalar) else { return nil }
                    out.append(contentsOf: Array(String(Character(u)).utf8))
                default: return nil
                }
            }
            guard i < n else { return nil }
            i += 1
            return String(decoding: out, as: UTF8.self)
        }
        skip()
        guard i < n, b[i] == UInt8(ascii: "{") else { return nil }
        i += 1
        var object: [String: Any] = [:]
        skip()
        if i < n, b[i] == UInt8(ascii: "}") { i += 1 } else {
            while true {
                skip()
                guard let key = string() else { return nil }
                skip()
                guard i < n, b[i] == UInt8(ascii: ":") else { return nil }
                i += 1
                skip()
                guard i < n else { return nil }
                let c = b[i]
                if c == UInt8(ascii: "\"") {
                    guard let value = string() else { return nil }
                    object[key] = value
                } else if c == UInt8(ascii: "-") || (c >= 0x30 && c <= 0x39) {
                    let start = i
                    while i < n, (b[i] >= 0x30 && b[i] <= 0x39) || b[i] == UInt8(ascii: "-") || b[i] == UInt8(ascii: "+")
                        || b[i] == UInt8(ascii: ".") || b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") { i += 1 }
                    guard let value = Double(String(decoding: b[start..<i], as: UTF8.self)) else { return nil }
                    object[key] = value
                } else if b[i...].starts(with: Array("true".utf8)) {
                    object[key] = true
                    i += 4
                } else if b[i...].starts(with: Array("false".utf8)) {
                    object[key] = false
                    i += 5
                } else if b[i...].starts(with: Array("null".utf8)) {
                    object[key] = NSNull()
                    i += 4
                } else {
                    return nil
                }
                skip()
                guard i < n else { return nil }
                if b[i] == UInt8(ascii: ",") { i += 1; continue }
                if b[i] == UInt8(ascii: "}") { i += 1; break }
                return nil
            }
        }
        skip()
        return i == n ? object : nil
    }
}
