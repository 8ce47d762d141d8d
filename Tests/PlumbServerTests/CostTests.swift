import Foundation
import HummingbirdTesting
import PlumbAPI
import PlumbAlarms
import PlumbMetrics
import PlumbServer
import PlumbServerTesting
import PlumbTesting
import Testing

/// The price table and the cost computed from usage: the shipped file, and one month of a sample workload
/// recomputed by hand.
@Suite("Cost")
struct CostTests {
    @Test(
        "deploy/prices.yaml is the table the server uses without usage.prices, and states its date, region and source")
    func shippedTable() throws {
        let path = Checkout.root + "/deploy/prices.yaml"
        #expect(try PriceTable.load(path: path) == PriceTable.shipped)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.contains("date: \"\(PriceTable.shipped.aws.date)\""))
        #expect(text.contains("region: us-east-1"))
        #expect(text.contains("https://aws.amazon.com/lambda/pricing/"))
    }

    @Test("a price file naming unknown usage, or with a negative price, is refused naming the field")
    func badTables() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path + "/prices.yaml"
        let good = try String(contentsOfFile: Checkout.root + "/deploy/prices.yaml", encoding: .utf8)
        for (change, expected) in [
            ("\n    Requests: {usd: 0.20", "\n    Requestz: {usd: 0.20"),
            ("GBSeconds: {usd: 0.0000166667", "GBSeconds: {usd: -1"),
            ("memory_gb: 8", "memory_gb: 0"),
        ] {
            try good.replacingOccurrences(of: change, with: expected).write(
                toFile: path, atomically: true, encoding: .utf8)
            #expect(throws: ConfigError.self) { try PriceTable.load(path: path) }
        }
        do {
            try good.replacingOccurrences(of: "\n    Requests: {usd", with: "\n    Requestz: {usd").write(
                toFile: path, atomically: true, encoding: .utf8)
            _ = try PriceTable.load(path: path)
        } catch let error as ConfigError {
            #expect(error.message.contains("aws.prices.Requestz: no such usage series"))
        }
    }

    /// November 2026 (720 hours) of a sample workload, as the usage series hold it, costed window by window (an hour
    /// each) and compared with the figures worked out by hand from AWS's list prices.
    @Test("one month of a sample workload costs what it costs by hand, at AWS's prices and the host's")
    func handComputedMonth() async throws {
        let november: Int64 = 1_793_491_200  // 2026-11-01T00:00:00Z
        let december: Int64 = 1_796_083_200
        let clock = TestClock(november)
        let alerts = TemporaryDirectory()
        defer { alerts.remove() }
        // Two standard alarms, one high-resolution, one composite; and a budget, whose alarms CloudWatch does not
        // bill.
        try """
        alarms:
          - {name: a1, namespace: Test/Month, metric: m0, statistic: Average, period: 60, evaluation_periods: 1, comparison: GreaterThanThreshold, threshold: 1}
          - {name: a2, namespace: Test/Month, metric: m1, statistic: Average, period: 300, evaluation_periods: 1, comparison: GreaterThanThreshold, threshold: 1}
          - {name: fast, namespace: Test/Month, metric: m2, statistic: Average, period: 10, evaluation_periods: 1, comparison: GreaterThanThreshold, threshold: 1}
        composite_alarms:
          - {name: both, rule: "ALARM(a1) AND ALARM(a2)"}
        budgets:
          - name: month
            amount: 10
            thresholds: [{kind: actual, percent: 100}]
        """.write(toFile: alerts.path + "/month.yaml", atomically: true, encoding: .utf8)
        let alertsPath = alerts.path
        let hourly: (inout ServerConfig) -> Void = {
            $0.alerts = alertsPath
            $0.usage.intervalSeconds = 3_600
        }
        try await withTestServer(clock: clock, testing: .live, configure: hourly) { server, client in
            #expect(try await server.usage.catchUp() == 0)
            clock.advance(by: december - november + 600)
            // What the month used, one sample an hour as the metrics reporter would have stored it: 3 million
            // requests of a 512 MB function billed 120 ms each, 40,000 PutMetricData requests, 5 GiB of logs,
            // 150,000 mails and 2 million webhook deliveries; and ten custom metric series held all month.
            let hours = 720
            let usage: [(String, [PlumbAPI.Dimension], Double)] = [
                ("Requests", [.init(name: "Function", value: "probe.echo")], 3_000_000),
                ("GBSeconds", [.init(name: "Function", value: "probe.echo")], 3_000_000 * 0.120 * 0.5),
                ("MetricRequests", [], 40_000),
                ("LogBytesIngested", [.init(name: "LogGroup", value: "/month")], 5 * 1_073_741_824),
                ("EmailNotifications", [.init(name: "Topic", value: "mail")], 150_000),
                ("HTTPNotifications", [.init(name: "Topic", value: "hooks")], 2_000_000),
            ]
            var samples: [Sample] = []
            for hour in 0..<hours {
                let time = november + Int64(hour) * 3_600 + 1_800
                for (name, dimensions, total) in usage {
                    samples.append(
                        Sample(
                            series: SeriesKey(namespace: "Plumb/Usage", name: name, dimensions: dimensions),
                            timestamp: time, resolution: .high, value: .single(total / Double(hours))))
                }
            }
            // Ten custom series that receive data every hour (CloudWatch bills a metric for each hour it does).
            for hour in 0..<hours {
                for series in 0..<10 {
                    samples.append(
                        Sample(
                            series: SeriesKey(namespace: "Test/Month", name: "m\(series)"),
                            timestamp: november + Int64(hour) * 3_600 + 60, value: .single(0)))
                }
            }
            try await server.store.put(samples)
            #expect(try await server.usage.catchUp() == 720)

            // By hand: usage × price; a count held for 720 of the month's 730 priced hours.
            let held = 720.0 / 730.0
            let expected: [String: Double] = [
                "Requests": 3_000_000 * 0.20 / 1_000_000,
                "GBSeconds": 180_000 * 0.0000166667,
                "MetricRequests": 40_000 * 0.01 / 1_000,
                "LogBytesIngested": 5 * 0.50,
                "EmailNotifications": 150_000 * 2.00 / 100_000,
                "HTTPNotifications": 2_000_000 * 0.60 / 1_000_000,
                "CustomMetricSeries": 10 * 0.30 * held,
                "StandardAlarms": 2 * 0.10 * held,
                "HighResolutionAlarms": 1 * 0.30 * held,
                "CompositeAlarms": 1 * 0.50 * held,
            ]
            let hostByHand = 180_000 * 40 / (8 * 730 * 3_600.0)
            let range = "start=\(november)&end=\(december)"
            // As `plumb cost` prints it.
            let port = try #require(client.port)
            let run = try await CLI.run([
                "cost", "--start", "\(november)", "--end", "\(december)", "--by", "usage", "--output", "json",
                "--server", "http://localhost:\(port)", "--token", server.token,
            ])
            #expect(run.status == 0, "\(run.output)")
            let report = try JSONDecoder().decode(CostReport.self, from: Data(run.output.utf8))
            var byUsage: [String: CostRow] = [:]
            for row in report.rows { byUsage[row.group] = row }
            for (usage, dollars) in expected {
                let row = try #require(byUsage[usage], "no cost for \(usage)")
                #expect(abs(row.aws - dollars) <= 1e-9 * dollars, "\(usage): \(row.aws) vs \(dollars) by hand")
            }
            #expect(Set(byUsage.keys) == Set(expected.keys))
            let totalByHand = expected.values.reduce(0, +)
            #expect(abs(report.total.aws - totalByHand) <= 1e-9 * totalByHand)
            #expect(abs(report.total.host - hostByHand) <= 1e-9 * hostByHand)
            #expect(abs((byUsage["GBSeconds"]?.host ?? 0) - hostByHand) <= 1e-9 * hostByHand)
            #expect(report.prices.date == PriceTable.shipped.aws.date)
            print(
                "hand-computed month: AWS \(report.total.aws) (by hand \(totalByHand)), host \(report.total.host) (by hand \(hostByHand))"
            )

            // By function and by day: the same dollars, split.
            let byFunction = try JSONDecoder().decode(
                CostReport.self,
                from: Data(
                    buffer: try await client.admin("/api/v1/cost?\(range)&by=function", server: server).body))
            let echo = try #require(byFunction.rows.first { $0.group == "probe.echo" })
            #expect(abs(echo.aws - (expected["Requests"]! + expected["GBSeconds"]!)) <= 1e-9)
            let byDay = try JSONDecoder().decode(
                CostReport.self,
                from: Data(buffer: try await client.admin("/api/v1/cost?\(range)&by=day", server: server).body))
            #expect(byDay.rows.count == 30)
            #expect(abs(byDay.rows.reduce(0) { $0 + $1.aws } - totalByHand) <= 1e-9 * totalByHand)

            // The usage report gives back the month's amounts.
            let usageReport = try JSONDecoder().decode(
                UsageReport.self,
                from: Data(
                    buffer: try await client.admin("/api/v1/usage?\(range)&by=usage", server: server).body))
            let requests = try #require(usageReport.rows.first { $0.usage == "Requests" })
            #expect(abs(requests.amount - 3_000_000) < 1e-6)
            #expect(usageReport.rows.first { $0.usage == "CustomMetricSeries" }?.amount == 10)
            #expect(usageReport.rows.first { $0.usage == "StandardAlarms" }?.amount == 2)

            // The budget's figure for November is the month's whole cost.
            let figures = try await server.store.aggregates([
                AggregateRequest(
                    series: SeriesKey(
                        namespace: "Plumb/Budgets", name: "ActualCost",
                        dimensions: [.init(name: "Budget", value: "month")]),
                    period: 60, start: december - 3_600, end: december, distribution: false)
            ])
            let last = try #require(figures[0].max { $0.key < $1.key })
            #expect(abs(last.value.max - totalByHand) <= 1e-9 * totalByHand)

            // A restart (a new service on the same store) resumes after the last costed window: nothing is costed
            // twice, and the next window is costed once it has ended.
            let restarted = UsageService(
                store: server.store, settings: .init(interval: 3_600), alarms: server.alarms, leads: { true })
            #expect(try await restarted.catchUp() == 0)
            clock.advance(by: 3_600)
            #expect(try await restarted.catchUp() == 1)
            // A node that does not lead costs nothing.
            let follower = UsageService(
                store: server.store, settings: .init(interval: 3_600), alarms: server.alarms, leads: { false })
            clock.advance(by: 3_600)
            #expect(try await follower.catchUp() == 0)
        }
    }

    /// A burst of cost in the first hour of a month: no forecast until a day has passed (it would extrapolate one
    /// hour to the month), then the forecast is held at its peak while the rate falls, so its alarm is crossed once.
    @Test("a budget's forecast waits for forecast_after, then holds its peak through the period")
    func forecastPeak() async throws {
        let november: Int64 = 1_793_491_200
        let clock = TestClock(november)
        let alerts = TemporaryDirectory()
        defer { alerts.remove() }
        try """
        budgets:
          - {name: peak, amount: 1000, thresholds: [{kind: forecast, percent: 100}]}
        """.write(toFile: alerts.path + "/peak.yaml", atomically: true, encoding: .utf8)
        let alertsPath = alerts.path
        let hourly: (inout ServerConfig) -> Void = {
            $0.alerts = alertsPath
            $0.usage.intervalSeconds = 3_600
        }
        try await withTestServer(clock: clock, configure: hourly) { server, _ in
            #expect(try await server.usage.catchUp() == 0)
            // $200 of requests in the first hour, nothing after.
            try await server.store.put([
                Sample(
                    series: SeriesKey(namespace: "Plumb/Usage", name: "Requests"), timestamp: november + 1_800,
                    resolution: .high, value: .single(1_000_000_000))
            ])
            clock.advance(by: 48 * 3_600 + 600)
            #expect(try await server.usage.catchUp() == 48)
            let read = try await server.store.aggregates([
                AggregateRequest(
                    series: SeriesKey(
                        namespace: "Plumb/Budgets", name: "ForecastCost",
                        dimensions: [.init(name: "Budget", value: "peak")]),
                    period: 3_600, start: november, end: november + 48 * 3_600, distribution: false)
            ])[0]
            // None before a day has passed (the first is the window ending at 24 h, stamped in its last second); from
            // then on the peak, 200 × 720 h / 24 h, though the rate keeps falling.
            #expect(read.keys.min() == november + 23 * 3_600)
            #expect(read.count == 25)
            let peak = 200.0 * 720 / 24
            #expect(read.values.allSatisfy { abs($0.max - peak) < 1e-6 * peak }, "\(read.values.map(\.max))")
        }
    }

    @Test("budgets through the API: made, replaced, refused with the field named, kept across a restart, deleted")
    func budgetsAPI() async throws {
        let alerts = TemporaryDirectory()
        defer { alerts.remove() }
        try """
        budgets:
          - {name: filed, amount: 5, thresholds: [{kind: actual, percent: 100}]}
        """.write(toFile: alerts.path + "/filed.yaml", atomically: true, encoding: .utf8)
        let alertsPath = alerts.path
        let withBudgetFile: (inout ServerConfig) -> Void = { $0.alerts = alertsPath }
        try await withTestServer(configure: withBudgetFile) { server, client in
            let body = """
                {"amount": 50, "filter": {"function": "probe.echo"},
                 "thresholds": [{"kind": "forecast", "percent": 100}, {"kind": "actual", "percent": 80}]}
                """
            let made = try await client.admin("/api/v1/budgets/team", method: .put, body: body, server: server)
            #expect(made.status == .created, "\(made.text)")
            let status = try JSONDecoder().decode(BudgetStatus.self, from: Data(buffer: made.body))
            #expect(status.filter == ["Function": "probe.echo"])
            #expect(status.thresholds.map(\.alarm) == ["team forecast 100%", "team actual 80%"])
            #expect(server.alarms.status("team actual 80%") != nil)
            #expect(server.usage.budgets.map(\.name).sorted() == ["filed", "team"])

            // Replaced with one threshold: the other's alarm goes.
            let replaced = try await client.admin(
                "/api/v1/budgets/team", method: .put,
                body: #"{"amount": 60, "thresholds": [{"kind": "actual", "percent": 80}]}"#, server: server)
            #expect(replaced.status == .ok, "\(replaced.text)")
            #expect(server.alarms.status("team forecast 100%") == nil)
            if case .metric(let alarm) = server.alarms.status("team actual 80%")?.definition {
                #expect(alarm.threshold == 48)
            } else {
                Issue.record("the threshold is a metric alarm")
            }
            // What a restart reads back: the stored document is the same budget.
            guard case .api(let document) = server.alarms.status("team actual 80%")?.origin else {
                Issue.record("made through the API")
                return
            }
            let reread = BudgetParser.budget(storedDocument: document, reader: JSONConfigReader())
            #expect(reread?.amount == 60 && reread?.thresholds.count == 1)

            for (text, field) in [
                (#"{"amount": -1, "thresholds": [{"kind": "actual", "percent": 100}]}"#, "amount"),
                (#"{"amount": 5, "thresholds": [{"kind": "soon", "percent": 100}]}"#, "thresholds[0].kind"),
                (#"{"amount": 5, "thresholds": [{"kind": "actual", "percent": 100, "actions": ["nope"]}]}"#, "nope"),
                (#"{"name": "other", "amount": 5, "thresholds": [{"kind": "actual", "percent": 100}]}"#, "name"),
                ("[]", "a mapping"),
            ] {
                let refused = try await client.admin("/api/v1/budgets/bad", method: .put, body: text, server: server)
                #expect(refused.status == .badRequest && refused.text.contains(field), "\(text): \(refused.text)")
            }
            #expect(server.usage.budgets.map(\.name).sorted() == ["filed", "team"], "nothing made by a refusal")
            let filed = try await client.admin(
                "/api/v1/budgets/filed", method: .put,
                body: #"{"amount": 1, "thresholds": [{"kind": "actual", "percent": 1}]}"#,
                server: server)
            #expect(filed.status == .conflict)

            let deleted = try await client.admin("/api/v1/budgets/team", method: .delete, server: server)
            #expect(deleted.status == .noContent)
            #expect(server.alarms.status("team actual 80%") == nil)
            let again = try await client.admin("/api/v1/budgets/team", method: .delete, server: server)
            #expect(again.status == .notFound)
        }
    }

    @Test("budgets: parsed from alert files into one alarm per threshold; mistakes are named")
    func budgetParsing() {
        let (config, errors) = AlertFileParser.parse(
            """
            topics: [{name: ops}]
            budgets:
              - name: chat
                amount: 50
                period: monthly
                filter: {function: chat.message}
                thresholds:
                  - {kind: forecast, percent: 100, actions: [ops]}
                  - {kind: actual, percent: 80, actions: [ops]}
            """, file: "b.yaml")
        #expect(errors.isEmpty, "\(errors)")
        let budget = try? #require(config.budgets.first)
        #expect(budget?.filter == [.init(name: "Function", value: "chat.message")])
        #expect(config.alarms.map(\.name) == ["chat forecast 100%", "chat actual 80%"])
        if case .metric(let alarm) = config.alarms.last {
            #expect(alarm.threshold == 40)
            #expect(alarm.series.namespace == "Plumb/Budgets" && alarm.series.name == "ActualCost")
            #expect(alarm.actions.alarm == ["ops"])
        } else {
            Issue.record("a budget threshold is a metric alarm")
        }
        for (text, field) in [
            ("budgets: [{name: b, amount: -1, thresholds: [{kind: actual, percent: 100}]}]", "budgets[0].amount"),
            ("budgets: [{name: b, amount: 5}]", "budgets[0].thresholds"),
            (
                "budgets: [{name: b, amount: 5, thresholds: [{kind: later, percent: 100}]}]",
                "budgets[0].thresholds[0].kind"
            ),
            (
                "budgets: [{name: b, amount: 5, filter: {colour: red}, thresholds: [{kind: actual, percent: 1}]}]",
                "budgets[0].filter"
            ),
            (
                "budgets: [{name: b, amount: 5, period: weekly, thresholds: [{kind: actual, percent: 1}]}]",
                "budgets[0].period"
            ),
        ] {
            let (_, errors) = AlertFileParser.parse(text, file: "b.yaml")
            #expect(errors.contains { $0.field == field }, "\(text): \(errors)")
        }
    }

    @Test("a budget on a function tag counts the cost of the functions that carry it; tags are checked in the config")
    func tagFilter() throws {
        let (config, errors) = AlertFileParser.parse(
            "budgets: [{name: t, amount: 5, filter: {tag: team=chat}, thresholds: [{kind: actual, percent: 100}]}]",
            file: "t.yaml")
        #expect(errors.isEmpty, "\(errors)")
        let budget = try #require(config.budgets.first)
        let tags = ["chat.message": ["team": "chat"], "sentiment.classify": ["team": "ml"]]
        func cost(_ function: String?) -> SeriesKey {
            SeriesKey(
                namespace: "Plumb/Cost", name: "AWS",
                dimensions: (function.map { [PlumbAPI.Dimension(name: "Function", value: $0)] } ?? []) + [
                    .init(name: "Store", value: function == nil ? "logs" : "functions"),
                    .init(name: "Usage", value: function == nil ? "LogBytesIngested" : "Requests"),
                ])
        }
        #expect(budget.counts(cost("chat.message"), functionTags: tags))
        #expect(!budget.counts(cost("sentiment.classify"), functionTags: tags))
        #expect(!budget.counts(cost(nil), functionTags: tags))
        // Stored through the API and read back, the tag is kept.
        let stored = BudgetParser.storedDocument(budget, threshold: 0)
        #expect(BudgetParser.budget(storedDocument: stored, reader: JSONConfigReader()) == budget)
        let (_, bad) = AlertFileParser.parse(
            "budgets: [{name: t, amount: 5, filter: {tag: chat}, thresholds: [{kind: actual, percent: 100}]}]",
            file: "t.yaml")
        #expect(bad.contains { $0.field == "budgets[0].filter" && $0.message.contains("KEY=VALUE") }, "\(bad)")

        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path + "/plumb.yaml"
        try "functions:\n  probe.echo:\n    tags: {team: chat}\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try ServerConfig.load(path: path).functions["probe.echo"]?.tags == ["team": "chat"])
        try "functions:\n  probe.echo:\n    tags: {\"a=b\": x}\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: ConfigError.self) { try ServerConfig.load(path: path) }
    }

    @Test("a budget's period: the UTC month (or day) holding the time, and the forecast continues its rate")
    func budgetPeriods() {
        let budget = Budget(name: "b", amount: 10, period: .monthly, thresholds: [])
        // 2026-02-14T12:00:00Z: February 2026 has 28 days.
        let (start, length) = budget.periodBounds(containing: 1_771_070_400)
        #expect(start == 1_769_904_000)
        #expect(length == 28 * 86_400)
        #expect(Budget.forecast(actual: 2, elapsed: 7 * 86_400, length: 28 * 86_400) == 8)
        let daily = Budget(name: "d", amount: 1, period: .daily, thresholds: [])
        #expect(daily.periodBounds(containing: 1_771_070_400) == (1_771_027_200, 86_400))
    }
}
