import ArgumentParser
import Foundation
import PlumbAPI
import PlumbAlarms

/// The range and grouping `plumb usage` and `plumb cost` send.
struct UsageQueryOptions: ParsableArguments {
    @Option(
        help: "Start of the range: RFC 3339, epoch seconds, 'now-7d', '24h' (that long ago). Default: this UTC month.")
    var start: String?

    @Option(help: "End of the range (same forms). Default: now.")
    var end: String?

    @Option(help: "Group rows by: function, store, usage, user, group, topic, log_group or day.")
    var by: String?

    var query: String {
        let parts = [("start", start), ("end", end), ("by", by)].compactMap { key, value in
            value.map { "\(key)=\(escape($0))" }
        }
        return parts.isEmpty ? "" : "?" + parts.joined(separator: "&")
    }
}

struct UsageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "usage", abstract: "What functions, stores and users used (GET /api/v1/usage).",
        discussion: """
            Reads the Plumb/Usage series: per function, requests and GB-seconds as Lambda bills them (memory_mb × \
            billed duration rounded up to the millisecond, init included), provisioned concurrency held, async \
            events; per store, metric samples and ingest requests, custom metric series and alarms held, log bytes \
            in CloudWatch Logs' billed size, notifications by protocol; API requests per IAM user and group. \
            Ingest and invocations made through the API are recorded for the calling user (--by user). \
            Counters are summed over the range; counts held (series, alarms) show the most held.

            Examples:
              plumb usage --by function
              plumb usage --by day --start now-7d
              plumb usage --by user --output json
            """)
    @OptionGroup var range: UsageQueryOptions
    @OptionGroup var client: ClientOptions

    func run() async throws {
        let (_, body) = try await client.request(.GET, "/api/v1/usage" + range.query)
        if client.output == .json { return client.printJSON(body) }
        let report = try client.decode(UsageReport.self, body)
        print("usage from \(report.start) to \(report.end), by \(report.by)")
        guard !report.rows.isEmpty else { return print("no usage recorded in that range") }
        print(
            table(
                [report.by.uppercased(), "USAGE", "STORE", "AMOUNT"],
                report.rows.map { [$0.group, $0.usage, $0.store, format($0.amount)] }))
    }
}

struct CostCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cost", abstract: "What the usage cost, at AWS's list prices and on this host (GET /api/v1/cost).",
        discussion: """
            Reads the Plumb/Cost series, which the server computes once a window (usage.interval_seconds) from \
            Plumb/Usage and the price table (deploy/prices.yaml, or usage.prices): AWS is what the same work would \
            cost at AWS's list prices (the table's region and date are printed), HOST is the machine's monthly \
            price spread over its function memory.

            Examples:
              plumb cost                      # this month, by store
              plumb cost --by function
              plumb cost --by day --start now-30d --output json
            """)
    @OptionGroup var range: UsageQueryOptions
    @OptionGroup var client: ClientOptions

    func run() async throws {
        let (_, body) = try await client.request(.GET, "/api/v1/cost" + range.query)
        if client.output == .json { return client.printJSON(body) }
        let report = try client.decode(CostReport.self, body)
        print("cost from \(report.start) to \(report.end), by \(report.by), in US dollars")
        print(
            "AWS: list prices of \(report.prices.region) on \(report.prices.date); HOST: $\(format(report.prices.hostMonthlyUSD)) a month over \(format(report.prices.hostMemoryGB)) GB"
        )
        print(
            table(
                [report.by.uppercased(), "AWS", "HOST"],
                (report.rows + [report.total]).map { [$0.group, dollars($0.aws), dollars($0.host)] }))
    }
}

struct BudgetsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "budgets", abstract: "Each budget with its actual and forecast cost (GET /api/v1/budgets).",
        discussion: """
            Budgets are declared in alert files (`budgets:`); each threshold is an alarm named \
            "BUDGET actual|forecast N%", listed by `plumb alarms` and notified through its topics.
            """)
    @OptionGroup var client: ClientOptions

    func run() async throws {
        let (_, body) = try await client.request(.GET, "/api/v1/budgets")
        if client.output == .json { return client.printJSON(body) }
        let list = try client.decode(BudgetList.self, body)
        guard !list.budgets.isEmpty else { return print("no budgets (declare them under budgets: in an alert file)") }
        print(
            table(
                ["BUDGET", "PERIOD", "AMOUNT", "ACTUAL", "FORECAST", "FILTER", "THRESHOLDS"],
                list.budgets.map { budget in
                    [
                        budget.name, budget.period, dollars(budget.amount), dollars(budget.actual),
                        dollars(budget.forecast),
                        budget.filter.isEmpty
                            ? "all"
                            : budget.filter.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
                                .joined(separator: ","),
                        budget.thresholds.map { "\($0.kind) \(format($0.percent))%: \($0.state)" }.joined(
                            separator: "; "),
                    ]
                }))
    }
}

func dollars(_ value: Double) -> String { Budget.dollars(value) }
