import PlumbAWS
import PlumbHost

/// The EventBridge API's view of the server: rules in the async event store (shared by a cluster's nodes, fired by
/// the leader's scheduler), the plugins' own schedules, and the scheduler's expression parser.
struct ServerEventsBackend: AWSEventsBackend {
    let host: PluginHost
    let queue: any AsyncEventStoring
    let authorize: @Sendable (String, AWSCaller) throws -> Void

    func rules() async throws -> [String: String] { try await queue.scheduleRules() }

    func putRule(name: String, document: String?) async throws {
        try await queue.putScheduleRule(name: name, document: document)
    }

    func builtInSchedules() -> [(function: String, expression: String)] {
        host.functions.compactMap { function in
            guard case .schedule(let expression) = function.trigger else { return nil }
            return (function.name, expression)
        }
    }

    func validateSchedule(_ text: String) throws { _ = try ScheduleExpression(text) }

    func authorizeTarget(_ function: String, caller: AWSCaller) throws { try authorize(function, caller) }
}
