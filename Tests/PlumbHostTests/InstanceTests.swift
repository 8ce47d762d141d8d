import Foundation
import PlumbAPI
import PlumbHost
import PlumbKit
import PlumbMetrics
import PlumbPluginTesting
import PlumbTesting
import Testing

/// Instances (execution environments): cold starts, per-instance concurrency, provisioned concurrency, and the
/// autoscaler driving a real pool.
@Suite("Instances and provisioned concurrency")
struct InstanceTests {
    struct Fixture {
        let dir = TemporaryDirectory()
        let factory = PlumbMetricsFactory()
        let logs = CapturedLogs()
        let host: PluginHost

        init(options: [String: FunctionOptions] = [:], initMs: Int = 0, accountLimit: Int = 1_000) async throws {
            let logs = self.logs
            host = PluginHost(
                dataDirectory: dir.path, accountConcurrency: accountLimit, factory: factory,
                settings: ["coldprobe": ["init_ms": "\(initMs)"]], functionOptions: options,
                makeLogger: { logs.makeLogger($0) })
            try await host.load(ColdProbePlugin.self)
        }

        func function(_ name: String) throws -> HostedFunction {
            try #require(host.function(named: "coldprobe.\(name)"))
        }

        /// Counter totals and timer sample counts for one function since the last call.
        func metrics(_ function: String) -> [String: Double] {
            var out: [String: Double] = [:]
            for s in factory.takeSamples(timestamp: 0, validator: DatumValidator(limits: IngestLimits()))
            where s.series.dimensions.contains(Dimension(name: "Function", value: "coldprobe.\(function)")) {
                switch s.value {
                case .single(let v): out[s.series.name, default: 0] += v
                case .distribution(let a): out[s.series.name + ".count", default: 0] += a.count
                default: break
                }
            }
            return out
        }

        /// Starts `n` invocations of `hold` behind `gate` and waits until all of them are running.
        func hold(_ n: Int, gate: String, function: String = "hold") async throws -> Task<[Int], Never> {
            let f = try self.function(function)
            let host = self.host
            let task = Task {
                await withTaskGroup(of: Int.self) { group in
                    for _ in 0..<n {
                        group.addTask {
                            do {
                                return try await host.invoke(f, FunctionRequest(query: ["gate": gate])).status
                            } catch let e as FunctionError {
                                return e.status
                            } catch { return -1 }
                        }
                    }
                    return await group.reduce(into: []) { $0.append($1) }
                }
            }
            try await waitUntil("\(n) calls waiting at the gate") { Gate.named(gate).waiting == n }
            return task
        }
    }

    @Test("a function starts with one warm instance; concurrent calls beyond it are cold starts that say so in REPORT")
    func coldStarts() async throws {
        let fx = try await Fixture(initMs: 30)
        defer { fx.dir.remove() }
        let hold = try fx.function("hold")
        #expect(hold.pool.snapshot.instances == 1, "warmed at load")
        _ = fx.metrics("hold")

        let gate = "cold-\(UUID())"
        let held = try await fx.hold(3, gate: gate)
        #expect(hold.pool.snapshot.instances == 3)
        #expect(hold.pool.snapshot.coldStarts == 2)
        Gate.named(gate).open()
        #expect(await held.value == [200, 200, 200])

        let m = fx.metrics("hold")
        #expect(m["ColdStarts"] == 2)
        #expect(m["InitDuration.count"] == 2)
        #expect(m["Invocations"] == 3)
        let reports = fx.logs.all.filter { $0.message.hasPrefix("REPORT RequestId: ") }
        #expect(reports.count == 2, "by default only cold starts write REPORT: \(reports.map(\.message))")
        for r in reports {
            #expect(r.message.contains(" Init Duration: "))
            #expect(r.metadata["cold_start"] == "true")
            #expect(r.metadata["function"] == "coldprobe.hold")
            #expect(Double(r.metadata["init_duration_ms"] ?? "") ?? 0 >= 30)
        }

        // A warm call now: no cold start, no REPORT line; instances are reused.
        Gate.named(gate).open()
        _ = try await fx.host.invoke(hold, FunctionRequest(query: ["gate": gate]))
        #expect(hold.pool.snapshot.coldStarts == 2)
        #expect(fx.logs.all.filter { $0.message.hasPrefix("REPORT") }.count == 2)
    }

