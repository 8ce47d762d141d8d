import PlumbKit
import Yams

extension PluginContext {
    /// Decodes a YAML document (the support bot's intents); errors name the line.
    ///
    /// Here rather than in PlumbKit: the support bot is the one plugin that reads YAML, so only it depends on Yams.
    public func decodeYAML<T: Decodable>(_ type: T.Type, from text: String) throws -> T {
        try YAMLDecoder().decode(T.self, from: text)
    }
}
