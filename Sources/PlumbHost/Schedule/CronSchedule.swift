import Foundation

/// The six fields of an EventBridge cron expression, expanded to sets.
public struct CronSchedule: Sendable, Equatable {
    var minutes: Set<Int>
    var hours: Set<Int>
    var years: Set<Int>
    var months: Set<Int>
    var dayOfMonth: DayOfMonth
    var dayOfWeek: DayOfWeek

    enum DayOfMonth: Sendable, Equatable {
        case any
        case days(Set<Int>)
        case last
        /// The weekday nearest to the day (`15W`), or the last weekday (`LW`, day 0).
        case nearestWeekday(Int)
    }

    enum DayOfWeek: Sendable, Equatable {
        case any
        /// 1 = Sunday … 7 = Saturday.
        case days(Set<Int>)
        /// `5L`: the last Thursday of the month.
        case last(Int)
        /// `3#2`: the second Tuesday.
        case nth(Int, Int)
    }

    static let monthNames = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    static let dayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]

    public init(_ text: String) throws(ScheduleError) {
        let fields = text.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard fields.count == 6 else {
            throw ScheduleError(
                "cron(…) takes 6 fields (minutes hours day-of-month month day-of-week year), not \(fields.count)")
        }
        minutes = try Self.set(fields[0], "minutes", 0...59)
        hours = try Self.set(fields[1], "hours", 0...23)
        months = try Self.set(fields[3], "month", 1...12, names: Self.monthNames)
        years = try Self.set(fields[5], "year", 1970...2199)
        let (dom, dow) = (fields[2], fields[4])
        guard (dom == "?") != (dow == "?") else {
            throw ScheduleError("exactly one of day-of-month and day-of-week must be '?' (got '\(dom)' and '\(dow)')")
        }
        if dom == "?" {
            dayOfMonth = .any
        } else if dom == "L" {
            dayOfMonth = .last
        } else if dom == "LW" {
            dayOfMonth = .nearestWeekday(0)
        } else if dom.hasSuffix("W") {
            guard let day = Int(dom.dropLast()), (1...31).contains(day) else {
                throw ScheduleError("day-of-month '\(dom)': W follows a day 1-31")
            }
            dayOfMonth = .nearestWeekday(day)
        } else {
            dayOfMonth = .days(try Self.set(dom, "day-of-month", 1...31))
        }
        if dow == "?" {
            dayOfWeek = .any
        } else if dow.contains("#") {
            let parts = dow.split(separator: "#")
            guard parts.count == 2, let day = Self.dayNumber(String(parts[0])), let nth = Int(parts[1]),
                (1...5).contains(nth)
            else {
                throw ScheduleError("day-of-week '\(dow)': use DAY#N with N from 1 to 5, like 3#2")
            }
            dayOfWeek = .nth(day, nth)
        } else if dow.hasSuffix("L"), dow.count > 1 {
            guard let day = Self.dayNumber(String(dow.dropLast())) else {
                throw ScheduleError("day-of-week '\(dow)': use DAYL, like 6L")
            }
            dayOfWeek = .last(day)
        } else if dow == "L" {
            dayOfWeek = .days([7])
        } else {
            dayOfWeek = .days(try Self.set(dow, "day-of-week", 1...7, names: Self.dayNames))
        }
    }

    static func dayNumber(_ text: String) -> Int? {
        if let n = Int(text), (1...7).contains(n) { return n }
        return dayNames.firstIndex(of: text.uppercased()).map { $0 + 1 }
    }

    /// `*`, `a`, `a-b`, `a/s`, `*/s`, `a-b/s`, comma-separated.
    static func set(
        _ field: String, _ name: String, _ range: ClosedRange<Int>, names: [String] = []
    ) throws(ScheduleError) -> Set<Int> {
        func value(_ text: Substring) throws(ScheduleError) -> Int {
            if let n = Int(text) {
                guard range.contains(n) else {
                    throw ScheduleError("\(name) '\(field)': \(n) is outside \(range.lowerBound)-\(range.upperBound)")
                }
                return n
            }
            if let i = names.firstIndex(of: text.uppercased()) { return range.lowerBound + i }
            throw ScheduleError("\(name) '\(field)': '\(text)' is not a number\(names.isEmpty ? "" : " or a name")")
        }
        var out: Set<Int> = []
        for part in field.split(separator: ",", omittingEmptySubsequences: false) {
            guard !part.isEmpty else { throw ScheduleError("\(name) '\(field)': empty list item") }
            let pieces = part.split(separator: "/", omittingEmptySubsequences: false)
            guard pieces.count <= 2 else { throw ScheduleError("\(name) '\(field)': more than one '/'") }
            var step = 1
            if pieces.count == 2 {
                guard let s = Int(pieces[1]), s > 0 else {
                    throw ScheduleError("\(name) '\(field)': the step after '/' must be a positive number")
                }
                step = s
            }
            let base = pieces[0]
            var low: Int
            var high: Int
            if base == "*" {
                (low, high) = (range.lowerBound, range.upperBound)
            } else if base.contains("-") {
                let ends = base.split(separator: "-", omittingEmptySubsequences: false)
                guard ends.count == 2 else { throw ScheduleError("\(name) '\(field)': a range is a-b") }
                low = try value(ends[0])
                high = try value(ends[1])
                guard low <= high else {
                    throw ScheduleError("\(name) '\(field)': the range \(low)-\(high) runs backwards")
                }
            } else {
                low = try value(base)
                high = pieces.count == 2 ? range.upperBound : low
            }
            for v in stride(from: low, through: high, by: step) { out.insert(v) }
        }
        return out
    }

    /// The first minute strictly after `time` (epoch seconds) that matches, searching up to the last allowed year.
    public func next(after time: Int64) -> Int64? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let start = (time / 60 + 1) * 60
        var day = calendar.startOfDay(for: Date(timeIntervalSince1970: TimeInterval(start)))
        let sortedHours = hours.sorted()
        let sortedMinutes = minutes.sorted()
        guard let lastYear = years.max() else { return nil }
        while true {
            let parts = calendar.dateComponents([.year, .month, .day, .weekday], from: day)
            let (year, month, dom, weekday) = (parts.year!, parts.month!, parts.day!, parts.weekday!)
            if year > lastYear { return nil }
            if years.contains(year), months.contains(month),
                matchesDay(year: year, month: month, day: dom, weekday: weekday, calendar: calendar)
            {
                let dayStart = Int64(day.timeIntervalSince1970)
                for h in sortedHours {
                    for m in sortedMinutes {
                        let t = dayStart + Int64(h * 3_600 + m * 60)
                        if t >= start { return t }
                    }
                }
            }
            day = calendar.date(byAdding: .day, value: 1, to: day)!
        }
    }

    func matchesDay(year: Int, month: Int, day: Int, weekday: Int, calendar: Calendar) -> Bool {
        let length = calendar.range(
            of: .day, in: .month, for: calendar.date(from: DateComponents(year: year, month: month, day: 1))!)!.count
        switch dayOfMonth {
        case .days(let set): if !set.contains(day) { return false }
        case .last: if day != length { return false }
        case .nearestWeekday(let target):
            if day
                != Self.nearestWeekday(
                    target == 0 ? length : min(target, length), year: year, month: month, length: length,
                    calendar: calendar)
            {
                return false
            }
        case .any: break
        }
        switch dayOfWeek {
        case .any: return true
        case .days(let set): return set.contains(weekday)
        case .last(let wanted): return weekday == wanted && day + 7 > length
        case .nth(let wanted, let n): return weekday == wanted && (day - 1) / 7 + 1 == n
        }
    }

    /// The weekday (Mon–Fri) nearest to `day` within the same month.
    static func nearestWeekday(_ day: Int, year: Int, month: Int, length: Int, calendar: Calendar) -> Int {
        let weekday = calendar.component(
            .weekday, from: calendar.date(from: DateComponents(year: year, month: month, day: day))!)
        switch weekday {
        case 7: return day > 1 ? day - 1 : day + 2  // Saturday → Friday, or Monday after the 1st
        case 1: return day < length ? day + 1 : day - 2  // Sunday → Monday, or Friday before the last day
        default: return day
        }
    }
}
