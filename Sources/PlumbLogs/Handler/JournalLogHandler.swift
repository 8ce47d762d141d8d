import CSystemd
import Foundation
import Logging

/// A swift-log handler for the systemd journal (`sd_journal_sendv`), with structured fields: `MESSAGE`,
/// `PRIORITY`, `SYSLOG_IDENTIFIER=plumb`, `PLUMB_LOGGER`, `PLUMB_GROUP`, `PLUMB_PLUGIN`, `CODE_FILE`, `CODE_LINE`,
/// `CODE_FUNC`, and each metadata key as `PLUMB_<KEY>`.
public struct JournalLogHandler: LogHandler {
    public let label: String
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info

    public init(label: String) { self.label = label }

    /// True when this process's stderr is the journal's stream, as systemd documents the test: `JOURNAL_STREAM`
    /// holds `<device>:<inode>` of the stream it connected, and it counts only when stderr is still that file.
    ///
    /// A process started by a service (a test run, a shell in a unit) inherits `JOURNAL_STREAM` while its stderr goes
    /// to a file or a pipe: that output must stay there, not leave for the journal.
    public static func journalIsAvailable(
        environment: [String: String] = ProcessInfo.processInfo.environment, stderr descriptor: Int32 = 2
    ) -> Bool {
        guard let stream = environment["JOURNAL_STREAM"] else { return false }
        let parts = stream.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]) else { return false }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { return false }
        return UInt64(status.st_dev) == device && UInt64(status.st_ino) == inode
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
        let group = PlumbLogHandler.group(for: label)
        var fields = [
            "MESSAGE=\(message)", "PRIORITY=\(Self.priority(level))", "SYSLOG_IDENTIFIER=plumb",
            "PLUMB_LOGGER=\(label)",
            "PLUMB_GROUP=\(group)", "CODE_FILE=\(file)", "CODE_LINE=\(line)", "CODE_FUNC=\(function)",
        ]
        if group.hasPrefix("/plumb/plugins/") {
            fields.append("PLUMB_PLUGIN=\(group.dropFirst("/plumb/plugins/".count))")
        }
        for (key, value) in merged {
            let name = key.uppercased().map { $0.isLetter || $0.isNumber ? $0 : "_" }
            fields.append("PLUMB_\(String(name))=\(value)")
        }
        Self.send(fields)
    }

    static func send(_ fields: [String]) {
        let buffers = fields.map { Array($0.utf8) }
        var pointers: [UnsafeMutableRawPointer] = []
        defer { for pointer in pointers { pointer.deallocate() } }
        var vectors: [iovec] = []
        for bytes in buffers {
            let pointer = UnsafeMutableRawPointer.allocate(byteCount: max(bytes.count, 1), alignment: 1)
            bytes.withUnsafeBytes { pointer.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
            pointers.append(pointer)
            vectors.append(iovec(iov_base: pointer, iov_len: bytes.count))
        }
        _ = vectors.withUnsafeBufferPointer { sd_journal_sendv($0.baseAddress, Int32($0.count)) }
    }

    /// syslog priorities: 7 debug … 2 critical.
    static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }
}
