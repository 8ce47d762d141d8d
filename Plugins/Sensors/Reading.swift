import Foundation

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

    public struct Invalid: Error, CustomStringConvertible, Sendable {
        public let reason: String
        public var description: String { reason }
    }

    /// Parses one JSON reading; the reason names the field. `timestamp` is RFC 3339 or epoch milliseconds.
    public static func parse(_ bytes: some Collection<UInt8>) throws -> Reading {
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
            throw Invalid(reason: "not a JSON object")
        }
        guard let detector = object["detector"] as? String, validDetector(detector) else {
            throw Invalid(reason: "'detector' must be 1–64 letters, digits, '_', '.' or '-'")
        }
        let timestamp: Int64
        if let text = object["timestamp"] as? String, let ms = parseTime(text) {
            timestamp = ms
        } else if let number = object["timestamp"] as? NSNumber, !(object["timestamp"] is Bool), number.doubleValue.isFinite, number.doubleValue > 0 {
            timestamp = Int64(number.doubleValue)
        } else {
            throw Invalid(reason: "'timestamp' must be RFC 3339 or epoch milliseconds")
        }
        var values: [String: Double] = [:]
        for name in numeric {
            guard let raw = object[name] else { throw Invalid(reason: "'\(name)' is missing") }
            guard let number = raw as? NSNumber, !(raw is String), number.doubleValue.isFinite else { throw Invalid(reason: "'\(name)' must be a finite number") }
            values[name] = number.doubleValue
        }
        let firmware = object["firmware"] as? String ?? ""
        guard firmware.count <= 64 else { throw Invalid(reason: "'firmware' is longer than 64 characters") }
        return Reading(detector: detector, timestamp: timestamp, values: values, firmware: firmware)
    }

    static func validDetector(_ text: String) -> Bool {
        !text.isEmpty && text.count <= 64 && text.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || "_.-".unicodeScalars.contains($0) }
    }

    static func parseTime(_ text: String) -> Int64? {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = f.date(from: text) { return Int64((d.timeIntervalSince1970 * 1_000).rounded()) }
        f.formatOptions = [.withInternetDateTime]
        if let d = f.date(from: text) { return Int64((d.timeIntervalSince1970 * 1_000).rounded()) }
        return nil
    }

    /// The reading as stored: compact JSON with the 16 fields.
    public var json: String {
        var object: [String: Any] = ["detector": detector, "timestamp": timestamp, "firmware": firmware]
        for (k, v) in values { object[k] = v }
        return String(decoding: (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data(), as: UTF8.self)
    }
}
