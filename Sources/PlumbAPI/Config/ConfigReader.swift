/// Turns a configuration document's text into its `ConfigNode` tree.
///
/// The server's reader is YAML (Yams), which also reads JSON; a domain that must read a stored document again (the
/// alarm engine restoring alarms created through the API) is handed one at construction, so it needs no YAML itself.
public protocol ConfigReader: Sendable {
    /// The tree of `text` (a null document is a null node), or nil for an empty one. Throws the syntax error, located by `file` and
    /// line, its message without a prefix (the caller says "not valid YAML" or "not valid JSON").
    func read(_ text: String, file: String) throws(AlertFileError) -> ConfigNode?
}
