import PlumbHost
import Testing

/// EventBridge `rate()` and `cron()` expressions: parsing, errors, and the next firing time under a fixed clock
/// (expected times from an independent minute-by-minute reference).
@Suite struct ScheduleExpressionTests {
    /// 2026-11-22T10:00:30Z, a Sunday.
    static let t0: Int64 = 1_795_341_630

    struct Valid: CustomStringConvertible, Sendable {
        let expression: String
        let next: Int64?
        var description: String { expression }
    }

    static let valid: [Valid] = [
        Valid(expression: "rate(1 minute)", next: 1_795_341_660),
        Valid(expression: "rate(5 minutes)", next: 1_795_341_900),
        Valid(expression: "rate(1 hour)", next: 1_795_345_200),
        Valid(expression: "rate(2 days)", next: 1_795_392_000),
        Valid(expression: "cron(0/5 * * * ? *)", next: 1_795_341_900),
        Valid(expression: "cron(0 12 * * ? *)", next: 1_795_348_800),
        Valid(expression: "cron(15 10 ? * 6L 2026-2027)", next: 1_795_774_500),
        Valid(expression: "cron(0 18 ? * MON-FRI *)", next: 1_795_456_800),
        Valid(expression: "cron(0 8 1 * ? *)", next: 1_796_112_000),
        Valid(expression: "cron(0 9 ? * 2#1 *)", next: 1_796_634_000),
        Valid(expression: "cron(0 0 L * ? *)", next: 1_795_996_800),
        Valid(expression: "cron(0 0 15W * ? *)", next: 1_797_292_800),
        Valid(expression: "cron(0 0 LW * ? *)", next: 1_795_996_800),
        Valid(expression: "cron(30 23 31 12 ? 2026)", next: 1_798_759_800),
        Valid(expression: "cron(0 10 * JAN,JUL ? *)", next: 1_798_797_600),
        Valid(expression: "cron(*/10 8-10 * * ? *)", next: 1_795_342_200),
        Valid(expression: "cron(0,15,30,45 * * * ? *)", next: 1_795_342_500),
        Valid(expression: "cron(0 0 1 1 ? 2025)", next: nil),
    ]

    @Test(arguments: valid)
    func parsesAndFindsTheNextRun(_ c: Valid) throws {
        let schedule = try ScheduleExpression(c.expression)
        #expect(schedule.next(after: Self.t0) == c.next)
        if let next = c.next {
            // Strictly after: asking again at the firing time moves on.
            #expect((schedule.next(after: next) ?? .max) > next)
        }
    }

    @Test(arguments: [
        ("rate(0 minutes)", "positive"), ("rate(5 minute)", "plural"), ("rate(1 minutes)", "singular"),
        ("rate(5 weeks)", "unit"), ("rate(5)", "value and a unit"), ("cron(0 12 * * * *)", "exactly one of"),
        ("cron(0 12 ? * ? *)", "exactly one of"), ("cron(0 12 * *)", "6 fields"),
        ("cron(60 * * * ? *)", "outside 0-59"),
        ("cron(0 24 * * ? *)", "outside 0-23"), ("cron(0 0 32 * ? *)", "outside 1-31"),
        ("cron(0 0 * 13 ? *)", "outside 1-12"),
        ("cron(0 0 ? * 8 *)", "outside 1-7"), ("cron(0 0 ? * 3#6 *)", "DAY#N"),
        ("cron(0 0 * FOO ? *)", "not a number or a name"),
        ("cron(5-2 * * * ? *)", "backwards"), ("cron(*/0 * * * ? *)", "positive number"),
        ("every 5 minutes", "neither"),
        ("cron(0 0 * * ? 1969)", "outside 1970-2199"), ("cron(0 0 40W * ? *)", "W follows"),
    ])
    func invalidExpressionsSayWhy(_ text: String, _ fragment: String) {
        do {
            _ = try ScheduleExpression(text)
            Issue.record("'\(text)' was accepted")
        } catch {
            #expect(error.message.contains(fragment), "\(text): \(error.message)")
        }
    }

    @Test func aScheduleFiresOnTimeUnderAnInjectedClock() throws {
        // Every 5 minutes across an hour: 12 firings, each exactly on a 5-minute boundary.
        let schedule = try ScheduleExpression("cron(0/5 * * * ? *)")
        var now = Self.t0
        var fired: [Int64] = []
        while let next = schedule.next(after: now), next <= Self.t0 + 3_600 {
            fired.append(next)
            now = next
        }
        #expect(fired.count == 12)
        #expect(fired.allSatisfy { $0 % 300 == 0 })
        #expect(zip(fired, fired.dropFirst()).allSatisfy { $1 - $0 == 300 })
    }
}
