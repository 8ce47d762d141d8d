import PlumbAPI

/// The AWS JSON protocols' answers: a member the model types as a double is written as one (`2.0`, which boto3
/// reads as a float, not `2`), other whole numbers as integers (timestamps in milliseconds, counts).
enum AWSJSON {
    static func encode(_ value: JSONValue, types: AWSMemberTypes) -> [UInt8] {
        var writer = JSONWriter(capacity: 4_096)
        write(value, name: "", types: types, into: &writer)
        return writer.bytes
    }

    static func write(_ value: JSONValue, name: String, types: AWSMemberTypes, into writer: inout JSONWriter) {
        switch value {
        case .null: writer.raw("null")
        case .bool(let flag): writer.raw(flag ? "true" : "false")
        case .string(let text): writer.string(text)
        case .number(let number):
            if !number.isFinite {
                writer.raw("null")
            } else if types.doubles.contains(name) {
                writer.append(ascii: "\(number)")
            } else {
                writer.number(number)
            }
        case .array(let items):
            writer.raw("[")
            for (index, item) in items.enumerated() {
                if index > 0 { writer.comma() }
                write(item, name: name, types: types, into: &writer)
            }
            writer.raw("]")
        case .object(let members):
            writer.raw("{")
            // A map's values are typed by the map's name (CloudWatch's `ExtendedStatistics`), a structure's by theirs.
            let isMap = types.maps.contains(name)
            for (index, key) in members.keys.sorted().enumerated() {
                if index > 0 { writer.comma() }
                writer.string(key)
                writer.raw(":")
                write(members[key]!, name: isMap ? name : key, types: types, into: &writer)
            }
            writer.raw("}")
        }
    }
}
