import Logging
import PlumbLogs
import Synchronization
import Testing

/// A value from outside with CR/LF in a log message or metadata must not become a second log line on stderr.
@Suite("Line-safe log handler")
struct LineSafeLogHandlerTests {
    final class Recorder: LogHandler, @unchecked Sendable {
        // @unchecked: only touched from the one test that owns it, one call at a time.
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        var lines: [String] = []
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(
            level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String,
            function: String, line: UInt
        ) {
            lines.append("\(message) \(metadata.map { "\($0)" } ?? "")")
        }
    }

    @Test("CR/LF/NUL in the message and metadata are escaped; long values are clipped; plain text passes unchanged")
    func escapes() {
        let recorder = Recorder()
        let logger = Logger(label: "t") { _ in LineSafeLogHandler(recorder) }
        logger.notice(
            "share refused\r\nFAKE: admin logged in",
            metadata: ["key": "a\r\nb\u{0}c", "big": .string(String(repeating: "x", count: 5_000))])
        logger.info("plain", metadata: ["k": "v"])
        #expect(recorder.lines.count == 2)
        #expect(
            recorder.lines.allSatisfy { !$0.contains("\n") && !$0.contains("\r") && !$0.contains("\u{0}") },
            "\(recorder.lines)")
        #expect(recorder.lines[0].contains("share refused\\r\\nFAKE") && recorder.lines[0].contains("a\\r\\nb\\u{0}c"))
        #expect(recorder.lines[0].count < 2_300, "the 5,000-character value is clipped")
        #expect(recorder.lines[1] == "plain [\"k\": v]")
    }
}
