import ArgumentParser
import Foundation
import PlumbHost
import PlumbKit
import PlumbMetrics

/// A plugin with one function that does nothing, for measuring the host's own cost.
struct NoopPlugin: Plugin {
    static let name = "noop"
    static let functions: [Function<NoopPlugin>] = [
        .http(.post, "/", name: "noop") { _, _, _ in FunctionResponse(status: 200) }
    ]

    init(context: PluginContext) async throws {}
}

/// `plumb bench-invoke`: nanoseconds the invocation pipeline adds to a no-op function (admission, context,
/// metrics), measured against calling the same handler directly in the same process, and throughput with 64
/// concurrent callers.
struct BenchInvokeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-invoke", abstract: "Benchmark the host's per-invocation overhead on a no-op function.", shouldDisplay: false)

    @Option(help: "Invocations per measurement.") var invocations = 1_000_000
    @Option(help: "Concurrent callers for the throughput run.") var callers = 64
    @Option(help: "Rounds (the median is reported).") var rounds = 5

    func run() async throws {
        let directory = NSTemporaryDirectory() + "plumb-bench-invoke-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let host = PluginHost(dataDirectory: directory, factory: PlumbMetricsFactory())
        try await host.load(NoopPlugin.self)
        let function = host.function(named: "noop.noop")!
        let request = FunctionRequest()
        let handler: @Sendable (FunctionRequest) async throws -> FunctionResponse = { _ in FunctionResponse(status: 200) }

        var direct: [Double] = []
        var pipeline: [Double] = []
        var throughput: [Double] = []
        for _ in 0..<rounds {
            var started = ContinuousClock.now
            for _ in 0..<invocations { _ = try await handler(request) }
            direct.append(Self.nanos(ContinuousClock.now - started) / Double(invocations))

            started = ContinuousClock.now
            for _ in 0..<invocations { _ = try await host.invoke(function, request) }
            pipeline.append(Self.nanos(ContinuousClock.now - started) / Double(invocations))

            let per = invocations / callers
            started = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<callers {
                    group.addTask { for _ in 0..<per { _ = try await host.invoke(function, request) } }
                }
                try await group.waitForAll()
            }
            throughput.append(Double(per * callers) / (Self.nanos(ContinuousClock.now - started) / 1e9))
        }
        let d = Self.median(direct)
        let p = Self.median(pipeline)
        let result: [String: Any] = [
            "direct_call_ns": d, "pipeline_ns": p, "overhead_ns": p - d,
            "throughput_\(callers)_callers_per_second": Self.median(throughput), "invocations": invocations, "rounds": rounds,
        ]
        print(String(decoding: try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys, .prettyPrinted]), as: UTF8.self))
    }

    static func nanos(_ d: Duration) -> Double { Double(d.components.seconds) * 1e9 + Double(d.components.attoseconds) / 1e9 }

    static func median(_ v: [Double]) -> Double {
        let s = v.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
}
