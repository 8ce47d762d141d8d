import Foundation
import PlumbAPI
import PlumbMetrics

/// Runs the `tests` of an alarm unit-test file (`plumb test-alarms`), as `promtool test rules` does for Prometheus.
///
/// Each test lists recorded series (one value per period, oldest first, `_` for missing), optional initial states,
/// and the states expected right after the last period. The server's loader reads the file and the alert files it
/// names (`AlarmTestRunner`) and hands the alarms and the test nodes here.
public enum AlarmTestCases {
    static let testKeys: Set<String> = ["name", "series", "initial_states", "expect"]
    static let seriesKeys: Set<String> = ["namespace", "metric", "dimensions", "period", "values"]

    /// Runs each test of `file` against `config`, whose actions may notify `topics`.
    public static func run(
        _ tests: [(node: ConfigNode, path: String)], file: String, config: AlarmConfiguration, topics: Set<String>
    ) async -> AlarmTestOutcome {
        var outcome = AlarmTestOutcome()
        let sink = ConfigErrorSink()
        for (node, path) in tests {
            guard let t = ConfigFields(node, path: path, file: file, sink: sink) else { continue }
            t.rejectUnknown(testKeys)
            let name = t.string("name") ?? path
            var series: [(key: SeriesKey, period: Int64, values: [Double?])] = []
            for (seriesNode, seriesPath) in t.list("series") {
                guard let s = ConfigFields(seriesNode, path: seriesPath, file: file, sink: sink) else { continue }
                s.rejectUnknown(seriesKeys)
                guard let namespace = s.string("namespace", required: true),
                    let metric = s.string("metric", required: true),
                    let period = s.int("period", required: true), let valuesText = s.string("values", required: true)
                else { continue }
                guard (1...86_400).contains(period) else {
                    s.error("period", "must be from 1 to 86400 seconds")
                    continue
                }
                var values: [Double?] = []
                for token in valuesText.split(whereSeparator: { $0 == " " || $0 == "," }) {
                    if token == "_" {
                        values.append(nil)
                    } else if let v = Double(token), v.isFinite {
                        values.append(v)
                    } else {
                        s.error("values", "'\(token)' is neither a number nor _")
                    }
                }
                series.append(
                    (
                        SeriesKey(namespace: namespace, name: metric, dimensions: s.stringMap("dimensions") ?? [:]),
                        Int64(period), values
                    ))
            }
            var initial: [String: AlarmState] = [:]
            for (alarm, value) in t.stringMap("initial_states") ?? [:] {
                guard let state = AlarmState(rawValue: value) else {
                    t.error("initial_states", "'\(value)' is not OK, ALARM or INSUFFICIENT_DATA")
                    continue
                }
                initial[alarm] = state
            }
            var expected: [String: AlarmState] = [:]
            for (alarm, value) in t.stringMap("expect") ?? [:] {
                guard let state = AlarmState(rawValue: value) else {
                    t.error("expect", "'\(value)' is not OK, ALARM or INSUFFICIENT_DATA")
                    continue
                }
                expected[alarm] = state
            }
            if expected.isEmpty { t.error("expect", "is required: alarm names and the states expected") }
            for alarm in Set(initial.keys).union(expected.keys)
            where !config.alarms.contains(where: { $0.name == alarm }) {
                t.error(nil, "no alarm named '\(alarm)' is declared")
            }
            guard sink.errors.isEmpty else {
                outcome.failures += sink.errors.map(\.description)
                sink.errors = []
                continue
            }
            let line = t.line
            let failures = await runOne(
                config: config, series: series, initial: initial, expected: expected, topics: topics)
            if failures.isEmpty {
                outcome.passed.append(name)
            } else {
                outcome.failures += failures.map { "\(file):\(line): test '\(name)': \($0)" }
            }
        }
        return outcome
    }

    /// Evaluates once, right after the last recorded period, and compares states.
    static func runOne(
        config: AlarmConfiguration, series: [(key: SeriesKey, period: Int64, values: [Double?])],
        initial: [String: AlarmState], expected: [String: AlarmState], topics: Set<String>
    ) async -> [String] {
        // A time aligned to every period involved, so each series ends exactly at the evaluation.
        var periods = series.map(\.period)
        for alarm in config.alarms { if case .metric(let a) = alarm { periods.append(a.period) } }
        let step = periods.reduce(Int64(60)) { lcm($0, $1) }
        let now = (1_800_000_000 / step + 1) * step
        var samples: [RecordedSeries.Sample] = []
        for s in series {
            for (i, value) in s.values.enumerated() {
                guard let value else { continue }
                samples.append(
                    .init(series: s.key, timestamp: now - Int64(s.values.count - i) * s.period, value: value))
            }
        }
        do {
            let engine = try await AlarmEngine(source: RecordedSeries(samples: samples), store: nil, parallelism: 1)
            try await engine.install(config, now: now - 1, topics: topics)
            for (name, state) in initial { engine.setInitialState(name, state) }
            await engine.tick(now: now)
            var failures: [String] = []
            for (name, want) in expected.sorted(by: { $0.key < $1.key }) {
                guard let status = engine.status(name) else { continue }
                if status.state != want {
                    failures.append(
                        "alarm '\(name)' expected \(want.rawValue), got \(status.state.rawValue) (\(status.reason))")
                }
            }
            return failures
        } catch {
            return ["\(error)"]
        }
    }

    static func lcm(_ a: Int64, _ b: Int64) -> Int64 {
        func gcd(_ a: Int64, _ b: Int64) -> Int64 { b == 0 ? a : gcd(b, a % b) }
        return a / gcd(a, b) * b
    }
}
