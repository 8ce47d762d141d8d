import Foundation
import PlumbKit

/// VADER's word ratings and emoji descriptions, loaded from the files the setup script installs.
public struct VaderLexicon: Sendable {
    public static let lexiconFile = "vader_lexicon.txt"
    public static let emojiFile = "emoji_utf8_lexicon.txt"

    public let valences: [String: Double]
    /// Single-scalar emoji → its text description.
    public let emojis: [Unicode.Scalar: String]
    public let directory: String

    /// Loads both files from `directory`; throws a message naming the missing path.
    public init(directory: String) throws {
        self.directory = directory
        let lexiconPath = directory + "/" + Self.lexiconFile
        let emojiPath = directory + "/" + Self.emojiFile
        guard let lexicon = try? String(contentsOfFile: lexiconPath, encoding: .utf8) else {
            throw LexiconError(
                message:
                    "VADER lexicon not found at \(lexiconPath): run scripts/setup.sh (it installs the vaderSentiment lexicon into share/plumb/vader) or set plugins.sentiment.lexicon_dir"
            )
        }
        guard let emoji = try? String(contentsOfFile: emojiPath, encoding: .utf8) else {
            throw LexiconError(
                message:
                    "VADER emoji lexicon not found at \(emojiPath): run scripts/setup.sh or set plugins.sentiment.lexicon_dir"
            )
        }
        var valences: [String: Double] = [:]
        for line in lexicon.split(whereSeparator: \.isNewline) {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard fields.count >= 2, let value = Double(fields[1].trimmingCharacters(in: .whitespaces)) else {
                continue
            }
            valences[String(fields[0]).trimmingCharacters(in: .whitespaces)] = value
        }
        var emojis: [Unicode.Scalar: String] = [:]
        for line in emoji.split(whereSeparator: \.isNewline) {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard fields.count >= 2 else { continue }
            let key = fields[0].trimmingCharacters(in: .whitespaces).unicodeScalars
            if key.count == 1 { emojis[key.first!] = String(fields[1]) }
        }
        guard valences.count > 1_000 else {
            throw LexiconError(message: "VADER lexicon at \(lexiconPath) looks truncated (\(valences.count) entries)")
        }
        self.valences = valences
        self.emojis = emojis
    }

    /// Finds the lexicon directory: `configured` if given, else `$PLUMB_VADER_DIR`, else a `share/plumb/vader`
    /// folder in the executable's directory or any parent (a checkout's), else the system share directories.
    public static func locate(configured: String?) -> String {
        if let configured, !configured.isEmpty { return configured }
        if let env = ProcessInfo.processInfo.environment["PLUMB_VADER_DIR"], !env.isEmpty { return env }
        return SharedFiles.locate("vader", containing: lexiconFile)
    }
}

public struct LexiconError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