    @Test("report_log all writes a REPORT line for every invocation, with Duration and no Init Duration when warm")
    func reportAll() async throws {
        var options = FunctionOptions()
        options.reportLog = .all
        let fx = try await Fixture(options: ["coldprobe.work": options])
        defer { fx.dir.remove() }
        let work = try fx.function("work")
        for _ in 0..<3 { _ = try await fx.host.invoke(work, FunctionRequest(query: ["ms": "1"])) }
        let reports = fx.logs.all.filter { $0.message.hasPrefix("REPORT") }
        #expect(reports.count == 3)
        #expect(reports.allSatisfy { $0.message.contains("Duration: ") && !$0.message.contains("Init Duration") })
    }

    @Test("usage: each invocation is billed as Lambda bills it, a request and GB-seconds of its billed duration")
    func usageAsLambdaBillsIt() async throws {
        var options = FunctionOptions()
        options.reportLog = .all
        options.memoryMB = 1_536
        // A cold start of about 30 ms: the first invocation's init is billed with it.
        let fx = try await Fixture(options: ["coldprobe.work": options], initMs: 30)
        defer { fx.dir.remove() }
        let work = try fx.function("work")
        _ = fx.metrics("work")
        // The function starts with one warm instance: a second call beside the first is a cold start.
        let host = fx.host
        async let first = host.invoke(work, FunctionRequest(query: ["ms": "40"]))
        async let second = host.invoke(work, FunctionRequest(query: ["ms": "40"]))
        _ = try await (first, second)
        let n = 7
        for k in 2..<n { _ = try await fx.host.invoke(work, FunctionRequest(query: ["ms": "\(3 * k)"])) }
        let reports = fx.logs.all.map(\.message).filter { $0.hasPrefix("REPORT") }
        try #require(reports.count == n)
        /// The number after `field` in a REPORT line.
        func number(_ field: String, in line: String) -> Double? {
            guard let range = line.range(of: field + ": ") else { return nil }
            return Double(line[range.upperBound...].prefix { $0.isNumber || $0 == "." })
        }
        var billedTotal = 0.0
        for line in reports {
            let duration = try #require(number("Duration", in: line))
            let initDuration = number("Init Duration", in: line) ?? 0
            let billed = try #require(number("Billed Duration", in: line))
            #expect(number("Memory Size", in: line) == 1_536)
            // Lambda's rule from the printed figures (rounded to 0.01 ms): run plus init, up to the next millisecond.
            let exact = duration + initDuration
            #expect(billed == billed.rounded() && billed >= 1, "\(line)")
            #expect(billed >= exact - 0.01 && billed < exact + 1.01, "\(line)")
            billedTotal += billed
        }
        let cold = reports.filter { $0.contains("Init Duration") }
        try #require(cold.count == 1, "\(reports)")
        #expect(try #require(number("Billed Duration", in: cold[0])) >= 30 + 40, "the init is billed: \(cold[0])")
        let usage = fx.metrics("work")
        #expect(usage["Requests"] == Double(n))
        let gbSeconds = try #require(usage["GBSeconds"])
        #expect(abs(gbSeconds - 1.5 * billedTotal / 1_000) < 1e-9, "\(gbSeconds) GB-s for \(billedTotal) ms at 1.5 GB")
    }

