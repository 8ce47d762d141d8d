import Foundation

/// How the `bench` commands print their figures: one JSON object with sorted keys (pretty-printed where a person
/// reads it, one line where a script collects many).
enum BenchOutput {
    static func print(_ value: some Encodable, pretty: Bool = false) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted] : [.sortedKeys]
        Swift.print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }
}
