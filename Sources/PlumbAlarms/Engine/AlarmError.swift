import PlumbAPI
import PlumbStore

/// Errors of the alarm API.
public typealias AlarmError = PlumbError

extension PlumbError {
    static func notFound(_ name: String) -> PlumbError {
        PlumbError(status: 404, code: "ResourceNotFound", "no alarm named '\(name)'")
    }
}
