import Foundation
import Yams

/// A scenario file (`loadtest/*.yaml`): what to drive, how hard, for how long, and what must hold.
public struct Scenario: Sendable {
    public enum Path: String, Sendable { case http, sensors, chat }

    public struct Request: Sendable {
        public var name: String
        public var method: String
        public var path: String
        public var headers: [(String, String)]
        public var body: String?
        public var weight: Double
        /// Setup requests only: how many times (a number, or `detectors`).
        public var repeatCount: Int
    }

    public var name: String
    public var description: String
    public var path: Path
    public var target: String
    public var connections: Int
    /// Open model: arrivals per second (the start of `stages`, or constant).
    public var rate: Double?
    /// Closed model: virtual users.
    public var vus: Int?
    public var think: Double
    public var stages: [Profile.Stage]
    public var duration: Double
    public var warmup: Double
    public var catchUp: Double
    public var pipeline: Int
    public var requests: [Request]
    public var setup: [Request]
    public var corpus: String?
    public var detectors: Int
    public var perDetector: Double
    public var clients: Int
    public var roomSize: Int
    public var perClient: Double
    public var thresholds: [Threshold]

    public var isOpen: Bool { vus == nil }

    /// Reads and validates a scenario; errors name the file and the field.
    public static func load(path file: String) throws -> Scenario {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw LoadError("\(file): cannot read the file")
        }
        return try parse(text, file: file)
    }

    public static func parse(_ text: String, file: String) throws -> Scenario {
        let node: Any?
        do { node = try Yams.load(yaml: text) } catch { throw LoadError("\(file): not valid YAML: \(error)") }
        guard let y = node as? [String: Any] else { throw LoadError("\(file): a scenario is a mapping of fields") }
        func fail(_ field: String, _ message: String) -> LoadError { LoadError("\(file): \(field): \(message)") }
        let known: Set<String> = [
            "version", "name", "description", "path", "target", "connections", "rate", "vus", "think", "stages",
            "duration", "warmup",
            "catch_up", "pipeline", "requests", "setup", "corpus", "detectors", "per_detector", "clients", "room_size",
            "per_client", "thresholds",
        ]
        if let unknown = y.keys.sorted().first(where: { !known.contains($0) }) { throw fail(unknown, "unknown field") }
        if let version = y["version"], "\(version)" != "1" { throw fail("version", "only version 1 is known") }
        func number(_ key: String, _ fallback: Double?) throws -> Double? {
            guard let v = y[key] else { return fallback }
            if let d = v as? Double { return d }
            if let i = v as? Int { return Double(i) }
            throw fail(key, "must be a number")
        }
        func seconds(_ key: String, _ fallback: Double) throws -> Double {
            guard let v = y[key] else { return fallback }
            guard let s = parseDuration("\(v)") else { throw fail(key, "must be a duration like 30s, 2m or 500ms") }
            return s
        }
        func requests(_ key: String) throws -> [Request] {
            guard let list = y[key] else { return [] }
            guard let items = list as? [[String: Any]] else { throw fail(key, "must be a list of requests") }
            return try items.enumerated().map { i, r in
                let field = "\(key)[\(i)]"
                guard let path = r["path"] as? String, path.hasPrefix("/") else {
                    throw fail(field + ".path", "must start with /")
                }
                let method = ((r["method"] as? String) ?? "GET").uppercased()
                guard ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"].contains(method) else {
                    throw fail(field + ".method", "unknown method \(method)")
                }
                var headers: [(String, String)] = []
                if let h = r["headers"] as? [String: Any] { headers = h.keys.sorted().map { ($0, "\(h[$0]!)") } }
                var repeatCount = 1
                if let rep = r["repeat"] {
                    if let n = rep as? Int, n >= 1 {
                        repeatCount = n
                    } else if "\(rep)" == "detectors" {
                        repeatCount = -1
                    } else {
                        throw fail(field + ".repeat", "a positive number or 'detectors'")
                    }
                }
                let weight = (r["weight"] as? Double) ?? (r["weight"] as? Int).map(Double.init) ?? 1
                guard weight > 0 else { throw fail(field + ".weight", "must be positive") }
                let body: String?
                if let b = r["body"] as? String {
                    body = b
                } else if let b = r["body"] {
                    body = String(
                        decoding: try JSONSerialization.data(withJSONObject: b, options: [.sortedKeys]), as: UTF8.self)
                } else {
                    body = nil
                }
                if let body { _ = try Template(body) }
                _ = try Template(path)
                if body != nil, !headers.contains(where: { $0.0.lowercased() == "content-type" }) {
                    headers.append(("Content-Type", "application/json"))
                }
                return Request(
                    name: (r["name"] as? String) ?? "\(method) \(path)", method: method, path: path, headers: headers,
                    body: body,
                    weight: weight, repeatCount: repeatCount)
            }
        }
        let pathName = (y["path"] as? String) ?? "http"
        guard let path = Path(rawValue: pathName) else {
            throw fail("path", "one of http, sensors, chat")
        }
        var stages: [Profile.Stage] = []
        if let list = y["stages"] {
            guard let items = list as? [[String: Any]] else { throw fail("stages", "a list of {duration, target}") }
            stages = try items.enumerated().map { i, s in
                guard let d = s["duration"].flatMap({ parseDuration("\($0)") }), d > 0 else {
                    throw fail("stages[\(i)].duration", "a positive duration")
                }
                guard let t = (s["target"] as? Double) ?? (s["target"] as? Int).map(Double.init), t >= 0 else {
                    throw fail("stages[\(i)].target", "a number ≥ 0")
                }
                return Profile.Stage(duration: d, target: t)
            }
        }
        let vus = try number("vus", nil).map { Int($0) }
        let rate = try number("rate", nil)
        if vus != nil && rate != nil {
            throw fail("vus", "give either rate (open model) or vus (closed model), not both")
        }
        if let rate, rate <= 0 { throw fail("rate", "must be positive") }
        if let vus, vus < 1 { throw fail("vus", "must be at least 1") }
        var thresholds: [Threshold] = []
        if let list = y["thresholds"] {
            guard let items = list as? [String] else {
                throw fail("thresholds", "a list of expressions like 'p99 < 50ms'")
            }
            thresholds = try items.map { text in
                do { return try Threshold(text) } catch { throw fail("thresholds", "\(error)") }
            }
        }
        let scenario = Scenario(
            name: (y["name"] as? String) ?? ((file as NSString).lastPathComponent as NSString).deletingPathExtension,
            description: (y["description"] as? String) ?? "",
            path: path, target: (y["target"] as? String) ?? "http://127.0.0.1:9400",
            connections: Int(try number("connections", 16)!), rate: rate, vus: vus, think: try seconds("think", 0),
            stages: stages,
            duration: try seconds("duration", 30), warmup: try seconds("warmup", 5),
            catchUp: try number("catch_up", 10)!,
            pipeline: Int(try number("pipeline", 1)!), requests: try requests("requests"), setup: try requests("setup"),
            corpus: y["corpus"] as? String, detectors: Int(try number("detectors", 100)!),
            perDetector: try number("per_detector", 2)!,
            clients: Int(try number("clients", 100)!), roomSize: Int(try number("room_size", 10)!),
            perClient: try number("per_client", 1)!,
            thresholds: thresholds)
        try scenario.validate(file: file)
        return scenario
    }

    /// Checks the fields together (also after command-line overrides).
    public func validate(file: String) throws {
        func fail(_ field: String, _ message: String) -> LoadError { LoadError("\(file): \(field): \(message)") }
        if path == .http && requests.isEmpty { throw fail("requests", "an http scenario needs at least one request") }
        if corpus == nil,
            let r = requests.first(where: { ($0.body.flatMap { try? Template($0) }?.usesCorpus ?? false) })
        {
            throw fail("corpus", "request '\(r.name)' uses {{sentence}}: name a corpus file of sentences")
        }
        if connections < 1 || connections > 100_000 { throw fail("connections", "between 1 and 100000") }
        if duration <= 0 && stages.isEmpty { throw fail("duration", "a bounded, positive duration is required") }
        if warmup < 0 || (stages.isEmpty && warmup >= duration) {
            throw fail("warmup", "must be shorter than the duration")
        }
        if catchUp < 0 { throw fail("catch_up", "must be ≥ 0 (0: as fast as answers come)") }
        if pipeline < 1 || pipeline > 128 { throw fail("pipeline", "between 1 and 128") }
        if path == .http && isOpen && rate == nil && stages.isEmpty {
            throw fail("rate", "an open-model scenario needs a rate (or give vus for a closed model)")
        }
        if path == .sensors && (detectors < 1 || perDetector <= 0) {
            throw fail("detectors", "at least one detector and a positive per_detector rate")
        }
        if path == .chat && (clients < 2 || roomSize < 2 || perClient <= 0) {
            throw fail("clients", "at least 2 clients, rooms of at least 2, a positive per_client rate")
        }
    }

    /// The load over time: stages when given, else constant at the rate (or VUs) for the duration.
    public func profile(level: Double? = nil) -> Profile {
        if let level { return .constant(level, for: duration) }
        let start = isOpen ? (rate ?? 0) : Double(vus ?? 1)
        if stages.isEmpty { return .constant(start, for: duration) }
        return Profile(start: start, stages: stages)
    }
}

