import Foundation

typealias OTelKeyValue = Opentelemetry_Proto_Common_V1_KeyValue
typealias OTelAnyValue = Opentelemetry_Proto_Common_V1_AnyValue

/// Attribute values as text (a dimension value) and as JSON (a log event's field).
enum OTLPAttributes {
    /// A dimension's value: strings as they are, numbers and booleans written out, arrays and maps as JSON; nil for
    /// an empty value.
    static func text(_ value: OTelAnyValue) -> String? {
        switch value.value {
        case .stringValue(let s): return s.isEmpty ? nil : s
        case .boolValue(let b): return b ? "true" : "false"
        case .intValue(let i): return String(i)
        case .doubleValue(let d): return number(d)
        case .bytesValue(let data): return data.isEmpty ? nil : data.base64EncodedString()
        case .arrayValue, .kvlistValue: return jsonText(json(value))
        case nil: return nil
        }
    }

    /// The first value of `key` in `attributes`, as text.
    static func find(_ key: String, in attributes: [OTelKeyValue]) -> String? {
        attributes.first(where: { $0.key == key }).flatMap { text($0.value) }
    }

    static func number(_ d: Double) -> String {
        d.isFinite && d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : "\(d)"
    }

    /// The JSON value of an attribute value (NaN and infinities as strings, which JSON cannot hold as numbers).
    static func json(_ value: OTelAnyValue) -> Any {
        switch value.value {
        case .stringValue(let s): return s
        case .boolValue(let b): return b
        case .intValue(let i): return i
        case .doubleValue(let d): return d.isFinite ? d as Any : "\(d)"
        case .bytesValue(let data): return data.base64EncodedString()
        case .arrayValue(let array): return array.values.map(json)
        case .kvlistValue(let list): return object(list.values)
        case nil: return NSNull()
        }
    }

    static func object(_ attributes: [OTelKeyValue]) -> [String: Any] {
        var out: [String: Any] = [:]
        for kv in attributes { out[kv.key] = json(kv.value) }
        return out
    }

    static func jsonText(_ value: Any) -> String {
        guard JSONSerialization.isValidJSONObject([value]),
            let data = try? JSONSerialization.data(
                withJSONObject: [value], options: [.sortedKeys, .withoutEscapingSlashes])
        else { return "\(value)" }
        // Drop the array written around it (JSONSerialization needs a container at the top).
        let text = String(decoding: data, as: UTF8.self)
        return String(text.dropFirst().dropLast())
    }
}
