import Foundation
import PlumbAPI

/// The Query protocol: a form body (`Action=PutMetricData&Version=2010-08-01&MetricData.member.1.Value=2`) in, XML
/// out. Lists are `NAME.member.N`, maps `NAME.entry.N.key`/`.value`, structures `NAME.MEMBER`; every value is text,
/// typed here by the service's `AWSMemberTypes` into the values the JSON protocols would have sent.
enum AWSQuery {
    /// More pairs than any operation's largest input (1,000 datums of 30 dimensions is ~65,000).
    static let maxPairs = 200_000
    static let maxDepth = 16

    struct Form {
        var action: String
        var version: String?
        var input: [String: JSONValue]
    }

    /// One member of the form as the names' dots nest it.
    final class Node {
        var text: String?
        var children: [String: Node] = [:]
    }

    static func decode(_ body: [UInt8], types: AWSMemberTypes) throws -> Form {
        guard let text = String(validating: body, as: UTF8.self),
            let pairs = FormQuery.strictPairs(text)
        else { throw malformed("the form body is not UTF-8 percent-encoded text") }
        guard pairs.count <= maxPairs else { throw malformed("the form has more than \(maxPairs) parameters") }
        var action: String?
        var version: String?
        let root = Node()
        for (name, value) in pairs {
            switch name {
            case "Action": action = value
            case "Version": version = value
            default:
                let path = name.split(separator: ".", omittingEmptySubsequences: false)
                guard path.count <= maxDepth, !path.contains(where: \.isEmpty) else {
                    throw malformed("the parameter name '\(name.prefix(200))' is not a member path")
                }
                var node = root
                for segment in path {
                    if let child = node.children[String(segment)] {
                        node = child
                    } else {
                        let child = Node()
                        node.children[String(segment)] = child
                        node = child
                    }
                }
                guard node.text == nil else { throw malformed("the parameter '\(name.prefix(200))' is given twice") }
                node.text = value
            }
        }
        guard let action, !action.isEmpty else {
            throw AWSError.missingParameter("The request must contain the parameter Action.")
        }
        var input: [String: JSONValue] = [:]
        for (name, child) in root.children {
            input[name] = try value(child, name: name, parent: "", types: types)
        }
        return Form(action: action, version: version, input: input)
    }

    /// A node as the value its member is: a list (`member.N`), a map (`entry.N`), a structure, or typed text.
    static func value(_ node: Node, name: String, parent: String, types: AWSMemberTypes) throws -> JSONValue {
        if node.children.isEmpty {
            let text = node.text ?? ""
            if text.isEmpty && types.lists.contains(name) { return .array([]) }
            if types.booleans.contains(name) {
                switch text {
                case "true": return .bool(true)
                case "false": return .bool(false)
                default: throw AWSError.invalidParameter("\(name) '\(text.prefix(100))' is not true or false")
                }
            }
            if types.isNumber(name, parent: parent) {
                guard let number = Double(text), number.isFinite else {
                    throw AWSError.invalidParameter("\(name) '\(text.prefix(100))' is not a number")
                }
                return .number(number)
            }
            return .string(text)
        }
        guard node.text == nil else {
            throw malformed("\(name) is given both a value and members")
        }
        if node.children.count == 1, let members = node.children["member"] {
            return .array(
                try indexed(members, name: name).map { try value($0, name: name, parent: parent, types: types) })
        }
        if node.children.count == 1, let entries = node.children["entry"], types.maps.contains(name) {
            var map: [String: JSONValue] = [:]
            for entry in try indexed(entries, name: name) {
                // `key`/`value`, or the names a model gives them (SNS's message attributes: `Name`/`Value`).
                guard entry.children.count == 2,
                    let key = (entry.children["key"] ?? entry.children["Name"])?.text,
                    let item = entry.children["value"] ?? entry.children["Value"]
                else { throw malformed("\(name).entry.N needs a key and a value") }
                map[key] = try value(item, name: name, parent: name, types: types)
            }
            return .object(map)
        }
        var members: [String: JSONValue] = [:]
        for (member, child) in node.children {
            members[member] = try value(child, name: member, parent: name, types: types)
        }
        return .object(members)
    }