/// `30s`, `2m`, `500ms`, `1h`, or a bare number of seconds.
public func parseDuration(_ text: String) -> Double? {
    let t = text.trimmingCharacters(in: .whitespaces).lowercased()
    for (suffix, scale) in [("ms", 0.001), ("us", 0.000_001), ("s", 1), ("m", 60), ("h", 3_600)]
    where t.hasSuffix(suffix) {
        if let v = Double(t.dropLast(suffix.count)), v >= 0 { return v * scale }
        return nil
    }
    if let v = Double(t), v >= 0 { return v }
    return nil
}

/// A pass/fail rule on the results: `p99 < 50ms`, `p(95) < 500`, `error_rate < 0.1%`, `rps > 1000`, `max <= 2s`,
/// `mean < 10ms`. Latencies are corrected ones, in milliseconds when no unit is given.
public struct Threshold: Sendable, CustomStringConvertible {
    public enum Metric: Sendable, Equatable {
        case percentile(Double)
        case mean, max, errorRate, rps
    }
    public let metric: Metric
    public let op: String
    public let value: Double
    public let description: String

    public init(_ text: String) throws {
        description = text
        let ops = ["<=", ">=", "<", ">", "=="]
        guard let op = ops.first(where: { text.contains($0) }), let range = text.range(of: op) else {
            throw LoadError("'\(text)': expected METRIC OP VALUE, e.g. 'p99 < 50ms'")
        }
        self.op = op
        let name = text[..<range.lowerBound].trimmingCharacters(in: .whitespaces).lowercased()
        var raw = text[range.upperBound...].trimmingCharacters(in: .whitespaces).lowercased()
        switch name {
        case "mean", "avg": metric = .mean
        case "max": metric = .max
        case "error_rate", "errors": metric = .errorRate
        case "rps", "throughput": metric = .rps
        default:
            let digits = name.replacingOccurrences(of: "p(", with: "").replacingOccurrences(of: ")", with: "")
                .dropFirst(name.hasPrefix("p(") ? 0 : 1)
            guard name.hasPrefix("p"), let p = Double(digits), p > 0, p <= 100 else {
                throw LoadError(
                    "'\(text)': unknown metric '\(name)'; known: p50, p99, p99.9, p(95), mean, max, error_rate, rps")
            }
            metric = .percentile(p)
        }
        var scale = 1.0
        if metric == .errorRate {
            if raw.hasSuffix("%") { raw.removeLast() } else { scale = 100 }
        } else if metric != .rps {
            for (suffix, s) in [("ms", 1.0), ("us", 0.001), ("s", 1_000)] where raw.hasSuffix(suffix) {
                raw.removeLast(suffix.count)
                scale = s
                break
            }
        }
        guard let v = Double(raw) else { throw LoadError("'\(text)': '\(raw)' is not a number") }
        value = v * scale
    }

    /// The measured value this rule looks at (ms, %, or requests/s).
    public func measured(_ result: RunResult) -> Double {
        let h = result.stats.corrected
        switch metric {
        case .percentile(let p): return h.totalCount == 0 ? .infinity : Double(h.valueAtPercentile(p)) / 1_000
        case .mean: return h.totalCount == 0 ? .infinity : h.mean / 1_000
        case .max: return h.totalCount == 0 ? .infinity : Double(h.max) / 1_000
        case .errorRate: return result.stats.errorRate * 100
        case .rps: return result.throughput
        }
    }

    public func holds(_ result: RunResult) -> Bool {
        let m = measured(result)
        switch op {
        case "<": return m < value
        case "<=": return m <= value
        case ">": return m > value
        case ">=": return m >= value
        default: return m == value
        }
    }
}
