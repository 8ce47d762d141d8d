import ArgumentParser
import Foundation
import PlumbAPI
import PlumbAlarms
import PlumbMetrics
import PlumbVictoriaMetrics

/// `plumb bench-alarms`: evaluates many alarms over a real metric store and reports the cost of a tick.
struct BenchAlarmsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-alarms",
        abstract: "Benchmark alarm evaluation: N alarms over stored metrics, wall and CPU time per evaluation tick.",
        discussion: """
            Creates a throwaway store in --data (or a temporary directory), writes --minutes of one-minute data for \
            --series series (flushed to disk, the last minutes left in the in-memory head), declares --alarms metric \
            alarms spread over those series (Sum/Average/Maximum/p90/p99, periods 60 and 300 s, N of 1 to 5, M of N, \
            all four missing-data treatments) and runs --ticks full evaluation ticks. Prints JSON. With \
            --victoriametrics URL the data goes to that VictoriaMetrics node instead (use a fresh one: the series \
            are written there and left).
            """,
        shouldDisplay: false)

    @Option(help: "Metric alarms.") var alarms = 10_000
    @Option(help: "Series the alarms watch.") var series = 1_000
    @Option(
        help: "Minutes of data per series (the longest windows, 5 periods of 300 s, need 25 before the first tick).")
    var minutes = 45
    @Option(help: "Samples per series per minute.") var samplesPerMinute = 6
    @Option(help: "Evaluation ticks to time (the median is reported).") var ticks = 5
    @Option(help: "Data directory (default: a temporary one, removed afterwards).") var data: String?
    @Option(
        help: "Give every alarm this statistic, a 60 s period and 3 of 3 datapoints (for a like-for-like peer run).")
    var statistic: String?
    @Option(help: "Keep the data in the VictoriaMetrics single node at this URL instead of a SQLite store.")
    var victoriametrics: String?

    func validate() throws {
        guard alarms > 0, series > 0, samplesPerMinute > 0, ticks > 0, minutes >= 6 + (ticks - 1) * 5 else {
            throw ValidationError(
                "--alarms, --series, --samples-per-minute and --ticks must be positive, and --minutes at least 6 + 5 per tick after the first (every tick reads data)"
            )
        }
        if let statistic, Statistic(statistic) == nil {
            throw ValidationError("--statistic '\(statistic)' is not a statistic")
        }
    }

    func run() async throws {
        let directory = data ?? NSTemporaryDirectory() + "plumb-bench-alarms-\(UUID().uuidString)"
        defer { if data == nil { try? FileManager.default.removeItem(atPath: directory) } }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let now = (Int64(Date().timeIntervalSince1970) / 300) * 300
        let store: any MetricStoring
        if let victoriametrics {
            store = try await VictoriaMetricsStore.connect(
                settings: VictoriaMetricsSettings(url: victoriametrics), clock: { now })
        } else {
            store = try MetricStore(directory: directory, durability: .normal, clock: { now })
        }
        var generator = SystemRandomNumberGenerator()
        let keys = (0..<series).map {
            SeriesKey(namespace: "Bench/Alarms", name: "Latency", dimensions: ["Series": "s\($0)"])
        }
        for minute in 0..<minutes {
            var batch: [Sample] = []
            let start = now - Int64(minutes - minute) * 60
            for key in keys {
                for i in 0..<samplesPerMinute {
                    batch.append(
                        Sample(
                            series: key, unit: .milliseconds, timestamp: start + Int64(i * 60 / samplesPerMinute),
                            value: .single(Double.random(in: 1...200, using: &generator))))
                }
            }
            try await store.put(batch)
            if minute == minutes - 3, let embedded = store as? MetricStore { try await embedded.flush() }
        }
        let statistics = ["Sum", "Average", "Maximum", "p90", "p99"]
        let treatments = TreatMissingData.allCases
        var config = AlarmConfiguration()
        for i in 0..<alarms where statistic != nil {
            config.alarms.append(
                .metric(
                    MetricAlarm(
                        name: "bench-\(i)", series: keys[i % series], statistic: Statistic(statistic!)!, period: 60,
                        evaluationPeriods: 3, comparison: .greaterThanThreshold, threshold: 150)))
        }
        for i in 0..<alarms where statistic == nil {
            let n = 1 + i % 5
            config.alarms.append(
                .metric(
                    MetricAlarm(
                        name: "bench-\(i)", series: keys[i % series],
                        statistic: Statistic(statistics[i % statistics.count])!,
                        period: i % 10 == 0 ? 300 : 60, evaluationPeriods: n, datapointsToAlarm: 1 + (i / 5) % n,
                        comparison: .greaterThanThreshold, threshold: Double(100 + i % 100),
                        treatMissingData: treatments[i % treatments.count])))
        }
        let engine = try await AlarmEngine(source: MetricStoreDataSource(store: store), store: nil)
        // Every tick reads data: the ticks are the last --ticks 5-minute boundaries the data reaches (ticking past
        // its end would time reads of empty windows).
        let firstTick = now - Int64(ticks - 1) * 300
        try await engine.install(config, now: firstTick)
        var walls: [Double] = []
        var cpus: [Double] = []
        var evaluated = 0
        for t in 0..<ticks {
            let tickTime = firstTick + Int64(t) * 300  // every alarm is due on a 5-minute boundary
            let cpuBefore = Self.cpuSeconds()
            let started = ContinuousClock.now
            let report = await engine.tick(now: tickTime)
            let wall = ContinuousClock.now - started
            walls.append(Double(wall.components.seconds) + Double(wall.components.attoseconds) / 1e18)
            cpus.append(Self.cpuSeconds() - cpuBefore)
            evaluated = report.evaluated
            guard report.failed == 0 else { throw ValidationError("\(report.failed) alarms failed to evaluate") }
        }
        let wall = Self.median(walls)
        let cpu = Self.median(cpus)
        try BenchOutput.print(
            Result(
                alarms: alarms, series: series, evaluatedPerTick: evaluated, ticks: ticks, tickWallSecondsMedian: wall,
                tickCPUSecondsMedian: cpu, alarmsPerSecond: Double(evaluated) / wall,
                cores: ProcessInfo.processInfo.activeProcessorCount, parallelism: engine.parallelism))
    }

    struct Result: Encodable {
        var alarms: Int
        var series: Int
        var evaluatedPerTick: Int
        var ticks: Int
        var tickWallSecondsMedian: Double
        var tickCPUSecondsMedian: Double
        var alarmsPerSecond: Double
        var cores: Int
        var parallelism: Int

        enum CodingKeys: String, CodingKey {
            case alarms, series, ticks, cores, parallelism
            case evaluatedPerTick = "evaluated_per_tick"
            case tickWallSecondsMedian = "tick_wall_seconds_median"
            case tickCPUSecondsMedian = "tick_cpu_seconds_median"
            case alarmsPerSecond = "alarms_per_second"
        }
    }

    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6 + Double(usage.ru_stime.tv_sec)
            + Double(usage.ru_stime.tv_usec) / 1e6
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty
            ? 0
            : sorted.count % 2 == 1
                ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }
}
