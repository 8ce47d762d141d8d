import Logging
import Synchronization

/// Log lines captured in memory, for tests that check what the host writes.
public final class CapturedLogs: Sendable {
    public struct Line: Sendable {
        public var label: String
        public var level: Logger.Level
        public var message: String
        public var metadata: [String: String]
    }

    private let lines = Mutex<[Line]>([])

    public init() {}

    public var all: [Line] { lines.withLock { $0 } }

    /// A logger factory for `PluginHost(makeLogger:)`.
    public func makeLogger(_ label: String) -> Logger {
        Logger(label: label) { label in Handler(label: label, sink: self) }
    }

    func append(_ line: Line) { lines.withLock { $0.append(line) } }

    struct Handler: LogHandler {
        let label: String
        let sink: CapturedLogs
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(
            level: Logger.Level, message: Logger.Message, metadata explicit: Logger.Metadata?, source: String,
            file: String, function: String, line: UInt
        ) {
            var merged = metadata
            if let explicit { merged.merge(explicit) { $1 } }
            sink.append(
                Line(label: label, level: level, message: message.description, metadata: merged.mapValues { "\($0)" }))
        }
    }
}
