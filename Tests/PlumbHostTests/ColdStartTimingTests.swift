import Foundation
import PlumbHost
import PlumbKit
import PlumbMetrics
import PlumbPluginTesting
import PlumbTesting
import Synchronization
import Testing

/// The autoscaler against a real pool: a function whose initialiser takes 200 ms, driven by a ramp of concurrent
/// callers, once with the autoscaler (its real `Service`, sampling every second and deciding every 2 s) and once
/// without. Both run at the same time on the same machine.
///
/// The suite checks what must hold on any machine (every call answered, cold starts counted) on a short ramp. The
/// figure — the share of cold starts after the warm-up — depends on the machine and is printed, not asserted:
/// bench/coldstart.sh runs the full 24 s ramp (PLUMB_BENCH_COLDSTART=1) alone and prints it.
@Suite("Cold starts under a ramp (live)")
struct ColdStartTimingTests {
    struct Outcome: CustomStringConvertible {
        var invocationsAfterWarmup = 0
        var coldStartsAfterWarmup = 0
        var invocations = 0
        var coldStarts = 0
        var instances = 0
        var failures = 0
        var warmup = 0.0
        var fraction: Double {
            invocationsAfterWarmup == 0 ? 0 : Double(coldStartsAfterWarmup) / Double(invocationsAfterWarmup)
        }

        var description: String {
            "\(coldStartsAfterWarmup) cold starts in \(invocationsAfterWarmup) invocations after \(Int(warmup)) s "
                + "(\(String(format: "%.2f", fraction * 100)) %); all: \(coldStarts) in \(invocations), \(instances) instances at the end, \(failures) failures"
        }
    }

    final class Tally: Sendable {
        struct State {
            var after = 0, all = 0, failures = 0
            var coldAtWarmup: Int?
        }
        let state = Mutex(State())
    }

    /// Callers are added one every `rampStep` seconds from 2 up to `peak`; each loops on a 50 ms invocation.
    static func drive(
        autoscaling: Bool, seconds: Double = 24, peak: Int = 50, warmup: Double = 10
    ) async throws -> Outcome {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var options = FunctionOptions()
        options.autoscaling = autoscaling
        let host = PluginHost(
            dataDirectory: dir.path, factory: PlumbMetricsFactory(), settings: ["coldprobe": ["init_ms": "200"]],
            functionOptions: ["coldprobe.work": options])
        try await host.load(ColdProbePlugin.self)
        let work = try #require(host.function(named: "coldprobe.work"))
        let scaler = Task { try await AutoscalerService(host: host).run() }
        defer { scaler.cancel() }

        let started = ContinuousClock.now
        let end = started + .seconds(seconds)
        let warmEnd = started + .seconds(warmup)
        let counts = Tally()
        let rampStep = seconds / Double(peak - 2)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await Task.sleep(until: warmEnd)
                counts.state.withLock { $0.coldAtWarmup = work.pool.snapshot.coldStarts }
            }
            for caller in 0..<peak {
                group.addTask {
                    let startAt = started + .seconds(max(0, Double(caller - 1)) * rampStep)
                    try await Task.sleep(until: startAt)
                    while ContinuousClock.now < end {
                        let at = ContinuousClock.now
                        let ok = (try? await host.invoke(work, FunctionRequest(query: ["ms": "50"])))?.status == 200
                        counts.state.withLock { c in
                            c.all += 1
                            if at >= warmEnd { c.after += 1 }
                            if !ok { c.failures += 1 }
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        let snapshot = work.pool.snapshot
        let c = counts.state.withLock { $0 }
        return Outcome(
            invocationsAfterWarmup: c.after, coldStartsAfterWarmup: snapshot.coldStarts - (c.coldAtWarmup ?? 0),
            invocations: c.all, coldStarts: snapshot.coldStarts, instances: snapshot.instances, failures: c.failures,
            warmup: warmup)
    }

    /// The full ramp of the benchmark (bench/coldstart.sh), or a short one for the suite.
    static var benchmark: Bool { ProcessInfo.processInfo.environment["PLUMB_BENCH_COLDSTART"] == "1" }

    @Test(
        "init 200 ms, a ramp of callers with and without the autoscaler: every call answered, cold starts counted and reported"
    )
    func rampWithAndWithoutTheAutoscaler() async throws {
        let (seconds, peak, warmup) = Self.benchmark ? (24.0, 50, 10.0) : (8.0, 16, 4.0)
        async let on = Self.drive(autoscaling: true, seconds: seconds, peak: peak, warmup: warmup)
        async let off = Self.drive(autoscaling: false, seconds: seconds, peak: peak, warmup: warmup)
        let (withScaler, without) = try await (on, off)
        print("cold starts, autoscaler on:  \(withScaler)")
        print("cold starts, autoscaler off: \(without)")
        #expect(withScaler.failures == 0 && without.failures == 0)
        for outcome in [withScaler, without] {
            #expect(outcome.invocations > 0 && outcome.invocationsAfterWarmup > 0, "\(outcome)")
            // More callers than the one warm instance: some calls had to start an instance, and each start is counted.
            #expect(outcome.coldStarts >= 1 && outcome.instances >= 1, "\(outcome)")
            #expect(outcome.coldStartsAfterWarmup <= outcome.invocationsAfterWarmup, "\(outcome)")
        }
    }
}
