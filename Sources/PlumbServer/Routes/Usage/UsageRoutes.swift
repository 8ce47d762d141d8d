import Foundation
import Hummingbird
import PlumbAPI
import PlumbAlarms
import PlumbMetrics

/// `GET /api/v1/usage`, `GET /api/v1/cost` and `GET /api/v1/budgets`: what was used, what it cost, and where each
/// budget stands, read from the `Plumb/Usage`, `Plumb/Cost` and `Plumb/Budgets` series.
///
/// `start` and `end` take every time form of the API (default: this UTC month so far); `by` groups the rows
/// (usage: `usage` by default; cost: `store`). Daily sums come from the store's day periods: the hourly and daily
/// roll-ups are reads at those periods, so they hold whatever the metric store's retention keeps.
struct UsageRoutes {
    let store: any MetricStoring
    let usage: UsageService
    let alarms: AlarmEngine

    static let groupings = ["function", "store", "usage", "user", "group", "topic", "log_group", "day"]
    /// The longest range one report reads.
    static let maxRangeSeconds: Int64 = 400 * 86_400

    func register(api: RouterGroup<PlumbRequestContext>) {
        api.get("usage", use: usageReport)
        api.get("cost", use: costReport)
        api.get("budgets", use: budgets)
        api.put("budgets/:name", use: putBudget)
        api.delete("budgets/:name", use: deleteBudget)
    }

    /// Creates (201) or replaces (200) a budget: its thresholds become alarms made through the API, each storing the
    /// budget's document, so the budget outlives restarts and is the same on every node. A replaced budget's
    /// thresholds that are gone are deleted.
    @Sendable func putBudget(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        let name = try AlarmRoutes.name(context)
        guard !usage.isFileBudget(name) else {
            throw APIError(
                status: 409, code: "ResourceConflict",
                "budget '\(name)' is declared in an alert file; edit the file and reload")
        }
        let body = try await request.collectBody(limit: 64 * 1_024)
        guard !body.isEmpty else {
            throw APIError(code: "MissingParameter", "a JSON body describing the budget is required")
        }
        let budget: Budget
        switch BudgetParser.parseDocument(String(decoding: body, as: UTF8.self), name: name, reader: JSONConfigReader())
        {
        case .success(let parsed): budget = parsed
        case .failure(let errors):
            throw APIError(
                errors.errors.map { $0.field.isEmpty ? $0.message : "\($0.field): \($0.message)" }.joined(
                    separator: "; "))
        }
        let previous = usage.apiBudgets.first { $0.name == name }
        for (index, alarm) in budget.alarms.enumerated() {
            _ = try await alarms.put(
                name: alarm.name, document: BudgetParser.storedDocument(budget, threshold: index), now: store.clock())
        }
        let kept = Set(budget.alarms.map(\.name))
        for alarm in previous?.alarms ?? [] where !kept.contains(alarm.name) {
            try await alarms.delete(name: alarm.name)
        }
        return try .json(try await status(of: budget), status: previous == nil ? .created : .ok)
    }

    /// Deletes a budget made through the API, with its alarms.
    @Sendable func deleteBudget(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        let name = try AlarmRoutes.name(context)
        if usage.isFileBudget(name) {
            throw APIError(
                status: 409, code: "ResourceConflict",
                "budget '\(name)' is declared in an alert file; remove it from the file and reload")
        }
        guard let budget = usage.apiBudgets.first(where: { $0.name == name }) else {
            throw APIError(status: 404, code: "ResourceNotFound", "no budget named '\(name)'")
        }
        for alarm in budget.alarms where alarms.status(alarm.name) != nil {
            try await alarms.delete(name: alarm.name)
        }
        return Response(status: .noContent)
    }

    @Sendable func usageReport(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        let (start, end) = try range(request)
        let by = try grouping(request, default: "usage")
        let series = try await store.listMetrics(namespace: UsageCatalog.namespace, name: nil)
            .filter { UsageCatalog.store(of: $0.key.name) != nil }
        let reads = try await readDays(series.map(\.key), start: start, end: end)
        var rows: [String: UsageRow] = [:]
        for (info, periods) in zip(series, reads) where !periods.isEmpty {
            let name = info.key.name
            let storeName = UsageCatalog.store(of: name) ?? "-"
            // A count held is stored once a window: its amount is the most held; a counter's is the sum.
            for (day, amount) in amounts(periods, held: UsageCatalog.isHeld(name), byDay: by == "day") {
                let group = by == "day" ? day : groupValue(info.key, by: by, store: storeName, usage: name)
                rows[group + "\u{0}" + name, default: UsageRow(group: group, usage: name, store: storeName, amount: 0)]
                    .amount += amount
            }
        }
        let sorted = rows.values.sorted { ($0.group, $0.usage) < ($1.group, $1.usage) }
        return try .json(
            UsageReport(start: TimeParsing.format(start), end: TimeParsing.format(end), by: by, rows: sorted))
    }

