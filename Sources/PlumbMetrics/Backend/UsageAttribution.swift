/// Whose usage the current task records: the IAM user whose API call caused it, set by the server's access check
/// around the route (`admin-token` for the admin token); nil for the platform's own work (schedules, scrapes,
/// deliveries, plugins' HTTP routes). Usage recorded with a user carries a `User` dimension instead of none, so
/// summing every series of a usage name still gives its total.
public enum UsageAttribution {
    @TaskLocal public static var user: String?

    /// `dimensions` with the current user's, when there is one.
    public static func dimensions(_ dimensions: [(String, String)]) -> [(String, String)] {
        guard let user else { return dimensions }
        return dimensions + [("User", user)]
    }
}
