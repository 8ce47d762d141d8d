import Foundation
import Logging
import PlumbAPI
import PlumbAlarms
import PlumbLogs
import PlumbMetrics
import ServiceLifecycle
import Synchronization

/// Turns usage into cost, and cost into budget figures, once a window (`usage.interval_seconds`, a minute by
/// default), on one node of a cluster (the leader):
///
/// 1. counts what is held (custom metric series, alarms by kind) and stores it as `Plumb/Usage` for the window;
/// 2. reads the window's `Plumb/Usage` counters (requests, GB-seconds, samples, log bytes, notifications, …),
///    prices each series at the price table, and stores `Plumb/Cost/AWS` and `Plumb/Cost/Host` with the usage
///    series' dimensions plus `Usage` and `Store`;
/// 3. for each budget, stores the period's actual cost so far and its forecast (`Plumb/Budgets`), which the
///    budget's alarms watch.
///
/// A window is done a few seconds after it ends (the metrics reporter stores counters every second). Its cost is
/// stamped with the window's start, and a `Plumb/Cost/Windows` sample marks it done: after a restart (or on a new
/// leader) the service resumes after the last marked window, up to a day back, so no window is costed twice or
/// skipped.
public final class UsageService: Service, Sendable {
    public struct Settings: Sendable {
        public var interval: Int64
        public var prices: PriceTable
        /// Seconds after a window's end before it is read: the reporter's interval (1 s) and a margin for its write.
        public var settle: Int64 = 5
        /// Where the plugins keep their data (`<data>/plugins`): their blob directories are measured for
        /// `BlobBytesStored`, at most every `blobMeasureInterval` seconds.
        public var pluginsDirectory: String?
        public var blobMeasureInterval: Int64 = 300
        /// Each function's tags (`functions.NAME.tags`), for budgets filtered on a tag.
        public var functionTags: [String: [String: String]] = [:]

        public init(interval: Int64 = 60, prices: PriceTable = .shipped) {
            self.interval = interval
            self.prices = prices
        }
    }

    public static let costNamespace = "Plumb/Cost"
    static let windowsSeries = SeriesKey(namespace: costNamespace, name: "Windows")

    let store: any MetricStoring
    /// Measured for `LogBytesStored` (nil: not measured).
    let logs: (any LogStoring)?
    let settings: Settings
    let alarms: AlarmEngine
    let leads: @Sendable () -> Bool
    let logger = Logger(label: "plumb.usage")
    /// The budgets of the alert files in force (set on every reload).
    let fileBudgets = Mutex<[Budget]>([])
    /// The next window to cost (its start), once known.
    let next = Mutex<Int64?>(nil)
    /// Bytes each log group holds, and when they were measured.
    let logBytes = Mutex<(at: Int64, bytes: [String: Int])?>(nil)
    /// Bytes each plugin's blobs hold in each tier, and when they were measured.
    let blobBytes = Mutex<(at: Int64, bytes: [String: BlobTiers])?>(nil)

    struct BlobTiers: Sendable {
        var stored = 0
        var archived = 0
    }

    public init(
        store: any MetricStoring, logs: (any LogStoring)? = nil, settings: Settings, alarms: AlarmEngine,
        leads: @escaping @Sendable () -> Bool
    ) {
        self.store = store
        self.logs = logs
        self.settings = settings
        self.alarms = alarms
        self.leads = leads
    }

    /// The budgets in force: the alert files' and those made through the API (read from their alarms' stored
    /// documents, so every node of a cluster sees the same).
    public var budgets: [Budget] {
        let files = fileBudgets.withLock { $0 }
        return files + apiBudgets.filter { budget in !files.contains { $0.name == budget.name } }
    }

    /// Replaces the alert files' budgets (on every reload).
    public func setFileBudgets(_ list: [Budget]) { fileBudgets.withLock { $0 = list } }

    /// Budgets made through the API, one per name, from their threshold alarms.
    public var apiBudgets: [Budget] {
        var seen: Set<String> = []
        var list: [Budget] = []
        for status in alarms.list() {
            guard case .api(let document) = status.origin,
                let budget = BudgetParser.budget(storedDocument: document, reader: JSONConfigReader()),
                seen.insert(budget.name).inserted
            else { continue }
            list.append(budget)
        }
        return list.sorted { $0.name < $1.name }
    }

