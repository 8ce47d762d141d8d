import Foundation
import Synchronization

/// A whole load test: setup requests, one run or a run per step, thresholds, and the report.
public enum LoadTest {
    public struct Step: Sendable {
        /// The level of the step: arrival rate (open), virtual users (closed), detectors (sensors) or clients (chat).
        public var level: Double
        public var result: RunResult
    }

    public struct Outcome: Sendable {
        public var scenario: Scenario
        public var steps: [Step]
        public var usl: USLFit?
        public var uslError: String?
        /// Thresholds on the last step, with whether each held.
        public var thresholds: [(Threshold, Bool, Double)]
        public var failed: [Threshold] { thresholds.filter { !$0.1 }.map(\.0) }
    }

    /// What the level of a step means for this scenario.
    public static func levelName(_ s: Scenario) -> String {
        switch s.path {
        case .sensors: "detectors"
        case .chat: "clients"
        case .http: s.isOpen ? "rate" : "VUs"
        }
    }

    public static func run(
        _ scenario: Scenario, steps: [Double]?, token: String?, push: Bool,
        progress: (@Sendable (String, LoadProgress) -> Void)?, log: @escaping @Sendable (String) -> Void
    ) async throws -> Outcome {
        let target = try Target(url: scenario.target)
        var context = GeneratorContext()
        context.detectors = max(scenario.detectors, Int(steps?.max() ?? 0))
        if let corpus = scenario.corpus { try context.loadCorpus(Self.resolve(corpus)) }
        try await setup(scenario, target: target, context: context, count: context.detectors, token: token, log: log)
        let levels: [Double] = steps ?? [-1]
        var results: [Step] = []
        let pusher = push ? MetricPusher(target: target, token: token, scenario: scenario.name, log: log) : nil
        for (i, level) in levels.enumerated() {
            let stepName =
                steps == nil ? "run" : "step \(i + 1)/\(levels.count) (\(levelName(scenario)) \(format(level)))"
            let result = try await runOnce(scenario, level: level < 0 ? nil : level, target: target, context: context) {
                p in
                progress?(stepName, p)
                pusher?.push(progress: p, step: steps == nil ? "run" : format(level))
            }
            let stepLevel = level >= 0 ? level : Self.defaultLevel(scenario)
            results.append(Step(level: stepLevel, result: result))
            await pusher?.pushSummary(result, step: steps == nil ? "run" : format(level))
            if steps != nil {
                log(
                    stepName
                        + String(
                            format: ": %.1f/s, p50 %.2f ms, p99 %.2f ms, errors %d", result.throughput,
                            result.stats.summary()["p50"] ?? 0, result.stats.summary()["p99"] ?? 0, result.stats.errors)
                )
            }
        }
        var usl: USLFit?
        var uslError: String?
        if steps != nil {
            do { usl = try USLFit.fit(results.map { ($0.level, $0.result.throughput) }) } catch {
                uslError = "\(error)"
            }
        }
        let last = results.last!.result
        let checks = scenario.thresholds.map { t in (t, t.holds(last), t.measured(last)) }
        return Outcome(scenario: scenario, steps: results, usl: usl, uslError: uslError, thresholds: checks)
    }

    static func defaultLevel(_ s: Scenario) -> Double {
        switch s.path {
        case .sensors: Double(s.detectors)
        case .chat: Double(s.clients)
        case .http: s.isOpen ? (s.rate ?? s.stages.last?.target ?? 0) : Double(s.vus ?? 1)
        }
    }

    static func format(_ level: Double) -> String {
        level == level.rounded() ? String(Int(level)) : String(format: "%.2f", level)
    }

    /// One run at `level` (nil: the scenario's own profile).
    static func runOnce(
        _ s: Scenario, level: Double?, target: Target, context: GeneratorContext,
        progress: @escaping @Sendable (LoadProgress) -> Void
    ) async throws -> RunResult {
        switch s.path {
        case .http:
            let profile = s.profile(level: level)
            let model: Model =
                s.isOpen ? .open(rate: profile, catchUp: s.catchUp) : .closed(vus: profile, think: s.think)
            var connections = s.connections
            if !s.isOpen { connections = Int((profile.stages.map(\.target) + [profile.start]).max() ?? 1) }
            var plan = RunPlan(target: target, connections: max(1, connections), model: model, warmup: s.warmup)
            plan.pipeline = s.pipeline
            let source = try RequestMix(
                entries: s.requests.map { ($0.name, $0.method, $0.path, $0.headers, $0.body, $0.weight) },
                host: target.host, context: context)
            return try await HTTPDriver.run(plan, source: source, progress: progress)
        case .sensors:
            let count = Int(level ?? Double(s.detectors))
            let plan = RunPlan(
                target: target, connections: count,
                model: .open(rate: .constant(Double(count) * s.perDetector, for: s.duration), catchUp: 0),
                warmup: s.warmup)
            var options = SensorDriver.Options(detectors: (0..<count).map(GeneratorContext.detectorID))
            options.perDetector = s.perDetector
            return try await SensorDriver.run(plan, options: options, progress: progress)
        case .chat:
            let count = Int(level ?? Double(s.clients))
            let plan = RunPlan(
                target: target, connections: count,
                model: .open(rate: .constant(Double(count) * s.perClient, for: s.duration), catchUp: 0),
                warmup: s.warmup)
            return try await ChatDriver.run(
                plan, options: .init(clients: count, roomSize: s.roomSize, perClient: s.perClient), progress: progress)
        }
    }

