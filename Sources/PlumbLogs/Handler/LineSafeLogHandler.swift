import Logging

/// Keeps every event on one line of its own: the message and metadata values of a line-oriented handler (stderr,
/// read by journald line by line) have their control characters escaped (`\n`, `\r`, `\u{0}`) and values clipped at
/// 2,048 characters. Values from outside (a hostile object key, a header) reach log metadata, and a CR/LF in them
/// would otherwise forge a log line of the caller's choosing.
public struct LineSafeLogHandler: LogHandler {
    var inner: any LogHandler

    public init(_ inner: any LogHandler) { self.inner = inner }

    public var metadata: Logger.Metadata {
        get { inner.metadata }
        set { inner.metadata = newValue }
    }

    public var logLevel: Logger.Level {
        get { inner.logLevel }
        set { inner.logLevel = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { inner[metadataKey: key] }
        set { inner[metadataKey: key] = newValue }
    }

    public func log(
        level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String,
        function: String, line: UInt
    ) {
        inner.log(
            level: level, message: "\(Self.escaped(message.description))", metadata: metadata.map(Self.escaped),
            source: source,
            file: file, function: function, line: line)
    }

    static func escaped(_ metadata: Logger.Metadata) -> Logger.Metadata {
        metadata.mapValues(escaped)
    }

    static func escaped(_ value: Logger.Metadata.Value) -> Logger.Metadata.Value {
        switch value {
        case .string(let text): .string(escaped(text))
        case .stringConvertible(let convertible): .string(escaped(convertible.description))
        case .array(let values): .array(values.map(escaped))
        case .dictionary(let values): .dictionary(values.mapValues(escaped))
        }
    }

    /// The text with control characters escaped and at most 2,048 characters kept; unchanged text is not copied.
    static func escaped(_ text: String) -> String {
        guard
            text.utf8.count > 2_048
                || text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else {
            return text
        }
        var out = ""
        for scalar in text.unicodeScalars.prefix(2_048) {
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.properties.generalCategory == .control {
                    out += "\\u{\(String(scalar.value, radix: 16))}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return text.unicodeScalars.count > 2_048 ? out + "…" : out
    }
}
