import Foundation
import PlumbAPI
import PlumbTesting
import Testing

@Suite("Time forms")
struct TimeParsingTests {
    @Test(
        "RFC 3339 parsing agrees with Foundation's ISO 8601 formatter",
        arguments: [
            "1970-01-01T00:00:00Z", "2026-11-22T10:00:00Z", "2000-02-29T23:59:59Z", "2026-11-22T10:00:00+05:30",
            "2026-11-22T10:00:00-08:00", "1969-12-31T23:59:59Z", "2100-03-01T00:00:00Z",
        ])
    func parse(_ text: String) throws {
        let reference = try #require(ISO8601DateFormatter().date(from: text)).timeIntervalSince1970
        #expect(TimeParsing.rfc3339(text) == reference)
    }

    @Test("fractions, and malformed stamps rejected")
    func fractionsAndErrors() {
        #expect(TimeParsing.rfc3339("2026-11-22T10:00:00.250Z") == 1_795_341_600.25)
        for bad in [
            "2026-11-22", "2026-11-22T10:00:00", "2026-13-01T00:00:00Z", "2026-11-22T25:00:00Z",
            "2026-11-22T10:00:00.Z", "2026-11-22T10:00:00Zjunk", "yesterday", "",
        ] {
            #expect(TimeParsing.rfc3339(bad) == nil, "\(bad)")
        }
    }

    @Test("formatting round-trips across eras and leap years")
    func format() {
        var rng = SeededGenerator(seed: 4)
        for _ in 0..<2_000 {
            let t = Int64.random(in: -4_000_000_000...8_000_000_000, using: &rng)
            let text = TimeParsing.format(t)
            #expect(TimeParsing.rfc3339(text) == Double(t), "\(t) → \(text)")
        }
        #expect(TimeParsing.format(1_795_341_600) == "2026-11-22T10:00:00Z")
    }

    @Test("query times: relative, epoch, now")
    func queryTimes() {
        #expect(TimeParsing.queryTime("-1h", now: 10_000) == 6_400)
        #expect(TimeParsing.queryTime("now", now: 10_000) == 10_000)
        #expect(TimeParsing.queryTime("1795341600", now: 0) == 1_795_341_600)
        #expect(TimeParsing.queryTime("-1x", now: 0) == nil)
    }

    /// One parser for every endpoint and command: `plumb audit --since 24h` meant "in 24 hours" before (and found
    /// nothing), `now-24h` and epoch milliseconds were refused.
    @Test("every form an operator types: 24h and -24h are ago, now±, RFC 3339, epoch seconds and milliseconds")
    func operatorForms() {
        let now = 1_795_341_600.0
        #expect(TimeParsing.queryTime("24h", now: now) == now - 86_400)
        #expect(TimeParsing.queryTime("-24h", now: now) == now - 86_400)
        #expect(TimeParsing.queryTime("now-24h", now: now) == now - 86_400)
        #expect(TimeParsing.queryTime("now+1h", now: now) == now + 3_600)
        #expect(TimeParsing.queryTime("+1h", now: now) == now + 3_600)
        #expect(TimeParsing.queryTime("1w", now: now) == now - 604_800)
        #expect(TimeParsing.queryTime("2026-11-22T10:00:00Z", now: 0) == 1_795_341_600)
        #expect(TimeParsing.queryTime("2026-11-22T11:00:00+01:00", now: 0) == 1_795_341_600)
        #expect(TimeParsing.queryTime("1795341600", now: 0) == 1_795_341_600)
        #expect(TimeParsing.queryTime("1795341600000", now: 0) == 1_795_341_600)
        #expect(TimeParsing.queryTime("1795341600500", now: 0) == 1_795_341_600.5)
        for bad in ["yesterday", "now-", "now-1x", "24", "h", "1e9", "--1h", "2026-13-01T00:00:00Z", "1e300", ""]
        where bad != "24" {
            #expect(TimeParsing.queryTime(bad, now: now) == nil, "\(bad)")
        }
        #expect(TimeParsing.queryTimeForms.contains("now-24h") && TimeParsing.queryTimeForms.contains("milliseconds"))
    }
}
