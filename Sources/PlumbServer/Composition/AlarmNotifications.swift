import Logging
import PlumbAlarms
import PlumbNotify

/// The server's side of `AlarmNotifier`: a transition's notification, with its chart and a signed link to the alarm
/// page, published through the outbox to each of its topics.
struct AlarmNotifications: AlarmNotifier {
    let outbox: any NotificationStoring
    let source: MetricStoreDataSource
    let links: AlarmLinks
    let clock: @Sendable () -> Int64
    let logger: Logger

    func topicExists(_ name: String) async throws -> Bool { try await outbox.topic(name) != nil }

    func notify(_ transition: AlarmTransition) async -> [AlarmEngine.ActionOutcome] {
        // The mail's chart: the watched value over the chart window ending at this evaluation.
        var chart: [EvaluationDatapoint] = []
        if case .metric(let alarm) = transition.alarm {
            do {
                chart = try await source.chartDatapoints(for: alarm, at: transition.timestamp)
            } catch {
                logger.warning(
                    "alarm '\(alarm.name)': no chart in its notification, the metric store could not be read: \(error)")
            }
        }
        let link = links.link(for: transition.alarm.name, now: clock())
        let (subject, message, attributes) = transition.notification(
            url: link.url, urlExpires: link.expires, chart: chart)
        var outcomes: [AlarmEngine.ActionOutcome] = []
        for topic in transition.topics {
            do {
                let id = try await outbox.publish(
                    topic: topic, subject: subject, message: message, attributes: attributes, now: clock())
                outcomes.append(.init(topic: topic, messageId: id))
            } catch {
                outcomes.append(.init(topic: topic, error: "\(error)"))
            }
        }
        return outcomes
    }
}
