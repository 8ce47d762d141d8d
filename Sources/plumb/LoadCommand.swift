import ArgumentParser
import Foundation
import PlumbLoad

/// `plumb load`: drives a scenario against a server and reports latency percentiles (coordinated-omission
/// corrected), throughput and, with --steps, the Universal Scalability Law fit.
struct LoadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Run a load test from a scenario file and report latency percentiles and throughput.",
        discussion: """
            SCENARIO is a file or a name looked up as loadtest/NAME.yaml (shipped: sentiment, classification, chat, \
            sensors, mixed). Flags override the file. The open model (a rate) measures latency from each request's \
            intended send time, so a stalled server is not hidden (coordinated omission); the uncorrected figures are \
            shown too. The first --warmup seconds are run but not counted.

            --steps runs the scenario once per level (rates for an open model, virtual users for a closed one, \
            detectors for sensors, clients for chat) and fits the Universal Scalability Law to the throughputs.

            Exit status: 0 when every threshold holds, 99 when one fails (each failed one is named), 1 on an error. \
            A run needs a bounded duration. Results are pushed to the server as metrics (namespace Plumb/LoadTest, \
            dimensions Scenario and Step) when an admin token is available.
            """)

    @Argument(help: "Scenario file or name (loadtest/NAME.yaml).") var scenario: String
    @Option(help: "Server URL (overrides the scenario's target).") var target: String?
    @Option(help: "Arrival rate per second: an open model at this constant rate.") var rate: Double?
    @Option(help: "Virtual users: a closed model with this many users.") var vus: Int?
    @Option(help: "Think time of each virtual user (e.g. 100ms).") var think: String?
    @Option(help: "Connections (open model).") var connections: Int?
    @Option(help: "Measured duration, e.g. 30s or 2m (the warm-up is part of it).") var duration: String?
    @Option(help: "Warm-up excluded from the results, e.g. 5s.") var warmup: String?
    @Option(
        name: .customLong("catch-up"),
        help: "A late connection sends at up to this many times its rate until on schedule (0: unbounded).")
    var catchUp: Double?
    @Option(help: "Requests in flight per connection (HTTP pipelining).") var pipeline: Int?
    @Option(help: "Detectors (sensors path).") var detectors: Int?
    @Option(help: "Chat clients (chat path).") var clients: Int?
    @Option(help: "Comma-separated levels for the scalability mode, e.g. 1,2,4,8,16.") var steps: String?
    @Option(help: "Add a threshold (repeatable), e.g. 'p99 < 50ms'.") var threshold: [String] = []
    @Option(help: "Write everything (config, steps, histograms, USL fit) as JSON to this file.") var json: String?
    @Option(
        name: .customLong("hdr-out"),
        help: "Write the corrected latency distribution (last step) in HdrHistogram's text format.") var hdrOut: String?
    @Option(
        help:
            "Admin token for the setup requests (registering detectors needs it) and for pushing results as metrics (default: $PLUMB_TOKEN or ./plumb-data/admin.token)."
    ) var token: String?
    @Flag(help: "Do not push results to the server as metrics.") var noPush = false
    @Flag(help: "No progress line.") var quiet = false

    func run() async throws {
        // One descriptor per connection: raise the soft file limit to the hard one.
        var limit = rlimit()
        if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max
            _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
        let file = LoadTest.resolve(scenario)
        var s: Scenario
        do { s = try Scenario.load(path: file) } catch { throw CLIError("\(error)") }
        if let target { s.target = target }
        if let rate {
            s.rate = rate
            s.vus = nil
            s.stages = []
        }
        if let vus {
            s.vus = vus
            s.rate = nil
            s.stages = []
        }
        if let think { s.think = try Self.seconds(think, "--think") }
        if let connections { s.connections = connections }
        if let duration {
            s.duration = try Self.seconds(duration, "--duration")
            s.stages = []
        }
        if let warmup { s.warmup = try Self.seconds(warmup, "--warmup") }
        if let catchUp { s.catchUp = catchUp }
        if let pipeline { s.pipeline = pipeline }
        if let detectors { s.detectors = detectors }
        if let clients { s.clients = clients }
        for t in threshold {
            do { s.thresholds.append(try Threshold(t)) } catch { throw CLIError("--threshold: \(error)") }
        }
        do { try s.validate(file: file) } catch { throw CLIError("\(error)") }
        var levels: [Double]?
        if let steps {
            let parsed = steps.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard !parsed.isEmpty, parsed.allSatisfy({ ($0 ?? 0) > 0 }) else {
                throw CLIError("--steps: positive numbers separated by commas, e.g. 1,2,4,8")
            }
            levels = parsed.map { $0! }
        }
        let interactive = isatty(2) == 1 && !quiet
        let log: @Sendable (String) -> Void = { line in
            FileHandle.standardError.write(Data(((interactive ? "\r\u{1B}[K" : "") + line + "\n").utf8))
        }
        var progress: (@Sendable (String, LoadProgress) -> Void)?
        if interactive {
            progress = { (step: String, p: LoadProgress) in
                let figures = String(
                    format: " %.0f/%.0f s  %.0f/s  errors %d  p99 %.2f ms", p.elapsed, p.total, p.rate, p.errors, p.p99)
                FileHandle.standardError.write(Data(("\r\u{1B}[K" + step + figures).utf8))
            }
        }
        let outcome: LoadTest.Outcome
        do {
            outcome = try await LoadTest.run(
                s, steps: levels, token: Self.token(token), push: !noPush, progress: progress, log: log)
        } catch {
            throw CLIError("\(error)")
        }
        if interactive { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        print(Report.text(outcome), terminator: "")
        if let json {
            let data = try LoadReport(outcome).json()
            try data.write(to: URL(fileURLWithPath: json))
        }
        if let hdrOut, let last = outcome.steps.last {
            try last.result.stats.hdrText().write(toFile: hdrOut, atomically: true, encoding: .utf8)
        }
        if !outcome.failed.isEmpty {
            FileHandle.standardError.write(
                Data("failed thresholds: \(outcome.failed.map(\.description).joined(separator: "; "))\n".utf8))
            throw ExitCode(99)
        }
    }

    static func seconds(_ text: String, _ flag: String) throws -> Double {
        guard let s = parseDuration(text) else {
            throw CLIError("\(flag): a duration like 30s, 2m or 500ms, got '\(text)'")
        }
        return s
    }

    static func token(_ given: String?) -> String? {
        if let given { return given }
        if let env = ProcessInfo.processInfo.environment["PLUMB_TOKEN"], !env.isEmpty { return env }
        let data = ProcessInfo.processInfo.environment["STATE_DIRECTORY"] ?? "./plumb-data"
        for path in [data + "/admin.token", "/var/lib/plumb/admin.token"] {
            if let text = try? String(contentsOfFile: path, encoding: .utf8) {
                return text.trimmingCharacters(in: .whitespacesAndNewlines)
            }
        }
        return nil
    }
}
