import Foundation
import PlumbAPI

extension AlarmEngine {
    /// CloudWatch's EnableAlarmActions / DisableAlarmActions: sets `actions_enabled` in the stored document of each
    /// named alarm, which keeps its state and history. Names that are no alarm are skipped, as CloudWatch skips them;
    /// an alarm declared in a file, or a budget's threshold, is refused before anything changes. Returns the alarms
    /// changed.
    @discardableResult
    public func setActionsEnabled(_ enabled: Bool, names: [String], now: Int64) async throws(AlarmError) -> [String] {
        try await writes.withLock { () async throws(AlarmError) -> [String] in
            try await catchUpBeforeWriting()
            var documents: [(name: String, text: String)] = []
            for name in Set(names).sorted() {
                guard let status = status(name) else { continue }
                guard case .api(let document) = status.origin else {
                    if case .file(let location) = status.origin {
                        throw AlarmError(
                            status: 409, code: "ResourceConflict",
                            "alarm '\(name)' is declared in \(location); set actions_enabled in the file and reload")
                    }
                    continue
                }
                guard status.definition.actions.enabled != enabled else { continue }
                documents.append((name, try Self.document(document, actionsEnabled: enabled, reader: self.documents)))
            }
            for (name, text) in documents {
                let definition: AlarmDefinition
                switch AlarmParser.parseDocument(text, name: name, reader: self.documents) {
                case .success(let d): definition = d
                case .failure(let errors):
                    throw AlarmError(errors.errors.map(\.message).joined(separator: "; "))
                }
                _ = try await putLocked(name: name, definition: definition, document: text, now: now)
            }
            return documents.map(\.name)
        }
    }

    /// `document` (JSON or YAML, as it was put) as JSON text with `actions_enabled` set.
    static func document(
        _ text: String, actionsEnabled: Bool, reader: any ConfigReader
    ) throws(AlarmError) -> String {
        let root: ConfigNode?
        do throws(AlertFileError) { root = try reader.read(text, file: "stored document") } catch {
            throw AlarmError("the stored document cannot be read: \(error.message)")
        }
        guard let root, case .object(var fields) = plain(root) else {
            throw AlarmError("the stored document is not a mapping")
        }
        guard fields["budget"] == nil else {
            throw AlarmError(status: 409, code: "ResourceConflict", "a budget's threshold alarm follows its budget")
        }
        fields["actions_enabled"] = .bool(actionsEnabled)
        do {
            return String(decoding: try JSONEncoder().encode(JSONValue.object(fields)), as: UTF8.self)
        } catch {
            throw AlarmError("the document could not be written: \(error)")
        }
    }

    /// A document node as JSON: scalars stay text (the alarm parser reads every scalar from its text), except
    /// `true`/`false`, and a null stays null.
    static func plain(_ node: ConfigNode) -> JSONValue {
        switch node.value {
        case .mapping(let entries):
            var out: [String: JSONValue] = [:]
            for entry in entries { out[entry.key.scalar ?? ""] = plain(entry.value) }
            return .object(out)
        case .sequence(let items): return .array(items.map(plain))
        case .null: return .null
        case .scalar: return node.plainValue
        }
    }
}
