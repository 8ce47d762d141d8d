import Foundation
import Logging
import Metrics

/// Where an async event that failed for good goes: counted in `AsyncEventsDropped`, then published to its function's
/// on-failure topic through the platform, or logged when the function has none (Lambda's OnFailure destination).
///
/// The message is sorted JSON with the function, the event id, the reason, the attempts made and the payload as text,
/// under the subject `Async event failed: <function>` and the attribute `event: async-failure`.
public struct AsyncFailureDestination: Sendable {
    let platform: any PlatformServices
    let configs: [String: AsyncInvocationConfig]
    let logger: Logger

    public init(
        platform: any PlatformServices, configs: [String: AsyncInvocationConfig],
        logger: Logger = Logger(label: "plumb.async")
    ) {
        self.platform = platform
        self.configs = configs
        self.logger = logger
    }

    public func deliver(_ event: AsyncEventQueue.Event, reason: String) async {
        Counter(label: "Plumb/Functions/AsyncEventsDropped", dimensions: [("Function", event.function)]).increment()
        guard let topic = configs[event.function]?.onFailure else {
            logger.error(
                "async event failed and the function has no on_failure topic",
                metadata: ["function": "\(event.function)", "event": "\(event.id)", "reason": "\(reason)"])
            return
        }
        do {
            _ = try await platform.publish(
                topic: topic, subject: "Async event failed: \(event.function)",
                message: Self.message(event, reason: reason),
                attributes: ["event": "async-failure"])
        } catch {
            logger.error("cannot publish the failed async event to \(topic): \(error)")
        }
    }

    /// The failure-destination record: what was invoked, why it failed, how often it was tried, and its payload.
    struct Message: Encodable {
        var function: String
        var eventId: Int64
        var reason: String
        var attempts: Int
        var payload: String
    }

    static func message(_ event: AsyncEventQueue.Event, reason: String) -> String {
        let message = Message(
            function: event.function, eventId: event.id, reason: reason, attempts: event.attempts + 1,
            payload: String(decoding: event.payload, as: UTF8.self))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let data = try? encoder.encode(message) else { return reason }
        return String(decoding: data, as: UTF8.self)
    }
}
