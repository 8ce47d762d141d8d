/// Reads one mapping of a configuration document field by field, recording every problem with its file and line
/// in a shared `ConfigErrorSink` instead of stopping at the first: a file with three mistakes reports three lines.
///
/// Each domain parses its own section with it (alarms in PlumbAlarms, topics in PlumbNotify, metric filters in
/// PlumbLogs); the server's loader only turns files into `ConfigNode`s.
public final class ConfigFields {
    public let mapping: [ConfigNode.Entry]
    /// The field path of this mapping (`alarms[2]`), prefixed to the fields' names in errors.
    public let path: String
    public let file: String
    public let line: Int
    /// Where this mapping's and its children's problems go.
    public let sink: ConfigErrorSink

    /// Nil (with an error recorded) when `node` is not a mapping.
    public init?(_ node: ConfigNode, path: String, file: String, sink: ConfigErrorSink) {
        self.path = path
        self.file = file
        self.sink = sink
        self.line = node.line
        guard let mapping = node.mapping else {
            sink.errors.append(
                AlertFileError(
                    file: file, line: node.line, field: path, message: "expected a mapping of keys to values"))
            return nil
        }
        self.mapping = mapping
    }

    /// Problems recorded so far in the whole document: compare before and after reading an item to know whether it
    /// read cleanly.
    public var errorCount: Int { sink.errors.count }

    public func fieldPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    public func node(_ key: String) -> ConfigNode? { mapping.first { $0.key.scalar == key }?.value }

    public func lineOf(_ key: String) -> Int { node(key)?.line ?? line }

    /// Records a problem with `key` (nil: with the mapping itself), at the key's line unless `line` is given.
    public func error(_ key: String?, _ message: String, line: Int? = nil) {
        let field = key.map(fieldPath) ?? path
        sink.errors.append(
            AlertFileError(file: file, line: line ?? key.map(lineOf) ?? self.line, field: field, message: message))
    }

    /// Reports keys outside `allowed` (a typo would otherwise be silently ignored).
    public func rejectUnknown(_ allowed: Set<String>) {
        for entry in mapping {
            guard let name = entry.key.scalar else { continue }
            if !allowed.contains(name) {
                let hint = allowed.sorted().joined(separator: ", ")
                sink.errors.append(
                    AlertFileError(
                        file: file, line: entry.key.line, field: fieldPath(name),
                        message: "unknown field (known: \(hint))"))
            }
        }
    }

    public func string(_ key: String, required: Bool = false) -> String? {
        guard let node = node(key), !node.isNull else {
            if required { error(key, "is required", line: line) }
            return nil
        }
        guard let scalar = node.scalar else {
            error(key, "must be a single value")
            return nil
        }
        return scalar
    }

    public func double(_ key: String, required: Bool = false) -> Double? {
        guard let text = string(key, required: required) else { return nil }
        guard let value = Double(text), value.isFinite else {
            error(key, "'\(text)' is not a finite number")
            return nil
        }
        return value
    }

    public func int(_ key: String, required: Bool = false) -> Int? {
        guard let text = string(key, required: required) else { return nil }
        guard let value = Int(text) else {
            error(key, "'\(text)' is not a whole number")
            return nil
        }
        return value
    }

    public func bool(_ key: String) -> Bool? {
        guard let text = string(key) else { return nil }
        switch text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default:
            error(key, "'\(text)' must be true or false")
            return nil
        }
    }

    public func `enum`<E: RawRepresentable & CaseIterable>(_ key: String, _ type: E.Type, required: Bool = false) -> E?
    where E.RawValue == String {
        guard let text = string(key, required: required) else { return nil }
        guard let value = E(rawValue: text) else {
            error(key, "'\(text)' is not one of \(E.allCases.map(\.rawValue).joined(separator: ", "))")
            return nil
        }
        return value
    }

    /// A list of single values; one value alone is a list of one.
    public func stringList(_ key: String) -> [String] {
        guard let node = node(key), !node.isNull else { return [] }
        if let scalar = node.scalar { return [scalar] }
        guard let sequence = node.sequence else {
            error(key, "must be a list")
            return []
        }
        var out: [String] = []
        for item in sequence {
            guard let scalar = item.scalar else {
                error(key, "must be a list of single values", line: item.line)
                continue
            }
            out.append(scalar)
        }
        return out
    }

    public func stringMap(_ key: String) -> [String: String]? {
        guard let node = node(key), !node.isNull else { return nil }
        guard let map = node.mapping else {
            error(key, "must be a mapping of names to values")
            return nil
        }
        var out: [String: String] = [:]
        for entry in map {
            guard let name = entry.key.scalar, let value = entry.value.scalar else {
                error(key, "names and values must be single values", line: entry.key.line)
                continue
            }
            out[name] = value
        }
        return out
    }

    /// Items of a list field, each with its path (`alarms[2]`).
    public func list(_ key: String) -> [(node: ConfigNode, path: String)] {
        guard let node = node(key), !node.isNull else { return [] }
        guard let sequence = node.sequence else {
            error(key, "must be a list")
            return []
        }
        return sequence.enumerated().map { ($0.element, "\(fieldPath(key))[\($0.offset)]") }
    }

    /// The mapping under `key`, read with the same sink; nil when absent or not a mapping (then with an error).
    public func nested(_ key: String) -> ConfigFields? {
        guard let node = node(key), !node.isNull else { return nil }
        return ConfigFields(node, path: fieldPath(key), file: file, sink: sink)
    }

    /// A list item (or any node) read as a mapping with this document's file and sink.
    public func item(_ node: ConfigNode, path: String) -> ConfigFields? {
        ConfigFields(node, path: path, file: file, sink: sink)
    }
}
