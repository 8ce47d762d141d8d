import Foundation
import PlumbAlarms
import PlumbMetrics
import PlumbServer
import PlumbTesting
import Synchronization
import Testing

/// Silences on a real `alarms.sqlite`: matching, limits, expiry and retention, and the engine holding a silenced
/// alarm's actions while running an unsilenced one's.
@Suite struct SilenceTests {
    let now: Int64 = 1_795_341_600

    @Test func matchersMatchExactNamesAndGlobs() {
        #expect(SilenceMatcher.alarm("sensors-no-data").matches("sensors-no-data"))
        #expect(!SilenceMatcher.alarm("sensors-no-data").matches("sensors-no-data-2"))
        let prefix = SilenceMatcher.pattern("sensors-*")
        #expect(prefix.matches("sensors-") && prefix.matches("sensors-no-data"))
        #expect(!prefix.matches("functions-errors") && !prefix.matches("my-sensors-x"))
        #expect(SilenceMatcher.pattern("*-latency").matches("api-p99-latency"))
        #expect(
            SilenceMatcher.pattern("a*b*c").matches("a-x-b-y-c")
                && !SilenceMatcher.pattern("a*b*c").matches("a-x-c-y-b"))
        #expect(SilenceMatcher.pattern("*").matches("anything at all"))
        #expect(SilenceMatcher.pattern("exact").matches("exact") && !SilenceMatcher.pattern("exact").matches("exactly"))
        // Many stars against a long non-match stays linear (it would take ages with naive backtracking).
        let name = String(repeating: "a", count: 5_000)
        #expect(!SilenceMatcher.pattern(String(repeating: "*a", count: 40) + "b").matches(name))
    }

    @Test func addExpireListAndPruneSurviveAReopen() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var id = ""
        do {
            let silences = try await Silences.load(from: try AlarmStore(directory: dir.path, durability: .full))
            let s = try await silences.add(
                .pattern("sensors-*"), duration: 7_200, createdBy: "user:ana", comment: "moving the rack", now: now)
            id = s.id
            #expect(s.startsAt == now && s.endsAt == now + 7_200 && s.state(at: now) == .active)
            #expect(silences.active(for: "sensors-no-data", at: now + 60)?.id == id)
            #expect(silences.active(for: "functions-errors", at: now + 60) == nil)
            #expect(silences.active(for: "sensors-no-data", at: now + 7_200) == nil, "the end is exclusive")
            for (matcher, duration, comment, field) in [
                (SilenceMatcher.alarm(""), Int64(60), "c", "alarm"),
                (.pattern(String(repeating: "x", count: 256)), 60, "c", "match"),
                (.alarm("a"), 0, "c", "duration"), (.alarm("a"), 367 * 86_400, "c", "duration"),
                (.alarm("a"), 60, " ", "comment"),
                (.alarm("a"), 60, "two\nlines", "comment"),
                (.alarm("a"), 60, String(repeating: "c", count: 1_001), "comment"),
            ] {
                await #expect(throws: AlarmError.self) {
                    try await silences.add(matcher, duration: duration, createdBy: "admin", comment: comment, now: now)
                }
                do {
                    _ = try await silences.add(
                        matcher, duration: duration, createdBy: "admin", comment: comment, now: now)
                } catch {
                    #expect(error.message.hasPrefix(field), "\(error.message)")
                }
            }
            #expect(silences.list(now: now).count == 1, "refused silences are not stored")
        }
        let silences = try await Silences.load(from: try AlarmStore(directory: dir.path, durability: .full))
        #expect(silences.active(for: "sensors-x", at: now + 10)?.comment == "moving the rack")
        let expired = try await silences.expire(id: id, by: "admin", now: now + 600)
        #expect(expired.endsAt == now + 600 && expired.expiredBy == "admin" && expired.state(at: now + 600) == .expired)
        #expect(silences.active(for: "sensors-x", at: now + 601) == nil)
        do {
            _ = try await silences.expire(id: id, by: "admin", now: now + 700)
            Issue.record("expiring twice must fail")
        } catch { #expect(error.status == 409) }
        do {
            _ = try await silences.expire(id: "nope", by: "admin", now: now)
            Issue.record("an unknown id must fail")
        } catch { #expect(error.status == 404) }
        // Expired silences stay listed for five days, then go (from memory and from the file).
        #expect(silences.list(now: now + 600 + 5 * 86_400).map(\.id) == [id])
        try await silences.prune(now: now + 601 + 5 * 86_400)
        #expect(silences.list(now: now + 601).isEmpty)
        #expect(try AlarmStore(directory: dir.path, durability: .full).load().silences.isEmpty)
    }

    final class Published: Sendable {
        let alarms = Mutex<[String]>([])
    }

    @Test func aSilencedTransitionIsHeldAndRecordedWhileAnotherRuns() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let published = Published()
        let engine = try await AlarmEngine(
            source: RecordedSeries(), store: try AlarmStore(directory: dir.path, durability: .full), parallelism: 1,
            runActions: { t in
                published.alarms.withLock { $0.append("\(t.alarm.name) \(t.newState.rawValue)") }
                return t.topics.map { AlarmEngine.ActionOutcome(topic: $0, messageId: "m") }
            })
        let (config, errors) = AlertFileParser.parse(
            """
            alarms:
              - {name: quiet-one, namespace: N, metric: M, statistic: Sum, period: 60, evaluation_periods: 1, comparison: GreaterThanThreshold, threshold: 0, alarm_actions: [ops], ok_actions: [ops]}
              - {name: loud-one, namespace: N, metric: M, statistic: Sum, period: 60, evaluation_periods: 1, comparison: GreaterThanThreshold, threshold: 0, alarm_actions: [ops], severity: critical}
            """, file: "t.yaml")
        #expect(errors.isEmpty, "\(errors)")
        try await engine.install(config, now: now, extraTopics: ["ops"])
        let silence = try await engine.silences.add(
            .pattern("quiet-*"), duration: 3_600, createdBy: "admin", comment: "maintenance", now: now)

        try await engine.setState("quiet-one", .alarm, reason: "test", now: now + 1)
        try await engine.setState("loud-one", .alarm, reason: "test", now: now + 1)
        #expect(published.alarms.withLock { $0 } == ["loud-one ALARM"])
        let held = try await engine.history(of: "quiet-one", type: "Action")
        #expect(held.first?.summary == "Notification held by silence \(silence.id)")
        let data = try #require(
            held.first?.data.flatMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] })
        #expect(
            data["topics"] as? [String] == ["ops"] && data["comment"] as? String == "maintenance"
                && data["newState"] as? String == "ALARM")
        #expect(
            try await engine.history(of: "quiet-one", type: "StateUpdate").first?.summary
                == "Alarm updated from INSUFFICIENT_DATA to ALARM",
            "the state still changes; only the notification is held")

        _ = try await engine.silences.expire(id: silence.id, by: "admin", now: now + 2)
        try await engine.setState("quiet-one", .ok, reason: "test", now: now + 3)
        #expect(published.alarms.withLock { $0 } == ["loud-one ALARM", "quiet-one OK"])
        if case .metric(let loud) = engine.status("loud-one")?.definition {
            #expect(loud.severity == "critical")
        } else {
            Issue.record("loud-one")
        }
    }
}
