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
        commandName: "bench-invoke", abstract: "Benchmark the host's per-invocation overhead on a no-op function.",
        shouldDisplay: false)

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
        let handler: @Sendable (FunctionRequest) async throws -> FunctionResponse = { _ in FunctionResponse(status: 200)
        }

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
        try BenchOutput.print(
            Result(
                directCallNs: d, pipelineNs: p, callers: callers, throughput: Self.median(throughput),
                invocations: invocations,
                rounds: rounds),
            pretty: true)
    }

    /// The throughput's key names the number of callers: `throughput_8_callers_per_second`.
    struct Result: Encodable {
        var directCallNs: Double
        var pipelineNs: Double
        var callers: Int
        var throughput: Double
        var invocations: Int
        var rounds: Int

        struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: Key.self)
            try c.encode(directCallNs, forKey: Key(stringValue: "direct_call_ns"))
            try c.encode(pipelineNs, forKey: Key(stringValue: "pipeline_ns"))
            try c.encode(pipelineNs - directCallNs, forKey: Key(stringValue: "overhead_ns"))
            try c.encode(throughput, forKey: Key(stringValue: "throughput_\(callers)_callers_per_second"))
            try c.encode(invocations, forKey: Key(stringValue: "invocations"))
            try c.encode(rounds, forKey: Key(stringValue: "rounds"))
        }
    }

    static func nanos(_ d: Duration) -> Double {
        Double(d.components.seconds) * 1e9 + Double(d.components.attoseconds) / 1e9
    }

    static func median(_ v: [Double]) -> Double {
        let s = v.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
}
