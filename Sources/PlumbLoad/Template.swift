import Foundation
import NIOCore

/// A request body or path with generators in double braces, parsed once and rendered per request:
///
/// - `{{sentence}}` a line of the scenario's corpus file (JSON-escaped);
/// - `{{iris}}` an iris-like row as JSON members `"x1": 6.1, "x2": 2.8, "x3": 4.7, "x4": 1.2` (one of the three
///   species' typical measurements with noise);
/// - `{{detector}}` a detector id `D-00000`… below the scenario's detector count; `{{detector_i}}` the detector of
///   the setup repetition; `{{reading}}` a 16-field reading of a random detector, timestamped now;
/// - `{{i}}` the index of a setup repetition; `{{int A B}}` a whole number in [A, B]; `{{uuid}}`.
public struct Template: Sendable {
    enum Part: Sendable {
        case text([UInt8])
        case sentence, iris, detector, detectorIndex, reading, index, uuid
        case int(Int, Int)
    }

    let parts: [Part]
    public let isConstant: Bool

    public init(_ text: String) throws {
        var parts: [Part] = []
        var rest = Substring(text)
        while let open = rest.range(of: "{{") {
            if open.lowerBound > rest.startIndex { parts.append(.text(Array(rest[..<open.lowerBound].utf8))) }
            guard let close = rest[open.upperBound...].range(of: "}}") else {
                throw LoadError("an unclosed '{{' in '\(text)'")
            }
            let words = rest[open.upperBound..<close.lowerBound].split(separator: " ").map(String.init)
            switch words.first ?? "" {
            case "sentence": parts.append(.sentence)
            case "iris": parts.append(.iris)
            case "detector": parts.append(.detector)
            case "detector_i": parts.append(.detectorIndex)
            case "reading": parts.append(.reading)
            case "i": parts.append(.index)
            case "uuid": parts.append(.uuid)
            case "int":
                guard words.count == 3, let a = Int(words[1]), let b = Int(words[2]), a <= b else {
                    throw LoadError(
                        "'{{int A B}}' needs two whole numbers A ≤ B, got '{{\(words.joined(separator: " "))}}'")
                }
                parts.append(.int(a, b))
            default:
                throw LoadError(
                    "unknown generator '{{\(words.joined(separator: " "))}}'; known: sentence, iris, detector, detector_i, reading, i, int A B, uuid"
                )
            }
            rest = rest[close.upperBound...]
        }
        if !rest.isEmpty { parts.append(.text(Array(rest.utf8))) }
        self.parts = parts
        isConstant = parts.allSatisfy { if case .text = $0 { true } else { false } }
    }

    public var usesCorpus: Bool { parts.contains { if case .sentence = $0 { true } else { false } } }

    public func render(_ rng: inout SplitMix64, context: GeneratorContext, index: Int = 0) -> [UInt8] {
        var out: [UInt8] = []
        for part in parts {
            switch part {
            case .text(let bytes): out += bytes
            case .sentence:
                if !context.corpus.isEmpty { out += context.corpus[Int(rng.next() % UInt64(context.corpus.count))] }
            case .iris: out += Array(Self.iris(&rng).utf8)
            case .detector:
                out += Array(GeneratorContext.detectorID(Int(rng.next() % UInt64(max(1, context.detectors)))).utf8)
            case .reading:
                let d = Int(rng.next() % UInt64(max(1, context.detectors)))
                let now = Int64(Date().timeIntervalSince1970 * 1_000)
                out += Array(
                    SensorDriver.reading(
                        detector: GeneratorContext.detectorID(d), timestamp: now, index: Int(rng.next() % 100_000),
                        rng: &rng
                    ).utf8)
            case .detectorIndex: out += Array(GeneratorContext.detectorID(index).utf8)
            case .index: out += Array(String(index).utf8)
            case .uuid: out += Array(UUID().uuidString.lowercased().utf8)
            case .int(let a, let b): out += Array(String(a + Int(rng.next() % UInt64(b - a + 1))).utf8)
            }
        }
        return out
    }

