import Foundation
import Logging

/// A swift-log handler that writes each event into the log store as one JSON line:
/// `{"level": "ERROR", "logger": "plumb.plugins.sentiment", "message": "…", "metadata": {…}, "source": "…"}`.
///
/// Loggers labelled `plumb.plugins.<name>` go to group `/plumb/plugins/<name>`, `plumb.audit` and `plumb.scaling` to
/// `/plumb/audit` and `/plumb/scaling`, everything else to `/plumb/server`;
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
        if label.hasPrefix(lambdaPrefix) { return "/aws/lambda/" + label.dropFirst(lambdaPrefix.count) }
        if label.hasPrefix("plumb.plugins.") {
            let name = label.dropFirst("plumb.plugins.".count).split(separator: ".").first.map(String.init) ?? "unknown"
            return "/plumb/plugins/\(name)"
        }
        if label == "plumb.audit" { return "/plumb/audit" }
        if label == "plumb.scaling" { return "/plumb/scaling" }
        return "/plumb/server"
    }

    /// Loggers labelled `plumb.lambda.<function>` carry a Lambda handler's output: its lines go to
    /// `/aws/lambda/<function>` as they were written (START, END, REPORT and the handler's own), not as JSON.
    public static let lambdaPrefix = "plumb.lambda."

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(
        level: Logger.Level, message: Logger.Message, metadata explicit: Logger.Metadata?, source: String,
        file: String, function: String, line: UInt
    ) {
        if group.hasPrefix("/aws/lambda/") {
            _ = sink.enqueue(
                group: group, stream: stream, timestamp: Int64(Date().timeIntervalSince1970 * 1_000),
                message: message.description)
            return
        }
        var merged = metadata
        if let explicit { merged.merge(explicit) { $1 } }
        // Hand-written JSON (sorted keys, as JSONSerialization would write them): this runs on every log call.
        var json = "{"
        if level >= .error {
            json += "\"code\":"
            Self.appendString("\(file):\(line)", to: &json)
            json += ","
        }
        json += "\"level\":\"\(Self.levelName(level))\",\"logger\":"
        Self.appendString(label, to: &json)
        json += ",\"message\":"
        Self.appendString(message.description, to: &json)
        if !merged.isEmpty {
            json += ",\"metadata\":"
            Self.appendValue(.dictionary(merged), to: &json)
        }
        json += ",\"source\":"
        Self.appendString(source, to: &json)
        json += "}"
        sink.enqueue(
            group: group, stream: stream, timestamp: Int64(Date().timeIntervalSince1970 * 1_000), message: json)
    }

    static func appendValue(_ value: Logger.Metadata.Value, to out: inout String) {
        switch value {
        case .string(let s): appendString(s, to: &out)
        case .stringConvertible(let c): appendString(c.description, to: &out)
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                appendValue(item, to: &out)
            }
            out += "]"
        case .dictionary(let map):
            out += "{"
            for (i, key) in map.keys.sorted().enumerated() {
                if i > 0 { out += "," }
                appendString(key, to: &out)
                out += ":"
                appendValue(map[key]!, to: &out)
            }
            out += "}"
        }
    }

    /// A JSON string literal: quotes, backslashes and control characters escaped.
    public static func appendString(_ text: String, to out: inout String) {
        out += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                out +=
                    "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count)
                    + String(scalar.value, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
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
}