    @Test("provisioned concurrency is billed while held, and invocations on it at the provisioned duration line")
    func provisionedUsage() async throws {
        var options = FunctionOptions()
        options.provisioned = 2
        options.memoryMB = 2_048
        let fx = try await Fixture(options: ["coldprobe.work": options])
        defer { fx.dir.remove() }
        let work = try fx.function("work")
        _ = fx.metrics("work")
        fx.host.scalingStep(now: 1_000, decide: false)
        fx.host.scalingStep(now: 1_010, decide: false)
        // 2 provisioned × 2 GB × 10 s; then a gap of 90 s (a stopped process) is not billed, the next 1 s is.
        #expect(fx.metrics("work")["ProvisionedConcurrencyGBSeconds"] == 40)
        fx.host.scalingStep(now: 1_100, decide: false)
        fx.host.scalingStep(now: 1_101, decide: false)
        #expect(fx.metrics("work")["ProvisionedConcurrencyGBSeconds"] == 4)
        _ = try await fx.host.invoke(work, FunctionRequest(query: ["ms": "5"]))
        let usage = fx.metrics("work")
        #expect(usage["Requests"] == 1)
        #expect((usage["ProvisionedDurationGBSeconds"] ?? 0) >= 2 * 0.005, "\(usage)")
        #expect(usage["GBSeconds"] == nil, "served by a provisioned instance: \(usage)")
    }

    @Test("billed milliseconds round up, include the init, and are 1 at least")
    func billedMilliseconds() {
        #expect(HostedFunction.billedMilliseconds(durationNanoseconds: 0, initNanoseconds: nil) == 1)
        #expect(HostedFunction.billedMilliseconds(durationNanoseconds: 1_000_000, initNanoseconds: nil) == 1)
        #expect(HostedFunction.billedMilliseconds(durationNanoseconds: 1_000_001, initNanoseconds: nil) == 2)
        #expect(HostedFunction.billedMilliseconds(durationNanoseconds: 2_500_000, initNanoseconds: 200_400_000) == 203)
        #expect(HostedFunction.gigabyteSeconds(memoryMB: 128, milliseconds: 1_000) == 0.125)
        #expect(HostedFunction.gigabyteSeconds(memoryMB: 10_240, milliseconds: 100) == 1)
    }

    @Test("max_concurrency_per_instance 4: four calls share one instance, the fifth starts another")
    func perInstanceConcurrency() async throws {
        var options = FunctionOptions()
        options.maxConcurrencyPerInstance = 4
        let fx = try await Fixture(options: ["coldprobe.hold": options])
        defer { fx.dir.remove() }
        let hold = try fx.function("hold")
        let gate = "per-\(UUID())"
        let four = try await fx.hold(4, gate: gate)
        #expect(hold.pool.snapshot.instances == 1)
        #expect(hold.pool.snapshot.coldStarts == 0)
        let gate2 = "per2-\(UUID())"
        let fifth = try await fx.hold(1, gate: gate2)
        #expect(hold.pool.snapshot.instances == 2)
        #expect(hold.pool.snapshot.coldStarts == 1)
        Gate.named(gate).open()
        Gate.named(gate2).open()
        _ = await four.value
        _ = await fifth.value
        #expect(hold.pool.snapshot.busySlots == 0)
    }

