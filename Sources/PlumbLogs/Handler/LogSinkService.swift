import Logging
import ServiceLifecycle

/// Flushes the log sink every 200 ms, and once more when the server shuts down.
///
/// The samples the metric filters make of the flushed events go to the metric store inside the log store's
/// transaction (`LogStore(samples:)`), not through this service.
public struct LogSinkService: Service {
    public let sink: LogSink

    public init(sink: LogSink) {
        self.sink = sink
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .milliseconds(200)) }
            await flushOnce()
        }
        await flushOnce()
    }

    func flushOnce() async {
        do {
            try await sink.flush()
        } catch {
            // Logging here would feed the queue being flushed; stderr only.
            FileHandleError.write("plumb: cannot write logs to the store: \(error)\n")
        }
    }
}

enum FileHandleError {
    static func write(_ text: String) {
        var bytes = Array(text.utf8)
        _ = bytes.withUnsafeMutableBytes { Glibc.write(2, $0.baseAddress, $0.count) }
    }
}

#if canImport(Glibc)
import Glibc
#endif
