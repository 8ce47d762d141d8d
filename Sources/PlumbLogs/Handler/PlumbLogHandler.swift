import Foundation
import Logging

/// A swift-log handler that writes each event into the log store as one JSON line:
/// `{"level": "ERROR", "logger": "plumb.plugins.sentiment", "message": "…", "metadata": {…}, "source": "…"}`.
///
/// Loggers labelled `plumb.plugins.<name>` go to group `/plumb/plugins/<name>`, everything else to `/plumb/server`;
/// the stream is the host name. Handing over never blocks (see `LogSink`).
public struct PlumbLogHandler: LogHandler {
    public let label: String
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    let sink: LogSink
    let group: String
    let stream: String

    public init(label: String, sink: LogSink, stream: String = ProcessInfo.processInfo.hostName) {
        self.label = label
        self.sink = sink
        self.group = Self.group(for: label)
        self.stream = stream.isEmpty ? "plumb" : stream.replacingOccurrences(of: ":", with: "_")
    }

    public static func group(for label: String) -> String {
        if label.hasPrefix("plumb.plugins.") {
            let name = label.dropFirst("plumb.plugins.".count).split(separator: ".").first.map(String.init) ?? "unknown"
            return "/plumb/plugins/\(name)"
        }
        if label == "plumb.audit" { return "/plumb/audit" }
        return "/plumb/server"
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(
        level: Logger.Level, message: Logger.Message, metadata explicit: Logger.Metadata?, source: String,
        file: String, function: String, line: UInt
    ) {
        var merged = metadata
        if let explicit { merged.merge(explicit) { $1 } }
        var object: [String: Any] = [
            "level": Self.levelName(level), "logger": label, "message": message.description, "source": source,
        ]
        if !merged.isEmpty { object["metadata"] = merged.mapValues(Self.json) }
        if level >= .error { object["code"] = "\(file):\(line)" }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        sink.enqueue(
            group: group, stream: stream, timestamp: Int64(Date().timeIntervalSince1970 * 1_000),
            message: String(decoding: data, as: UTF8.self))
    }

    static func levelName(_ level: Logger.Level) -> String {
        switch level {
        case .trace: "TRACE"
        case .debug: "DEBUG"
        case .info: "INFO"
        case .notice: "NOTICE"
        case .warning: "WARN"
        case .error: "ERROR"
        case .critical: "CRITICAL"
        }
    }

    static func json(_ value: Logger.Metadata.Value) -> Any {
        switch value {
        case .string(let s): s
        case .stringConvertible(let c): c.description
        case .array(let a): a.map(json)
        case .dictionary(let d): d.mapValues(json)
        }
    }
}
