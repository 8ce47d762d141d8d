import PlumbAPI
import PlumbStore

/// Errors of the topic, subscription and delivery API.
public typealias NotifyError = PlumbError

extension PlumbError {
    static func topicNotFound(_ name: String) -> PlumbError {
        PlumbError(status: 404, code: "NotFound", "no topic named '\(name)'")
    }
}