    /// Typical measurements of the three iris species (sepal length/width, petal length/width) with noise.
    static func iris(_ rng: inout SplitMix64) -> String {
        let species: [[Double]] = [[5.0, 3.4, 1.5, 0.25], [5.9, 2.8, 4.3, 1.3], [6.6, 3.0, 5.6, 2.0]]
        let s = species[Int(rng.next() % 3)]
        func noise() -> Double { (Double(rng.next() >> 11) / Double(1 << 53) - 0.5) * 0.6 }
        return (0..<4).map { "\"x\($0 + 1)\": \(SensorDriver.fixed(max(0.1, s[$0] + noise()), 1))" }.joined(
            separator: ", ")
    }
}

/// What generators draw from: the corpus lines (JSON-escaped) and the number of detectors.
public struct GeneratorContext: Sendable {
    public var corpus: [[UInt8]] = []
    public var detectors = 0
    public init() {}

    public static func detectorID(_ i: Int) -> String {
        let digits = String(i)
        return "D-" + String(repeating: "0", count: max(0, 5 - digits.count)) + digits
    }

    /// Loads non-empty lines of `path` (at most 100,000), escaped for use inside a JSON string.
    public mutating func loadCorpus(_ path: String) throws {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw LoadError("cannot read the corpus file \(path)")
        }
        corpus = text.split(whereSeparator: \.isNewline).prefix(100_000).compactMap { line in
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty, let data = try? JSONSerialization.data(withJSONObject: [trimmed]) else {
                return nil
            }
            // ["…"] → the escaped content between the quotes.
            return Array(data.dropFirst(2).dropLast(2))
        }
        guard !corpus.isEmpty else { throw LoadError("the corpus file \(path) has no lines") }
    }
}

/// A weighted choice of templated requests.
public struct RequestMix: RequestSource {
    public struct Entry: Sendable {
        public var name: String
        public var method: String
        public var path: Template
        public var headers: [(String, String)]
        public var body: Template?
        public var weight: Double
        let fixed: ByteBuffer?
    }

    let entries: [Entry]
    let cumulative: [Double]
    let host: String
    let context: GeneratorContext

    public init(
        entries: [(
            name: String, method: String, path: String, headers: [(String, String)], body: String?, weight: Double
        )], host: String, context: GeneratorContext
    ) throws {
        guard !entries.isEmpty else { throw LoadError("a scenario needs at least one request") }
        var built: [Entry] = []
        for e in entries {
            guard e.weight > 0 else { throw LoadError("request '\(e.name)': weight must be positive") }
            let path = try Template(e.path)
            let body = try e.body.map(Template.init)
            var fixed: ByteBuffer?
            if path.isConstant && (body?.isConstant ?? true) {
                var rng = SplitMix64(seed: 0)
                fixed = ByteBuffer(
                    bytes: HTTPRequestBytes.encode(
                        method: e.method, path: String(decoding: path.render(&rng, context: context), as: UTF8.self),
                        host: host, headers: e.headers,
                        body: body?.render(&rng, context: context) ?? []))
            }
            built.append(
                Entry(
                    name: e.name, method: e.method, path: path, headers: e.headers, body: body, weight: e.weight,
                    fixed: fixed))
        }
        self.entries = built
        var sum = 0.0
        cumulative = built.map {
            sum += $0.weight
            return sum
        }
        self.host = host
        self.context = context
    }

    public func next(_ rng: inout SplitMix64, allocator: ByteBufferAllocator) -> ByteBuffer {
        var entry = entries[0]
        if entries.count > 1 {
            let x = Double(rng.next() >> 11) / Double(1 << 53) * cumulative[cumulative.count - 1]
            entry = entries[cumulative.firstIndex { x < $0 } ?? entries.count - 1]
        }
        if let fixed = entry.fixed { return fixed }
        let path = String(decoding: entry.path.render(&rng, context: context), as: UTF8.self)
        let body = entry.body?.render(&rng, context: context) ?? []
        return ByteBuffer(
            bytes: HTTPRequestBytes.encode(
                method: entry.method, path: path, host: host, headers: entry.headers, body: body))
    }
}
