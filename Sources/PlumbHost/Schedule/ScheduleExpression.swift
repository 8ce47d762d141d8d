import Foundation

/// An EventBridge schedule expression: `rate(5 minutes)` or `cron(0/5 * * * ? *)`, evaluated in UTC.
///
/// `rate()` fires on multiples of its period since the Unix epoch, so a restart keeps the same beat. `cron()` takes
/// EventBridge's six fields — minutes, hours, day-of-month, month, day-of-week, year — with `, - * / ?`, `L` and
/// `W` in day-of-month, `L` and `#` in day-of-week, month and day names; exactly one of day-of-month and
/// day-of-week must be `?`.
public enum ScheduleExpression: Sendable, Equatable, CustomStringConvertible {
    case rate(seconds: Int64, text: String)
    case cron(CronSchedule, text: String)

    public init(_ text: String) throws(ScheduleError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.hasPrefix("rate(") && trimmed.hasSuffix(")") {
            self = .rate(seconds: try Self.parseRate(String(trimmed.dropFirst(5).dropLast())), text: trimmed)
        } else if trimmed.hasPrefix("cron(") && trimmed.hasSuffix(")") {
            self = .cron(try CronSchedule(String(trimmed.dropFirst(5).dropLast())), text: trimmed)
        } else {
            throw ScheduleError("'\(text)' is neither rate(…) nor cron(…)")
        }
    }

    public var description: String {
        switch self {
        case .rate(_, let text), .cron(_, let text): text
        }
    }

    /// The first firing time strictly after `time` (epoch seconds), or nil when none is left (a past year).
    public func next(after time: Int64) -> Int64? {
        switch self {
        case .rate(let seconds, _): return (time / seconds + 1) * seconds
        case .cron(let schedule, _): return schedule.next(after: time)
        }
    }

    static func parseRate(_ body: String) throws(ScheduleError) -> Int64 {
        let parts = body.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 2 else { throw ScheduleError("rate(…) takes a value and a unit, like rate(5 minutes)") }
        guard let value = Int64(parts[0]), value > 0 else {
            throw ScheduleError("the rate value '\(parts[0])' must be a positive whole number")
        }
        let unit = String(parts[1])
        let seconds: Int64
        switch unit {
        case "minute", "minutes": seconds = 60
        case "hour", "hours": seconds = 3_600
        case "day", "days": seconds = 86_400
        default: throw ScheduleError("the rate unit '\(unit)' must be minute(s), hour(s) or day(s)")
        }
        if value == 1, unit.hasSuffix("s") {
            throw ScheduleError("a rate of 1 takes a singular unit: rate(1 \(unit.dropLast()))")
        }
        if value != 1, !unit.hasSuffix("s") {
            throw ScheduleError("a rate of \(value) takes a plural unit: rate(\(value) \(unit)s)")
        }
        return value * seconds
    }
}

/// A schedule expression that does not parse.
public struct ScheduleError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