    @Sendable func costReport(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        let (start, end) = try range(request)
        let by = try grouping(request, default: "store")
        let series = try await store.listMetrics(namespace: UsageService.costNamespace, name: nil)
            .filter { $0.key.name == "AWS" || $0.key.name == "Host" }
        let reads = try await readDays(series.map(\.key), start: start, end: end)
        var rows: [String: CostRow] = [:]
        var total = CostRow(group: "total", aws: 0, host: 0)
        for (info, periods) in zip(series, reads) {
            for (day, dollars) in amounts(periods, held: false, byDay: by == "day") {
                let group =
                    by == "day"
                    ? day
                    : groupValue(
                        info.key, by: by, store: info.key.value(of: "Store") ?? "-",
                        usage: info.key.value(of: "Usage") ?? "-")
                if info.key.name == "AWS" {
                    rows[group, default: CostRow(group: group, aws: 0, host: 0)].aws += dollars
                    total.aws += dollars
                } else {
                    rows[group, default: CostRow(group: group, aws: 0, host: 0)].host += dollars
                    total.host += dollars
                }
            }
        }
        let prices = usage.settings.prices
        return try .json(
            CostReport(
                start: TimeParsing.format(start), end: TimeParsing.format(end), by: by,
                prices: PriceSource(
                    region: prices.aws.region, date: prices.aws.date, source: prices.aws.source,
                    hostMonthlyUSD: prices.host.monthlyUSD, hostMemoryGB: prices.host.memoryGB),
                rows: rows.values.sorted { $0.group < $1.group }, total: total))
    }

    @Sendable func budgets(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        var statuses: [BudgetStatus] = []
        for budget in usage.budgets { statuses.append(try await status(of: budget)) }
        return try .json(BudgetList(budgets: statuses))
    }

    /// A budget with its latest figures this period (0 before anything was costed) and its alarms' states.
    func status(of budget: Budget) async throws -> BudgetStatus {
        let now = store.clock()
        let (periodStart, length) = budget.periodBounds(containing: now)
        let reads = try await store.aggregates(
            [Budget.Kind.actual, .forecast].map {
                AggregateRequest(
                    series: budget.series($0), period: 1, start: max(periodStart, now - 86_400), end: now + 1,
                    distribution: false)
            })
        func latest(_ periods: [Int64: Aggregate]) -> Double {
            periods.max { $0.key < $1.key }.map { $0.value.max } ?? 0
        }
        return BudgetStatus(
            name: budget.name, amount: budget.amount, period: budget.period.rawValue, prices: budget.prices.rawValue,
            filter: Dictionary(uniqueKeysWithValues: budget.filter.map { ($0.name, $0.value) }),
            periodStart: TimeParsing.format(periodStart), periodEnd: TimeParsing.format(periodStart + length),
            actual: latest(reads[0]), forecast: latest(reads[1]),
            thresholds: budget.thresholds.map { threshold in
                let alarm = budget.alarmName(threshold)
                return BudgetThreshold(
                    kind: threshold.kind.rawValue, percent: threshold.percent, alarm: alarm,
                    state: alarms.status(alarm)?.state.rawValue ?? "INSUFFICIENT_DATA")
            })
    }

    /// `start` and `end` (default: this UTC month up to now), at most `maxRangeSeconds` apart.
    func range(_ request: Request) throws -> (Int64, Int64) {
        let now = store.clock()
        let query = request.queryDictionary
        func time(_ name: String, _ fallback: Int64) throws -> Int64 {
            guard let text = query[name] else { return fallback }
            guard let value = TimeParsing.querySeconds(text, now: Double(now)) else {
                throw APIError("\(name) must be \(TimeParsing.queryTimeForms)")
            }
            return value
        }
        let end = try time("end", now + 1)
        let start = try time("start", TimeParsing.monthBounds(containing: now).start)
        guard start < end else { throw APIError("start must be before end") }
        guard end - start <= Self.maxRangeSeconds else { throw APIError("start to end must be at most 400 days") }
        return (start, end)
    }

    func grouping(_ request: Request, default value: String) throws -> String {
        guard let by = request.queryDictionary["by"] else { return value }
        guard Self.groupings.contains(by) else {
            throw APIError("by must be one of \(Self.groupings.joined(separator: ", "))")
        }
        return by
    }

    /// Day periods of each series over the range.
    func readDays(_ keys: [SeriesKey], start: Int64, end: Int64) async throws -> [[Int64: Aggregate]] {
        try await store.aggregates(
            keys.map { AggregateRequest(series: $0, period: 86_400, start: start, end: end, distribution: false) })
    }

    /// A series' amount over the range, or per day (`YYYY-MM-DD`): a counter's sum, the most of a count held.
    func amounts(_ periods: [Int64: Aggregate], held: Bool, byDay: Bool) -> [(String, Double)] {
        if byDay {
            return periods.sorted { $0.key < $1.key }.map {
                (String(TimeParsing.format($0.key).prefix(10)), held ? $0.value.max : $0.value.sum)
            }
        }
        if held { return periods.isEmpty ? [] : [("", periods.values.reduce(-Double.infinity) { max($0, $1.max) })] }
        return [("", periods.values.reduce(0) { $0 + $1.sum })]
    }

    func groupValue(_ key: SeriesKey, by: String, store: String, usage: String) -> String {
        switch by {
        case "store": store
        case "usage": usage
        case "function": key.value(of: "Function") ?? "-"
        case "user": key.value(of: "User") ?? "-"
        case "group": key.value(of: "Group") ?? "-"
        case "topic": key.value(of: "Topic") ?? "-"
        case "log_group": key.value(of: "LogGroup") ?? "-"
        default: "-"
        }
    }
}