    /// Runs the scenario's setup requests (`repeat: N` or `repeat: detectors`, `{{i}}` the repetition), 16 at a
    /// time; 2xx and 409 (already there) are fine, anything else stops the test. Setup is an operator's job (it
    /// registers detectors, say): with an admin token, a request that sets no `Authorization` of its own carries it.
    static func setup(
        _ s: Scenario, target: Target, context: GeneratorContext, count: Int, token: String? = nil,
        log: @Sendable (String) -> Void
    ) async throws {
        for request in s.setup {
            let times = request.repeatCount < 0 ? count : request.repeatCount
            let path = try Template(request.path)
            let body = try request.body.map(Template.init)
            if times > 100 { log("setup: \(request.name) × \(times)") }
            let method = request.method
            let headers =
                request.headers
                + (token.map { token in
                    request.headers.contains(where: { $0.0.lowercased() == "authorization" })
                        ? [] : [("Authorization", "Bearer \(token)")]
                } ?? [])
            try await withThrowingTaskGroup(of: Void.self) { group in
                var next = 0
                var done = 0
                func add() {
                    let i = next
                    next += 1
                    group.addTask {
                        var rng = SplitMix64(seed: UInt64(i))
                        let p = String(decoding: path.render(&rng, context: context, index: i), as: UTF8.self)
                        let b = body?.render(&rng, context: context, index: i) ?? []
                        let (status, answer) = try await OneShotHTTP.send(
                            target, method: method, path: p, headers: headers, body: b)
                        guard (200..<300).contains(status) || status == 409 else {
                            throw LoadError(
                                "setup \(method) \(p) answered \(status): \(String(decoding: answer.prefix(300), as: UTF8.self))"
                            )
                        }
                    }
                }
                for _ in 0..<min(16, times) { add() }
                while try await group.next() != nil {
                    done += 1
                    if next < times { add() }
                    if times > 1_000 && done % 1_000 == 0 { log("setup: \(request.name) \(done)/\(times)") }
                }
            }
        }
    }

    /// A scenario name (`sentiment`) is looked up as `loadtest/NAME.yaml` here or in the installed share directory;
    /// a path is used as given.
    public static func resolve(_ name: String) -> String {
        if FileManager.default.fileExists(atPath: name) { return name }
        let executable = URL(fileURLWithPath: CommandLine.arguments.first ?? ".").resolvingSymlinksInPath()
            .deletingLastPathComponent().path
        for dir in [
            "loadtest", "share/plumb/loadtest", "/usr/share/plumb/loadtest", executable + "/../share/plumb/loadtest",
            "share/plumb",
        ] {
            for candidate in [dir + "/" + name, dir + "/" + name + ".yaml"]
            where FileManager.default.fileExists(atPath: candidate) { return candidate }
        }
        return name
    }
}

/// Sends the test's figures to the server as metrics (namespace `Plumb/LoadTest`, dimensions Scenario and Step):
/// throughput, errors and running p99 every second, and the final percentiles of each step.
final class MetricPusher: Sendable {
    let target: Target
    let token: String?
    let scenario: String
    let log: @Sendable (String) -> Void
    let warned = Atomic<Bool>(false)

    init(target: Target, token: String?, scenario: String, log: @escaping @Sendable (String) -> Void) {
        self.target = target
        self.token = token
        self.scenario = scenario
        self.log = log
        if token == nil { log("no admin token: results are not pushed as metrics (pass --token or set PLUMB_TOKEN)") }
    }

    func push(progress p: LoadProgress, step: String) {
        guard token != nil else { return }
        let data: [[String: Any]] = [
            datum("Throughput", p.rate, "Count/Second", step), datum("LatencyP99", p.p99, "Milliseconds", step),
            datum("Errors", Double(p.errors), "Count", step),
        ]
        Task { await send(data) }
    }

    func pushSummary(_ r: RunResult, step: String) async {
        guard token != nil else { return }
        var data = [
            datum("StepThroughput", r.throughput, "Count/Second", step),
            datum("ErrorRate", r.stats.errorRate * 100, "Percent", step),
        ]
        for (name, value) in r.stats.summary() { data.append(datum("Latency_\(name)", value, "Milliseconds", step)) }
        await send(data)
    }

    func datum(_ name: String, _ value: Double, _ unit: String, _ step: String) -> [String: Any] {
        [
            "name": name, "value": value.isFinite ? value : 0, "unit": unit,
            "dimensions": ["Scenario": scenario, "Step": step],
            "timestamp": Date().timeIntervalSince1970, "storageResolution": 1,
        ]
    }

    func send(_ data: [[String: Any]]) async {
        guard let token,
            let body = try? JSONSerialization.data(withJSONObject: ["namespace": "Plumb/LoadTest", "data": data])
        else { return }
        do {
            let (status, answer) = try await OneShotHTTP.send(
                target, method: "POST", path: "/api/v1/metrics",
                headers: [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")],
                body: Array(body), timeout: 5)
            if status >= 300 && !warned.exchange(true, ordering: .relaxed) {
                log("pushing metrics failed: \(status) \(String(decoding: answer.prefix(200), as: UTF8.self))")
            }
        } catch {
            if !warned.exchange(true, ordering: .relaxed) { log("pushing metrics failed: \(error)") }
        }
    }
}
