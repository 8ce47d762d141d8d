/// A configuration document as a tree of mappings, sequences and scalars, each with its line: what each domain reads
/// its own section of the alert files from, without knowing YAML.
///
/// The server builds it with Yams (`YAMLConfigReader`); `JSONConfigReader` builds it from JSON. Scalars keep their
/// text as written (`60`, `true`, `1e3`), so every domain converts and checks its values itself and names the line.
public struct ConfigNode: Sendable, Equatable {
    public enum Value: Sendable, Equatable {
        /// A scalar that means null (`~`, `null`, nothing after the colon), with its text as written.
        case null(String)
        case scalar(String)
        case sequence([ConfigNode])
        /// Keys in document order; a key is itself a node (a scalar, in every document Plumb reads).
        case mapping([Entry])
    }

    /// One key and its value.
    public struct Entry: Sendable, Equatable {
        public var key: ConfigNode
        public var value: ConfigNode

        public init(key: ConfigNode, value: ConfigNode) {
            self.key = key
            self.value = value
        }
    }

    public var value: Value
    /// 1-based; 0 where unknown.
    public var line: Int

    public init(_ value: Value, line: Int) {
        self.value = value
        self.line = line
    }

    public var isNull: Bool {
        if case .null = value { true } else { false }
    }

    /// The text of a scalar (a null one too, as written); nil for a sequence or mapping.
    public var scalar: String? {
        switch value {
        case .scalar(let text), .null(let text): text
        case .sequence, .mapping: nil
        }
    }

    public var sequence: [ConfigNode]? {
        if case .sequence(let items) = value { items } else { nil }
    }

    public var mapping: [Entry]? {
        if case .mapping(let entries) = value { entries } else { nil }
    }

    /// The value under a scalar key of a mapping (the first, if a key repeats); nil for other nodes.
    public subscript(key: String) -> ConfigNode? {
        mapping?.first { $0.key.scalar == key }?.value
    }

    /// The node as JSON values (objects, arrays, strings; `true`/`false` as booleans), as a JSON parse gives them:
    /// for parts of a document that a JSON-shaped reader takes (metric math queries).
    public var plainValue: JSONValue {
        switch value {
        case .mapping(let entries):
            var out: [String: JSONValue] = [:]
            for entry in entries { out[entry.key.scalar ?? ""] = entry.value.plainValue }
            return .object(out)
        case .sequence(let items):
            return .array(items.map(\.plainValue))
        case .scalar(let text), .null(let text):
            switch text {
            case "true", "True", "TRUE": return .bool(true)
            case "false", "False", "FALSE": return .bool(false)
            default: return .string(text)
            }
        }
    }
}
