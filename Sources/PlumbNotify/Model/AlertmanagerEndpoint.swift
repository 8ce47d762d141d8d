/// The endpoint of an `alertmanager` subscription: Alertmanager's base URL (`http://HOST:9093`, or with the path
/// prefix of its `--web.route-prefix`), to which Plumb adds `/api/v2/alerts`. The full alerts URL is accepted too.
public enum AlertmanagerEndpoint {
    static let alertsPath = "/api/v2/alerts"

    /// Where alerts are posted.
    public static func alertsURL(_ endpoint: String) -> String {
        var base = endpoint
        while base.hasSuffix("/") { base.removeLast() }
        return base.hasSuffix(alertsPath) ? base : base + alertsPath
    }

    /// Whether `endpoint` points at Alertmanager's alerts API (v1 or v2) rather than at a webhook receiver.
    public static func isAlertsAPI(_ endpoint: String) -> Bool {
        let path = trimmedPath(endpoint)
        return path.hasSuffix("/api/v2/alerts") || path.hasSuffix("/api/v1/alerts")
    }

    /// Why `endpoint` cannot be an Alertmanager's address (past the URL checks every endpoint gets), or nil.
    public static func problem(_ endpoint: String) -> String? {
        if endpoint.contains("?") || endpoint.contains("#") {
            return "an alertmanager endpoint is a base URL such as http://HOST:9093, without a query or fragment"
        }
        if trimmedPath(endpoint).hasSuffix("/api/v1/alerts") {
            return
                "Alertmanager's v1 API is gone (removed in 0.27): give the base URL, http://HOST:9093, and Plumb posts to /api/v2/alerts"
        }
        return nil
    }

    static func trimmedPath(_ endpoint: String) -> String {
        var text = String(endpoint.prefix { $0 != "?" && $0 != "#" })
        while text.hasSuffix("/") { text.removeLast() }
        return text
    }
}
