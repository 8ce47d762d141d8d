import Foundation
import Hummingbird
import NIOCore
import PlumbAPI
import PlumbLogs
import ServiceLifecycle

/// The body of `GET /api/v1/logs/{group}/tail`: the group's new events as NDJSON lines (`LogEventDescription`), as
/// they are stored, until the client goes away, `seconds` pass or the server shuts down.
///
/// A quiet tail writes an empty line every `heartbeat`: that is how a client that went away is noticed (the write
/// fails), so its socket does not linger in CLOSE-WAIT holding the shutdown; proxies that drop idle connections keep
/// it open too.
struct LogTail: Sendable {
    let store: any LogStoring
    let group: String
    let pattern: FilterPattern?
    let streamPrefix: String?
    /// 0: until the client goes away.
    let seconds: Int
    let heartbeat: Duration
    /// The newest event id when the tail started: only events after it are written.
    let start: Int64

    func body() -> ResponseBody {
        ResponseBody { writer in
            var cursor = start
            let deadline = seconds > 0 ? ContinuousClock.now + .seconds(seconds) : nil
            var lastWrite = ContinuousClock.now
            while !Task.isCancelled && !Task.isShuttingDownGracefully {
                if let deadline, ContinuousClock.now >= deadline { break }
                let events: [LogEvent]
                do {
                    events = try await store.events(in: group, after: cursor)
                } catch let error as any PlumbAPI.HTTPResponseError where error.status == 503 {
                    // A shared store away for a moment: keep the tail open (heartbeats go on) and ask again.
                    events = []
                }
                var buffer = ByteBuffer()
                for event in events {
                    cursor = event.id
                    guard shows(event) else { continue }
                    buffer.writeBytes(try PlumbJSON.encoder.encode(LogEventDescription(event)))
                    buffer.writeString("\n")
                }
                if buffer.readableBytes > 0 || ContinuousClock.now - lastWrite >= heartbeat {
                    if buffer.readableBytes == 0 { buffer.writeString("\n") }
                    try await writer.write(buffer)
                    lastWrite = ContinuousClock.now
                }
                if events.count < 1_000 { try? await Task.sleep(for: .milliseconds(250)) }
            }
            try await writer.finish(nil)
        }
    }

    func shows(_ event: LogEvent) -> Bool {
        if let streamPrefix, !event.stream.hasPrefix(streamPrefix) { return false }
        if let pattern, !pattern.matches(event.message) { return false }
        return true
    }
}
