import Foundation
import PlumbLogs
import PlumbTesting
import Testing

/// The SQL pre-filters of JSON and space-delimited patterns only narrow what is read: a search finds exactly the
/// events the in-memory matcher accepts, escapes, quotes and Unicode included.
@Suite("Filter pattern pre-filters")
struct FilterPrefilterTests {
    static let now: Int64 = 1_800_000_000_000

    static let messages = [
        #"{"status": 500, "user": "ann", "ok": false}"#,
        #"{"status": 200, "user": "bob", "ok": true}"#,
        #"{"st\u0061tus": 500, "user": "esc"}"#,
        #"{"status": 5e2, "user": "exp"}"#,
        #"{"nested": {"status": 500}, "user": "deep", "note": null}"#,
        #"{"user": "caf\u00e9", "status": 404}"#,
        "{\"user\": \"café\", \"status\": 404}",
        "{\"user\": \"cafe\u{301}\", \"status\": 404}",
        "{\"\u{212A}\": 1, \"user\": \"kelvin\"}",
        #"plain text status 500"#,
        #"10.0.0.1 - ann [22/Nov/2026:10:00:00 +0000] "GET /a HTTP/1.1" 500 12"#,
        #"10.0.0.2 - bob [22/Nov/2026:10:00:00 +0000] "GET /b HTTP/1.1" 200 99"#,
        #"10.0.0.3 - "an"n [x] "GET /c HTTP/1.1" 503 7"#,
        #"10.0.0.4 - zoe [x] req 500 5"#,
    ]

    static let patterns = [
        "{ $.status = 500 }", "{ $.user = \"ann\" }", "{ $.ok IS FALSE }", "{ $.ok IS TRUE }", "{ $.note IS NULL }",
        "{ $.nested.status = 500 && $.user = \"deep\" }", "{ $.status = 500 || $.user = \"bob\" }",
        "{ $.user = \"café\" }", "{ $.missing NOT EXISTS }", "{ $.K = 1 }",
        "[ip, dash, user = ann, ts, request, status = 5*, bytes]", "[ip, dash, user = ann*, ...]",
        "[ip, dash, user, ts, request, status = 50*, bytes]", "[ip, dash, user = zoe && user != x, ...]",
    ]

    @Test("a search returns what the matcher accepts, for every pattern", arguments: patterns)
    func sameAsMatcher(pattern text: String) throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try LogStore(directory: dir.path, durability: .normal, clock: { Self.now })
        try store.put(
            group: "/p", stream: "s",
            events: Self.messages.enumerated().map {
                InputLogEvent(timestamp: Self.now - 1_000 + Int64($0), message: $1)
            })
        let pattern = try FilterPattern(text)
        let found = try store.filter(LogQuery(group: "/p", pattern: pattern, limit: 100)).events.map(\.message)
        #expect(found == Self.messages.filter(pattern.matches), "\(text)")
    }
}
