import Foundation
import PlumbAPI
import PlumbMetrics

/// History data of a notification a silence held: `{"silenceId", "silencedUntil", "createdBy", "comment", "topics",
/// "newState"}`.
struct HeldNotificationData: Encodable {
    var silenceId: String
    var silencedUntil: String
    var createdBy: String
    var comment: String
    var topics: [String]
    var newState: String

    static func json(silence: Silence, transition: AlarmTransition) -> String? {
        let data = HeldNotificationData(
            silenceId: silence.id, silencedUntil: TimeParsing.format(silence.endsAt), createdBy: silence.createdBy,
            comment: silence.comment, topics: transition.topics, newState: transition.newState.rawValue)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(data)).map { String(decoding: $0, as: UTF8.self) }
    }
}