    /// Whether an alert file declares the budget `name`.
    public func isFileBudget(_ name: String) -> Bool { fileBudgets.withLock { $0.contains { $0.name == name } } }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            if leads() {
                do { try await catchUp() } catch {
                    logger.error("costing usage failed: \(error)")
                }
            } else {
                // A follower forgets its place: if it becomes the leader it resumes from the stored marks.
                next.withLock { $0 = nil }
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(1)) }
        }
    }

    /// Costs every window that has ended and settled; returns how many.
    @discardableResult
    public func catchUp() async throws -> Int {
        let interval = settings.interval
        let now = store.clock()
        var window: Int64
        if let known = next.withLock({ $0 }) {
            window = known
        } else {
            window = try await resumePoint(now: now)
            next.withLock { $0 = window }
            logger.info(
                "costing usage", metadata: ["from": "\(TimeParsing.format(window))", "window": "\(interval) s"])
        }
        var done = 0
        // The lease is checked before each window and again before its write (in `cost`): a node that lost it stops
        // at once, and the new leader takes up after the last window written.
        while window + interval + settings.settle <= now, done < 1_440, leads() {
            guard try await cost(window: window) else { break }
            window += interval
            next.withLock { $0 = window }
            done += 1
        }
        return done
    }

    /// The window after the last one marked done in the past day, else the window holding `now`. A mark's value is
    /// the end of its window, so the answer is exact even where the store has rolled the marks into minutes.
    func resumePoint(now: Int64) async throws -> Int64 {
        let interval = settings.interval
        let current = Checked.floorDivision(now, interval) * interval
        let read = try await store.aggregates([
            AggregateRequest(
                series: Self.windowsSeries, period: 3_600, start: current - 86_400, end: current + interval,
                distribution: false)
        ])
        let last = read.first?.values.map(\.max).max().flatMap { Int64(exactly: $0) }
        return last.map { max($0, current - 86_400) } ?? current
    }

    /// Costs one window `[start, start + interval)`; false (nothing written) when this node no longer leads.
    func cost(window start: Int64) async throws -> Bool {
        let interval = settings.interval
        let end = start + interval
        var samples: [Sample] = []
        // What is held, counted now and stored as this window's usage, each with the seconds it is priced for.
        var usage: [(key: SeriesKey, amount: Double, seconds: Int64)] = []
        func held(_ name: String, _ dimensions: [PlumbAPI.Dimension], _ amount: Int, unit: MetricUnit, seconds: Int64) {
            let key = SeriesKey(namespace: UsageCatalog.namespace, name: name, dimensions: dimensions)
            usage.append((key, Double(amount), seconds))
            samples.append(
                Sample(series: key, unit: unit, timestamp: start, resolution: .high, value: .single(Double(amount))))
        }
        for (name, count) in alarmCounts() { held(name, [], count, unit: .count, seconds: interval) }
        // CloudWatch bills a custom metric for each hour it receives data: counted once an hour, for the hour.
        if end % 3_600 == 0 {
            held("CustomMetricSeries", [], try await activeCustomSeries(hourEnding: end), unit: .count, seconds: 3_600)
        }
        for (group, bytes) in try await measuredLogs() {
            held(
                "LogBytesStored", [PlumbAPI.Dimension(name: "LogGroup", value: group)], bytes, unit: .bytes,
                seconds: interval)
        }
        for (plugin, tiers) in await measuredBlobs() {
            let dimensions = [PlumbAPI.Dimension(name: "Plugin", value: plugin)]
            held("BlobBytesStored", dimensions, tiers.stored, unit: .bytes, seconds: interval)
            held("BlobBytesArchived", dimensions, tiers.archived, unit: .bytes, seconds: interval)
        }
        // The counters of the window.
        let counters = try await store.listMetrics(namespace: UsageCatalog.namespace, name: nil)
            .filter { !UsageCatalog.isHeld($0.key.name) }
        let reads = try await store.aggregates(
            counters.map {
                AggregateRequest(series: $0.key, period: interval, start: start, end: end, distribution: false)
            })
        for (info, periods) in zip(counters, reads) {
            let amount = periods.values.reduce(0) { $0 + $1.sum }
            if amount != 0 { usage.append((info.key, amount, interval)) }
        }
        var windowCost: [SeriesKey: Double] = [:]
        for (key, amount, seconds) in usage {
            guard let storeName = UsageCatalog.store(of: key.name) else { continue }
            var dimensions = key.dimensions
            dimensions.append(Dimension(name: "Usage", value: key.name))
            dimensions.append(Dimension(name: "Store", value: storeName))
            let prices = settings.prices
            for (metric, dollars) in [
                ("AWS", prices.awsCost(usage: key.name, amount: amount, seconds: Double(seconds))),
                ("Host", prices.hostCost(usage: key.name, amount: amount)),
            ] {
                guard let dollars, dollars > 0 else { continue }
                let series = SeriesKey(
                    namespace: Self.costNamespace, name: metric, dimensions: dimensions.sorted { $0.name < $1.name })
                windowCost[series, default: 0] += dollars
            }
        }
        for (series, dollars) in windowCost.merging(Self.rollUps(windowCost), uniquingKeysWith: +) {
            samples.append(
                Sample(series: series, unit: .none, timestamp: start, resolution: .high, value: .single(dollars)))
        }
        samples += try await budgetFigures(windowStart: start, windowCost: windowCost)
        samples.append(
            Sample(
                series: Self.windowsSeries, unit: .none, timestamp: start, resolution: .high,
                value: .single(Double(end))))
        guard leads() else { return false }
        try await store.put(samples)
        return true
    }

    /// The window's cost summed for dashboards and alarms, which read one series each: `AWSTotal`, `AWSByStore`
    /// (`Store`) and `AWSByFunction` (`Function`), and the same for `Host`. Reports sum only `AWS` and `Host`.
    static func rollUps(_ cost: [SeriesKey: Double]) -> [SeriesKey: Double] {
        var sums: [SeriesKey: Double] = [:]
        for (series, dollars) in cost {
            let prefix = series.name
            sums[SeriesKey(namespace: costNamespace, name: prefix + "Total"), default: 0] += dollars
            for dimension in ["Store", "Function"] {
                guard let value = series.value(of: dimension) else { continue }
                let key = SeriesKey(
                    namespace: costNamespace, name: prefix + "By" + dimension,
                    dimensions: [PlumbAPI.Dimension(name: dimension, value: value)])
                sums[key, default: 0] += dollars
            }
        }
        return sums
    }

    /// Bytes each log group holds (`LogGroupSummary.storedBytes`), measured again when the last measure is older than
    /// `blobMeasureInterval` (the store sums every group's events to answer).
    func measuredLogs() async throws -> [String: Int] {
        guard let logs else { return [:] }
        let now = store.clock()
        if let last = logBytes.withLock({ $0 }), now - last.at < settings.blobMeasureInterval { return last.bytes }
        let bytes = Dictionary(
            try await logs.groups().map { ($0.name, $0.storedBytes) }, uniquingKeysWith: { first, _ in first })
        logBytes.withLock { $0 = (now, bytes) }
        return bytes
    }

    /// Bytes held by each plugin's blobs, in `blobs` and in the archive tier (`blobs-archive`), measured again when
    /// the last measure is older than `blobMeasureInterval`; the directories are walked off the cooperative pool.
    func measuredBlobs() async -> [String: BlobTiers] {
        guard let directory = settings.pluginsDirectory else { return [:] }
        let now = store.clock()
        if let last = blobBytes.withLock({ $0 }), now - last.at < settings.blobMeasureInterval { return last.bytes }
        let bytes = await withCheckedContinuation { continuation in
            DispatchQueue.global(qos: .utility).async { continuation.resume(returning: Self.walk(directory)) }
        }
        blobBytes.withLock { $0 = (now, bytes) }
        return bytes
    }

    static func walk(_ directory: String) -> [String: BlobTiers] {
        var bytes: [String: BlobTiers] = [:]
        let fileManager = FileManager.default
        for plugin in (try? fileManager.contentsOfDirectory(atPath: directory)) ?? [] {
            for archived in [false, true] {
                let root = directory + "/" + plugin + (archived ? "/blobs-archive" : "/blobs")
                guard let walker = fileManager.enumerator(atPath: root) else { continue }
                while walker.nextObject() != nil {
                    guard let attributes = walker.fileAttributes,
                        attributes[.type] as? FileAttributeType == .typeRegular, let size = attributes[.size] as? Int
                    else { continue }
                    if archived {
                        bytes[plugin, default: BlobTiers()].archived += size
                    } else {
                        bytes[plugin, default: BlobTiers()].stored += size
                    }
                }
            }
        }
        return bytes
    }

    /// Alarms by how CloudWatch prices them.
    func alarmCounts() -> [(String, Int)] {
        var standard = 0
        var highResolution = 0
        var composite = 0
        for status in alarms.list() {
            switch status.definition {
            case .metric(let alarm):
                // A budget's alarms are AWS Budgets' alerts, which CloudWatch does not bill.
                guard alarm.series.namespace != Budget.namespace else { continue }
                if alarm.period < 60 { highResolution += 1 } else { standard += 1 }
            case .composite: composite += 1
            }
        }
        return [("StandardAlarms", standard), ("HighResolutionAlarms", highResolution), ("CompositeAlarms", composite)]
    }

    /// Custom metric series (every namespace but Plumb's own, as CloudWatch counts every namespace but `AWS/`) that
    /// received a sample in the hour ending at `end`.
    func activeCustomSeries(hourEnding end: Int64) async throws -> Int {
        let custom = try await store.allSeries().filter { !$0.key.namespace.hasPrefix("Plumb/") }
        var active = 0
        for chunk in stride(from: 0, to: custom.count, by: 1_000) {
            let reads = try await store.aggregates(
                custom[chunk..<min(chunk + 1_000, custom.count)].map {
                    AggregateRequest(series: $0.key, period: 3_600, start: end - 3_600, end: end, distribution: false)
                })
            active += reads.count { !$0.isEmpty }
        }
        return active
    }

    /// Each budget's actual cost for its period up to the window's end, and the forecast, stamped with the window's
    /// last second (its period's, and recent enough for the budget's alarms to see in their latest period).
    func budgetFigures(windowStart: Int64, windowCost: [SeriesKey: Double]) async throws -> [Sample] {
        let budgets = self.budgets
        guard !budgets.isEmpty else { return [] }
        let end = windowStart + settings.interval
        let costSeries = try await store.listMetrics(namespace: Self.costNamespace, name: nil)
        var samples: [Sample] = []
        for budget in budgets {
            let (periodStart, length) = budget.periodBounds(containing: windowStart)
            let tags = settings.functionTags
            let counted = costSeries.map(\.key).filter { budget.counts($0, functionTags: tags) }
            // Earlier windows from the store; this window from memory (it is stored with these figures).
            let period: Int64 = budget.period == .monthly ? 86_400 : 3_600
            // The period's earlier forecasts ride along (last request): the figure written is their peak.
            let reads = try await store.aggregates(
                (counted + [budget.series(.forecast)]).map {
                    AggregateRequest(
                        series: $0, period: period, start: periodStart, end: windowStart, distribution: false)
                })
            var actual = reads.dropLast().reduce(0) { total, periods in
                total + periods.values.reduce(0) { $0 + $1.sum }
            }
            actual += windowCost.filter { budget.counts($0.key, functionTags: tags) }.values.reduce(0, +)
            samples.append(
                Sample(
                    series: budget.series(.actual), unit: .none, timestamp: end - 1, resolution: .high,
                    value: .single(actual)))
            // A forecast once enough of the period has passed to extrapolate (AWS Budgets waits for history too),
            // held at its peak through the period: it only rises, so each forecast threshold is crossed once a
            // period, as the actual cost's are.
            guard end - periodStart >= budget.forecastAfter else { continue }
            let earlierPeak = reads.last?.values.map(\.max).max() ?? 0
            let forecast = max(
                earlierPeak, Budget.forecast(actual: actual, elapsed: end - periodStart, length: length))
            samples.append(
                Sample(
                    series: budget.series(.forecast), unit: .none, timestamp: end - 1, resolution: .high,
                    value: .single(forecast)))
        }
        return samples
    }
}
