import Foundation

/// What `plumb load --json` prints: the scenario's settings, each step's counts, percentiles and histogram, the USL
/// fit and the thresholds. Keys are snake_case; an unset `rate` or `vus` is `null`.
public struct LoadReport: Encodable {
    public struct Scenario: Encodable {
        var name: String
        var path: String
        var target: String
        var model: String
        var connections: Int
        var rate: Double?
        var vus: Int?
        var duration: Double
        var warmup: Double
        var catchUp: Double
        var detectors: Int
        var perDetector: Double
        var clients: Int
        var roomSize: Int
        var perClient: Double

        enum CodingKeys: String, CodingKey {
            case name, path, target, model, connections, rate, vus, duration, warmup, detectors, clients
            case catchUp = "catch_up"
            case perDetector = "per_detector"
            case roomSize = "room_size"
            case perClient = "per_client"
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(name, forKey: .name)
            try c.encode(path, forKey: .path)
            try c.encode(target, forKey: .target)
            try c.encode(model, forKey: .model)
            try c.encode(connections, forKey: .connections)
            try c.encode(rate, forKey: .rate)  // null when unset
            try c.encode(vus, forKey: .vus)
            try c.encode(duration, forKey: .duration)
            try c.encode(warmup, forKey: .warmup)
            try c.encode(catchUp, forKey: .catchUp)
            try c.encode(detectors, forKey: .detectors)
            try c.encode(perDetector, forKey: .perDetector)
            try c.encode(clients, forKey: .clients)
            try c.encode(roomSize, forKey: .roomSize)
            try c.encode(perClient, forKey: .perClient)
        }
    }

    /// One point of the corrected latency histogram.
    public struct HistogramPoint: Encodable {
        var valueMs: Double
        var percentile: Double
        var count: UInt64

        enum CodingKeys: String, CodingKey {
            case percentile, count
            case valueMs = "value_ms"
        }
    }

    public struct Step: Encodable {
        var level: Double
        var seconds: Double
        var throughput: Double
        var completed: Int
        var errors: Int
        var unfinished: Int
        var errorRate: Double
        var bytesSent: Int
        var bytesReceived: Int
        var resent: Int
        var statuses: [String: Int]
        var latencyMs: [String: Double]
        var uncorrectedLatencyMs: [String: Double]
        var histogram: [HistogramPoint]
        var errorSamples: [String]

        enum CodingKeys: String, CodingKey {
            case level, seconds, throughput, completed, errors, unfinished, resent, statuses, histogram
            case errorRate = "error_rate"
            case bytesSent = "bytes_sent"
            case bytesReceived = "bytes_received"
            case latencyMs = "latency_ms"
            case uncorrectedLatencyMs = "uncorrected_latency_ms"
            case errorSamples = "error_samples"
        }
    }

    public struct Threshold: Encodable {
        var rule: String
        var passed: Bool
        /// -1 when the figure could not be measured.
        var measured: Double
    }

    public struct USL: Encodable {
        var lambda: Double
        var sigma: Double
        var kappa: Double
        var r2: Double
        /// -1 when the fit has no peak.
        var peakN: Double
        var peakThroughput: Double

        enum CodingKeys: String, CodingKey {
            case lambda, sigma, kappa, r2
            case peakN = "peak_n"
            case peakThroughput = "peak_throughput"
        }
    }

    var scenario: Scenario
    var level: String
    var steps: [Step]
    var thresholds: [Threshold]
    var passed: Bool
    var usl: USL?

    public init(_ o: LoadTest.Outcome) {
        let s = o.scenario
        scenario = Scenario(
            name: s.name, path: s.path.rawValue, target: s.target, model: s.isOpen ? "open" : "closed",
            connections: s.connections,
            rate: s.rate, vus: s.vus, duration: s.duration, warmup: s.warmup, catchUp: s.catchUp,
            detectors: s.detectors,
            perDetector: s.perDetector, clients: s.clients, roomSize: s.roomSize, perClient: s.perClient)
        level = LoadTest.levelName(s)
        steps = o.steps.map(Self.step)
        thresholds = o.thresholds.map {
            Threshold(rule: $0.0.description, passed: $0.1, measured: $0.2.isFinite ? $0.2 : -1)
        }
        passed = o.failed.isEmpty
        usl = o.usl.map { usl in
            USL(
                lambda: usl.lambda, sigma: usl.sigma, kappa: usl.kappa, r2: usl.r2,
                peakN: usl.peak.isFinite ? usl.peak : -1,
                peakThroughput: usl.peakThroughput.isFinite ? usl.peakThroughput : -1)
        }
    }

    static func step(_ step: LoadTest.Step) -> Step {
        let st = step.result.stats
        var histogram: [HistogramPoint] = []
        for v in st.corrected.percentiles(ticksPerHalfDistance: 5) {
            histogram.append(
                HistogramPoint(
                    valueMs: Double(v.value) / 1_000, percentile: v.percentile, count: UInt64(v.totalCountToThisValue)))
            if histogram.count > 200 { break }
        }
        return Step(
            level: step.level, seconds: step.result.seconds, throughput: step.result.throughput,
            completed: st.completed,
            errors: st.errors, unfinished: st.unfinished, errorRate: st.errorRate, bytesSent: st.bytesSent,
            bytesReceived: st.bytesReceived, resent: st.resent,
            statuses: Dictionary(uniqueKeysWithValues: st.statuses.map { (String($0.key), $0.value) }),
            latencyMs: st.summary(corrected: true), uncorrectedLatencyMs: st.summary(corrected: false),
            histogram: histogram,
            errorSamples: st.errorSamples)
    }

    /// Pretty-printed JSON with sorted keys.
    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }
}
