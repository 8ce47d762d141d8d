import Foundation
import Yams

/// Reads one YAML mapping field by field, recording every problem with its line instead of stopping at the first.
final class YAMLFields {
    let mapping: Node.Mapping
    let path: String
    let file: String
    let line: Int
    let sinkForChildren: ErrorSink
    private var sink: ErrorSink { sinkForChildren }

    final class ErrorSink {
        var errors: [AlertFileError] = []
    }

    init?(_ node: Node, path: String, file: String, sink: ErrorSink) {
        self.path = path
        self.file = file
        self.sinkForChildren = sink
        self.line = node.mark?.line ?? 0
        guard let mapping = node.mapping else {
            sink.errors.append(AlertFileError(file: file, line: node.mark?.line ?? 0, field: path, message: "expected a mapping of keys to values"))
            return nil
        }
        self.mapping = mapping
    }

    func fieldPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func node(_ key: String) -> Node? { mapping[key] }

    func lineOf(_ key: String) -> Int { mapping[key]?.mark?.line ?? line }

    func error(_ key: String?, _ message: String, line: Int? = nil) {
        let field = key.map(fieldPath) ?? path
        sink.errors.append(AlertFileError(file: file, line: line ?? key.map(lineOf) ?? self.line, field: field, message: message))
    }

    /// Reports keys outside `allowed` (a typo would otherwise be silently ignored).
    func rejectUnknown(_ allowed: Set<String>) {
        for (key, _) in mapping {
            guard let name = key.string else { continue }
            if !allowed.contains(name) {
                let hint = allowed.sorted().joined(separator: ", ")
                sink.errors.append(AlertFileError(
                    file: file, line: key.mark?.line ?? line, field: fieldPath(name), message: "unknown field (known: \(hint))"))
            }
        }
    }

    func string(_ key: String, required: Bool = false) -> String? {
        guard let node = mapping[key], node.null == nil else {
            if required { error(key, "is required", line: line) }
            return nil
        }
        guard let scalar = node.scalar else { error(key, "must be a single value"); return nil }
        return scalar.string
    }

    func double(_ key: String, required: Bool = false) -> Double? {
        guard let text = string(key, required: required) else { return nil }
        guard let value = Double(text), value.isFinite else { error(key, "'\(text)' is not a finite number"); return nil }
        return value
    }

    func int(_ key: String, required: Bool = false) -> Int? {
        guard let text = string(key, required: required) else { return nil }
        guard let value = Int(text) else { error(key, "'\(text)' is not a whole number"); return nil }
        return value
    }

    func bool(_ key: String) -> Bool? {
        guard let text = string(key) else { return nil }
        switch text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: error(key, "'\(text)' must be true or false"); return nil
        }
    }

    func `enum`<E: RawRepresentable & CaseIterable>(_ key: String, _ type: E.Type, required: Bool = false) -> E?
    where E.RawValue == String {
        guard let text = string(key, required: required) else { return nil }
        guard let value = E(rawValue: text) else {
            error(key, "'\(text)' is not one of \(E.allCases.map(\.rawValue).joined(separator: ", "))")
            return nil
        }
        return value
    }

    func stringList(_ key: String) -> [String] {
        guard let node = mapping[key], node.null == nil else { return [] }
        if let scalar = node.scalar { return [scalar.string] }
        guard let sequence = node.sequence else { error(key, "must be a list"); return [] }
        var out: [String] = []
        for item in sequence {
            guard let scalar = item.scalar else {
                error(key, "must be a list of single values", line: item.mark?.line)
                continue
            }
            out.append(scalar.string)
        }
        return out
    }

    func stringMap(_ key: String) -> [String: String]? {
        guard let node = mapping[key], node.null == nil else { return nil }
        guard let map = node.mapping else { error(key, "must be a mapping of names to values"); return nil }
        var out: [String: String] = [:]
        for (k, v) in map {
            guard let name = k.scalar?.string, let value = v.scalar?.string else {
                error(key, "names and values must be single values", line: k.mark?.line)
                continue
            }
            out[name] = value
        }
        return out
    }

    /// Items of a list field, each with its path (`alarms[2]`).
    func list(_ key: String) -> [(node: Node, path: String)] {
        guard let node = mapping[key], node.null == nil else { return [] }
        guard let sequence = node.sequence else { error(key, "must be a list"); return [] }
        return sequence.enumerated().map { ($0.element, "\(fieldPath(key))[\($0.offset)]") }
    }

    func nested(_ key: String) -> YAMLFields? {
        guard let node = mapping[key], node.null == nil else { return nil }
        return YAMLFields(node, path: fieldPath(key), file: file, sink: sink)
    }
}