    @Test(
        "provisioned concurrency: instances kept warm, provisioned invocations and spillover counted, limits enforced")
    func provisioned() async throws {
        let fx = try await Fixture(initMs: 20)
        defer { fx.dir.remove() }
        let hold = try fx.function("hold")
        try await fx.host.setProvisionedConcurrency("coldprobe.hold", 2)
        #expect(hold.pool.snapshot.instances == 2, "the warm instance is promoted, one more created")
        #expect(hold.pool.snapshot.provisionedInstances == 2)
        _ = fx.metrics("hold")

        let gate = "prov-\(UUID())"
        let held = try await fx.hold(3, gate: gate)
        Gate.named(gate).open()
        _ = await held.value
        let m = fx.metrics("hold")
        #expect(m["ProvisionedConcurrencyInvocations"] == 2)
        #expect(m["ProvisionedConcurrencySpilloverInvocations"] == 1)
        #expect(m["ColdStarts"] == 1)

        // Provisioned utilisation comes from the autoscaler's sample.
        let gate2 = "prov2-\(UUID())"
        let one = try await fx.hold(1, gate: gate2)
        _ = fx.host.scalingStep(now: 0, decide: false)
        // That step's sample covers the time since the pool began, the three calls above included: only the next
        // window, with the one call held throughout, is checked.
        _ = fx.factory.takeSamples(timestamp: 0, validator: DatumValidator(limits: IngestLimits()))
        try await Task.sleep(for: .milliseconds(50))
        _ = fx.host.scalingStep(now: 1, decide: false)
        Gate.named(gate2).open()
        _ = await one.value
        let utilisation = fx.factory.takeSamples(timestamp: 0, validator: DatumValidator(limits: IngestLimits())).first
        {
            $0.series.name == "ProvisionedConcurrencyUtilization"
                && $0.series.dimensions.contains(Dimension(name: "Function", value: "coldprobe.hold"))
        }
        guard case .distribution(let a)? = utilisation?.value else {
            Issue.record("no utilisation sample")
            return
        }
        #expect(abs(a.max - 0.5) < 0.05, "one of two provisioned instances busy: \(a.max)")

        // Reserved must cover provisioned; provisioned must fit the reservation.
        #expect(throws: FunctionError.self) { try fx.host.setReservedConcurrency("coldprobe.hold", 1) }
        try fx.host.setReservedConcurrency("coldprobe.hold", 5)
        await #expect(throws: FunctionError.self) { try await fx.host.setProvisionedConcurrency("coldprobe.hold", 6) }
        // Lowering demotes idle instances to on-demand; they stay until the autoscaler reclaims them.
        try await fx.host.setProvisionedConcurrency("coldprobe.hold", 0)
        #expect(hold.pool.snapshot.provisionedInstances == 0)
        #expect(hold.pool.snapshot.instances == 3)
    }

    @Test("an initialiser that fails: the invocation gets InitError 500, counted as an error, its slot released")
    func initFailure() async throws {
        let fx = try await Fixture()
        defer { fx.dir.remove() }
        let hold = try fx.function("hold")
        let gate = "fail-\(UUID())"
        let held = try await fx.hold(1, gate: gate)
        let directory = fx.dir.path + "/plugins/coldprobe"
        ColdProbePlugin.failingInits.withLock { _ = $0.insert(directory) }
        defer { ColdProbePlugin.failingInits.withLock { _ = $0.remove(directory) } }
        _ = fx.metrics("hold")
        do {
            _ = try await fx.host.invoke(hold, FunctionRequest(query: ["gate": gate]))
            Issue.record("expected InitError")
        } catch let error as FunctionError {
            #expect(error.status == 500 && error.code == "InitError")
        }
        #expect(fx.metrics("hold")["Errors"] == 1)
        #expect(fx.host.limiter.inFlight("coldprobe.hold") == 1, "only the held call is in flight")
        #expect(hold.pool.snapshot.initFailures == 1)
        Gate.named(gate).open()
        _ = await held.value
    }

