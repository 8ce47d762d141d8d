import AsyncHTTPClient
import Foundation
import NIOCore
import PlumbAPI

extension DeliveryService {
    /// Posts to an Alertmanager's `/api/v2/alerts` what is true now: an alarm's alert firing (`endsAt` four resend
    /// intervals ahead) or resolved (`endsAt` when the alarm left ALARM), read from the outbox's record of that
    /// alert when the attempt runs. A delivery whose alert a later ALARM replaced is superseded, not sent: the newer
    /// delivery carries the alert. Other notifications go as one alert each.
    func sendToAlertmanager(_ message: Outbox.Message, subscription: Outbox.Subscription) async -> Attempt {
        let now = Date().timeIntervalSince1970
        let validFor = Int64((4 * settings.alertmanagerResendInterval).rounded(.up))
        let alert: PostableAlert
        var tracked: (Outbox.AlertmanagerAlert, state: String)?
        if message.attributes[AlarmMessage.eventAttribute] == AlarmMessage.eventValue,
            let name = message.attributes["alarm"],
            let alarm = try? JSONDecoder().decode(AlarmMessage.self, from: Data(message.message.utf8))
        {
            let record: Outbox.AlertmanagerAlert?
            do {
                record = try await outbox.alertmanagerAlert(subscriptionID: subscription.id, alarm: name)
            } catch {
                return .retry("cannot read the outbox: \(error)")
            }
            guard let record, record.messageID == message.id else {
                return .superseded("a later state change of alarm '\(name)' replaced this alert")
            }
            if let endsAt = record.endsAt {
                // Resolved, under the labels it fired with; the state change that ended it, when one was published,
                // gives the summary.
                var resolved = PostableAlert.alarm(
                    alarm, startsAt: record.startsAt, endsAt: max(endsAt, record.startsAt),
                    fallbackURL: settings.publicURL)
                if let id = record.resolvedBy, let ending = try? await outbox.message(id: id),
                    let change = try? JSONDecoder().decode(AlarmMessage.self, from: Data(ending.message.utf8))
                {
                    resolved.annotations["summary"] = change.reason
                } else {
                    resolved.annotations["summary"] = "Alarm \(name) is no longer in ALARM"
                }
                alert = resolved
                tracked = (record, "resolved")
            } else {
                alert = PostableAlert.alarm(
                    alarm, startsAt: record.startsAt, endsAt: Int64(now) + validFor, fallbackURL: settings.publicURL)
                tracked = (record, "firing")
            }
        } else {
            alert = PostableAlert.notification(
                message, endsAt: message.createdAt + validFor, generatorURL: settings.publicURL)
        }
        var request = HTTPClientRequest(url: AlertmanagerEndpoint.alertsURL(subscription.definition.endpoint))
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "plumb-notify")
        request.body = .bytes(ByteBuffer(bytes: PostableAlert.body([alert])))
        let result = await post(request)
        if case .delivered = result, let (record, state) = tracked {
            do {
                try await outbox.recordAlertmanagerSend(record, state: state, now: Date().timeIntervalSince1970)
            } catch {
                logger.error("cannot record the Alertmanager send of alarm \(record.alarm): \(error)")
            }
        }
        return result
    }
}
