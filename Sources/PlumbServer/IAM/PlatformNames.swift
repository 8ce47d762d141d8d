/// Names the platform keeps for itself, so that no one but the admin token can forge or erase what the platform
/// records about itself: the `Plumb/` metric namespaces (alarms page on `Plumb/Functions` errors), the audit trail
/// `/plumb/audit` (its retention and its metric filters), and the `/plumb/` log groups the server writes.
enum PlatformNames {
    static let auditGroup = "/plumb/audit"

    /// `Plumb/Functions`, `Plumb/Server`, …: written by the platform.
    static func isPlatformNamespace(_ namespace: String) -> Bool { namespace.hasPrefix("Plumb/") }

    /// `/plumb/audit`, `/plumb/server`, `/plumb/plugins/…`: written by the server only.
    static func isPlatformLogGroup(_ group: String) -> Bool { group.hasPrefix("/plumb/") }

    /// Refuses anyone but the admin token, naming what is reserved.
    static func requireAdmin(_ caller: Caller, _ what: @autoclosure () -> String) throws {
        if case .admin = caller { return }
        throw APIError(status: 403, code: "AccessDenied", "\(what()) is reserved to the admin token")
    }
}