    @Test("a plugin whose initialiser fails stops load, so the server does not start half-working")
    func failingLoad() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        ColdProbePlugin.failingInits.withLock { _ = $0.insert(dir.path + "/plugins/coldprobe") }
        defer { ColdProbePlugin.failingInits.withLock { _ = $0.remove(dir.path + "/plugins/coldprobe") } }
        let host = PluginHost(dataDirectory: dir.path, factory: PlumbMetricsFactory())
        await #expect(throws: (any Error).self) { try await host.load(ColdProbePlugin.self) }
    }

    @Test("the autoscaler drives the pool: 10 in flight → 15 instances warm ahead; idle → halving, then zero")
    func autoscalerDrivesPool() async throws {
        let fx = try await Fixture()
        defer { fx.dir.remove() }
        let hold = try fx.function("hold")
        var activities: [PlumbHost.ScalingActivity] = []
        var now = 1_000.0
        func step(_ seconds: Int) {
            for _ in 0..<seconds {
                now += 1
                activities += fx.host.scalingStep(now: now, decide: Int(now) % 2 == 0).filter {
                    $0.function == "coldprobe.hold"
                }.map(\.activity)
            }
        }
        // The instance warmed at load is held through the scale-to-zero grace.
        step(4)
        #expect(hold.pool.snapshot.instances == 1)
        let gate = "scale-\(UUID())"
        let held = try await fx.hold(10, gate: gate)
        #expect(hold.pool.snapshot.instances == 10, "nine on-demand cold starts")
        step(8)
        let summary = activities.map { "\($0.from)→\($0.to) \($0.reason)" }
        #expect(activities.last?.to == 15, "ceil(10 / 0.7) = 15: \(summary)")
        #expect(activities.last?.reason.hasPrefix("rising") == true, "\(summary)")
        try await waitUntil { hold.pool.snapshot.instances == 15 }
        #expect(hold.pool.snapshot.coldStarts == 9, "warming ahead of demand is not a cold start")

        Gate.named(gate).open()
        _ = await held.value
        step(200)
        #expect(hold.pool.snapshot.instances == 0)
        let downs = activities.filter { $0.to < $0.from }
        #expect(downs.count >= 3)
        #expect(downs.allSatisfy { $0.to >= $0.from / 2 }, "\(downs.map { "\($0.from)→\($0.to)" })")
        #expect(
            zip(activities, activities.dropFirst()).allSatisfy { $0.to == $1.from || $1.from > $0.to },
            "activities chain, or cold starts added instances between them")
        #expect(hold.scaling.describe().activities.count == activities.count)
    }

    @Test(
        "panic with a real pool: 10 in flight on one 10-slot instance needs 2 → panic, and no scale-down while panicking"
    )
    func panicWithRealPool() async throws {
        var options = FunctionOptions()
        options.maxConcurrencyPerInstance = 10
        let fx = try await Fixture(options: ["coldprobe.hold": options])
        defer { fx.dir.remove() }
        let hold = try fx.function("hold")
        var activities: [PlumbHost.ScalingActivity] = []
        var now = 0.0
        func step(_ seconds: Int) {
            for _ in 0..<seconds {
                now += 1
                activities += fx.host.scalingStep(now: now, decide: Int(now) % 2 == 0).filter {
                    $0.function == "coldprobe.hold"
                }.map(\.activity)
            }
        }
        let gate = "panic-\(UUID())"
        let held = try await fx.hold(10, gate: gate)
        #expect(hold.pool.snapshot.instances == 1)
        step(8)
        #expect(hold.scaling.describe().panicking)
        #expect(
            activities.contains { $0.panicking && $0.to == 2 },
            "\(activities.map { "\($0.from)→\($0.to) \($0.reason)" })")
        try await waitUntil { hold.pool.snapshot.instances == 2 }
        Gate.named(gate).open()
        _ = await held.value
        step(40)
        #expect(hold.scaling.describe().panicking, "panic lasts a stable window after the last over-threshold tick")
        #expect(hold.pool.snapshot.instances == 2, "no scale-down while panicking")
        step(200)
        #expect(!hold.scaling.describe().panicking)
        #expect(hold.pool.snapshot.instances == 0)
    }

    @Test("autoscaling off: instances are created on demand and kept")
    func autoscalingOff() async throws {
        var options = FunctionOptions()
        options.autoscaling = false
        let fx = try await Fixture(options: ["coldprobe.hold": options])
        defer { fx.dir.remove() }
        let hold = try fx.function("hold")
        let gate = "off-\(UUID())"
        let held = try await fx.hold(5, gate: gate)
        Gate.named(gate).open()
        _ = await held.value
        for t in 0..<300 { _ = fx.host.scalingStep(now: Double(t), decide: t % 2 == 0) }
        #expect(hold.pool.snapshot.instances == 5)
        #expect(hold.scaling.describe().activities.isEmpty)
    }
}
