import Logging
import PlumbMetrics
import ServiceLifecycle

/// Flushes the log sink every 200 ms, and once more when the server shuts down.
public struct LogSinkService: Service {
    public let sink: LogSink
    /// Receives the samples metric filters made of the flushed events.
    public let emit: @Sendable ([Sample]) async -> Void

    public init(sink: LogSink, emit: @escaping @Sendable ([Sample]) async -> Void) {
        self.sink = sink
        self.emit = emit
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
            let samples = try sink.flush()
            if !samples.isEmpty { await emit(samples) }
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
