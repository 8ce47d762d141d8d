import PlumbKit
import Testing

/// PlumbKit's formatter-free RFC 3339 helpers, which the plugins use on their hot paths.
@Suite struct RFC3339Tests {
    @Test(arguments: [
        ("2026-11-18T11:06:40Z", 1_795_000_000.0),
        ("2026-11-18T11:06:40.250Z", 1_795_000_000.25),
        ("2026-11-18T12:06:40+01:00", 1_795_000_000.0),
        ("2026-11-18T10:36:40.5-00:30", 1_795_000_000.5),
        ("2026-11-18t11:06:40z", 1_795_000_000.0),
    ])
    func parses(_ text: String, _ seconds: Double) {
        #expect(RFC3339.parse(text) == seconds)
    }

    @Test(arguments: [
        "", "2026-11-18", "2026-11-18T11:06:40", "2026-13-18T11:06:40Z", "2026-11-18T11:06:40.Z",
        "2026-11-18T11:06:40Zjunk", "1795000000",
    ])
    func refuses(_ text: String) {
        #expect(RFC3339.parse(text) == nil)
    }

    @Test func formatsWithMillisecondsAndRoundTrips() {
        #expect(RFC3339.format(1_795_000_000.25) == "2026-11-18T11:06:40.250Z")
        #expect(RFC3339.format(milliseconds: 5) == "1970-01-01T00:00:00.005Z")
        for ms: Int64 in [0, 1_795_000_000_123, 1_700_000_000_999] {
            #expect(RFC3339.parse(RFC3339.format(milliseconds: ms)).map { Int64(($0 * 1_000).rounded()) } == ms)
        }
    }
}