    /// The children `1`, `2`, … of a list or map node, in order; any other name, a zero or a gap is refused.
    static func indexed(_ node: Node, name: String) throws -> [Node] {
        guard node.text == nil else { throw malformed("\(name).member needs an index (\(name).member.1)") }
        var ordered: [(Int, Node)] = []
        for (index, child) in node.children {
            guard let position = Int(index), position >= 1, position <= node.children.count,
                index.first != "0"
            else { throw malformed("\(name): '\(index.prefix(20))' is not an index 1…\(node.children.count)") }
            ordered.append((position, child))
        }
        return ordered.sorted { $0.0 < $1.0 }.map(\.1)
    }

    static func malformed(_ why: String) -> AWSError {
        AWSError(code: "MalformedQueryString", why)
    }

    // MARK: - XML answers

    /// `<ActionResponse xmlns=…><ActionResult>…</ActionResult><ResponseMetadata>…</ResponseMetadata></…>`; an
    /// operation with nothing to answer has no result element.
    static func response(
        action: String, namespace: String, output: [String: JSONValue], requestID: String, types: AWSMemberTypes
    ) -> [UInt8] {
        var xml = "<\(action)Response xmlns=\"\(namespace)\">"
        if !output.isEmpty {
            xml += "<\(action)Result>"
            for name in output.keys.sorted() {
                element(name, output[name]!, types: types, into: &xml)
            }
            xml += "</\(action)Result>"
        }
        xml += "<ResponseMetadata><RequestId>\(escaped(requestID))</RequestId></ResponseMetadata>"
        xml += "</\(action)Response>"
        return Array(xml.utf8)
    }

    /// `<ErrorResponse><Error><Type>Sender</Type><Code>…</Code><Message>…</Message></Error><RequestId>…`.
    static func error(_ error: AWSError, namespace: String, requestID: String) -> [UInt8] {
        let xml =
            "<ErrorResponse xmlns=\"\(namespace)\"><Error><Type>\(error.sender ? "Sender" : "Receiver")</Type>"
            + "<Code>\(escaped(error.code))</Code><Message>\(escaped(error.message))</Message></Error>"
            + "<RequestId>\(escaped(requestID))</RequestId></ErrorResponse>"
        return Array(xml.utf8)
    }

    static func element(_ name: String, _ value: JSONValue, types: AWSMemberTypes, into xml: inout String) {
        if case .null = value { return }
        xml += "<\(name)>"
        content(name, value, types: types, into: &xml)
        xml += "</\(name)>"
    }

    static func content(_ name: String, _ value: JSONValue, types: AWSMemberTypes, into xml: inout String) {
        switch value {
        case .null: break
        case .bool(let flag): xml += flag ? "true" : "false"
        case .string(let text): xml += escaped(text)
        case .number(let number):
            xml += types.timestamps.contains(name) ? isoTime(number) : numberText(number)
        case .array(let items):
            for item in items {
                xml += "<member>"
                content(name, item, types: types, into: &xml)
                xml += "</member>"
            }
        case .object(let members):
            if types.maps.contains(name) {
                for key in members.keys.sorted() {
                    xml += "<entry><key>\(escaped(key))</key><value>"
                    content(name, members[key]!, types: types, into: &xml)
                    xml += "</value></entry>"
                }
            } else {
                for member in members.keys.sorted() {
                    element(member, members[member]!, types: types, into: &xml)
                }
            }
        }
    }

    /// A whole number without a fraction (the SDKs read integers with `int()`), others as Swift prints them.
    static func numberText(_ number: Double) -> String {
        if number == number.rounded(), abs(number) < 9.0e15 { return String(Int64(number)) }
        return "\(number)"
    }

    /// Epoch seconds as ISO 8601 with milliseconds, as AWS answers times in XML.
    static func isoTime(_ seconds: Double) -> String {
        let formatter = Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt)
        return Date(timeIntervalSince1970: seconds).formatted(formatter)
    }

    /// Text safe inside an element: markup escaped, and the characters XML 1.0 cannot carry replaced.
    static func escaped(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&apos;"
            case "\r": result += "&#13;"
            case "\t", "\n": result.unicodeScalars.append(scalar)
            default:
                let value = scalar.value
                if value < 0x20 || value == 0xFFFE || value == 0xFFFF {
                    result += "\u{FFFD}"
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result
    }
}
