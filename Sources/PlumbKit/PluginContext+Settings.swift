extension PluginContext {
    /// A whole-number setting within `range`, `defaultValue` when absent; anything else stops the plugin's start with
    /// an error naming the key (`plugins.accounts.refresh_token_days must be …`), never a silent default or a trap
    /// in later arithmetic.
    public func setting(_ key: String, default defaultValue: Int, range: ClosedRange<Int>) throws -> Int {
        guard let text = settings[key] else { return defaultValue }
        guard let value = Int(text.trimmingCharacters(in: .whitespaces)), range.contains(value) else {
            throw invalidSetting(key, "a whole number from \(range.lowerBound) to \(range.upperBound)", text)
        }
        return value
    }

    /// A number setting within `range` (finite), `defaultValue` when absent.
    public func setting(_ key: String, default defaultValue: Double, range: ClosedRange<Double>) throws -> Double {
        guard let text = settings[key] else { return defaultValue }
        guard let value = Double(text.trimmingCharacters(in: .whitespaces)), range.contains(value) else {
            throw invalidSetting(key, "a number from \(range.lowerBound) to \(range.upperBound)", text)
        }
        return value
    }

    func invalidSetting(_ key: String, _ expected: String, _ text: String) -> FunctionError {
        FunctionError(
            status: 500, code: "ConfigurationError",
            message: "plugins.\(pluginName).\(key) must be \(expected), not '\(text.prefix(40))'")
    }
}
