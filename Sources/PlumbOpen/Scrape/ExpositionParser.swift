/// Prometheus' text exposition format 0.0.4 and OpenMetrics 1.0 text, as exporters serve them: one sample per line,
/// `name{label="value",…} value [timestamp]`, with `# TYPE`/`# HELP`/`# UNIT` comments, and in OpenMetrics an
/// exemplar after ` # ` and the closing `# EOF`.
///
/// The parse is all or nothing, as Prometheus' is: a line that is not a sample fails the scrape, naming the line.
public struct ExpositionParser: Sendable {
    public struct Sample: Sendable, Equatable {
        public var name: String
        public var labels: [(name: String, value: String)]
        public var value: Double
        /// Milliseconds since the epoch, when the exporter gave one.
        public var timestamp: Int64?

        public static func == (a: Sample, b: Sample) -> Bool {
            a.name == b.name && a.labels.elementsEqual(b.labels, by: { $0 == $1 })
                && (a.value == b.value || (a.value.isNaN && b.value.isNaN)) && a.timestamp == b.timestamp
        }
    }

    public struct Invalid: Error, CustomStringConvertible {
        public let line: Int
        public let reason: String
        public var description: String { "line \(line): \(reason)" }
    }

    /// What a page holds: its samples and the type each metric family declared.
    public struct Page: Sendable {
        public var samples: [Sample] = []
        public var types: [String: String] = [:]
    }

    public let openMetrics: Bool
    /// The most samples a page may hold (a scrape over it fails, as Prometheus' `sample_limit`); 0: no limit.
    public let sampleLimit: Int

    public init(openMetrics: Bool, sampleLimit: Int = 0) {
        self.openMetrics = openMetrics
        self.sampleLimit = sampleLimit
    }

    public func parse(_ bytes: [UInt8]) throws(Invalid) -> Page {
        var page = Page()
        var lineNumber = 0
        var sawEOF = false
        var start = 0
        while start < bytes.count {
            var end = start
            while end < bytes.count, bytes[end] != 0x0A { end += 1 }
            lineNumber += 1
            var line = bytes[start..<end]
            start = end + 1
            if line.last == 0x0D { line = line.dropLast() }
            if sawEOF {
                guard line.isEmpty else { throw Invalid(line: lineNumber, reason: "text after # EOF") }
                continue
            }
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) {
                if openMetrics && !line.isEmpty { throw Invalid(line: lineNumber, reason: "a blank line") }
                continue
            }
            if line.first == 0x23 {  // '#'
                let text = String(decoding: line, as: UTF8.self)
                if text == "# EOF" {
                    sawEOF = true
                    continue
                }
                let words = text.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: true)
                if words.count >= 4, words[1] == "TYPE" {
                    let type = String(words[3]).trimmingSpaces
                    let known = [
                        "counter", "gauge", "histogram", "summary", "untyped", "unknown", "gaugehistogram", "stateset",
                        "info",
                    ]
                    guard known.contains(type) else {
                        throw Invalid(line: lineNumber, reason: "unknown metric type '\(type)'")
                    }
                    page.types[String(words[2])] = type
                }
                continue
            }
            var reader = LineReader(bytes: Array(line), line: lineNumber)
            page.samples.append(try reader.sample(openMetrics: openMetrics))
            if sampleLimit > 0, page.samples.count > sampleLimit {
                throw Invalid(line: lineNumber, reason: "more than \(sampleLimit) samples (sample_limit)")
            }
        }
        if openMetrics && !sawEOF { throw Invalid(line: lineNumber, reason: "OpenMetrics text must end with # EOF") }
        return page
    }
}

/// One sample line, read byte by byte.
struct LineReader {
    let bytes: [UInt8]
    let line: Int
    var i = 0

    init(bytes: [UInt8], line: Int) {
        self.bytes = bytes
        self.line = line
    }

    func fail(_ reason: String) -> ExpositionParser.Invalid {
        ExpositionParser.Invalid(line: line, reason: reason)
    }

    var atEnd: Bool { i >= bytes.count }

    mutating func skipSpaces() {
        while !atEnd, bytes[i] == 0x20 || bytes[i] == 0x09 { i += 1 }
    }

    static func isNameByte(_ b: UInt8, first: Bool) -> Bool {
        (b | 0x20 >= 0x61 && b | 0x20 <= 0x7A) || b == 0x5F || b == 0x3A || (!first && b >= 0x30 && b <= 0x39)
    }

    mutating func name(label: Bool) throws(ExpositionParser.Invalid) -> String {
        let begin = i
        while !atEnd, Self.isNameByte(bytes[i], first: i == begin), !(label && bytes[i] == 0x3A) { i += 1 }
        guard i > begin else {
            throw fail(label ? "a label name is expected" : "a metric name is expected at the start of the line")
        }
        return String(decoding: bytes[begin..<i], as: UTF8.self)
    }

    mutating func quoted() throws(ExpositionParser.Invalid) -> String {
        guard !atEnd, bytes[i] == 0x22 else { throw fail("a label value must be in double quotes") }
        i += 1
        var out: [UInt8] = []
        while true {
            guard !atEnd else { throw fail("a label value is not closed") }
            let b = bytes[i]
            i += 1
            if b == 0x22 { break }
            if b == 0x5C {
                guard !atEnd else { throw fail("a label value ends in a backslash") }
                let e = bytes[i]
                i += 1
                switch e {
                case 0x6E: out.append(0x0A)
                case 0x5C: out.append(0x5C)
                case 0x22: out.append(0x22)
                default:
                    out.append(0x5C)
                    out.append(e)
                }
            } else {
                out.append(b)
            }
        }
        guard let text = String(validating: out, as: UTF8.self) else { throw fail("a label value is not UTF-8") }
        return text
    }

    mutating func sample(openMetrics: Bool) throws(ExpositionParser.Invalid) -> ExpositionParser.Sample {
        let metric = try name(label: false)
        var labels: [(name: String, value: String)] = []
        var seen = Set<String>()
        if !atEnd, bytes[i] == 0x7B {  // '{'
            i += 1
            skipSpaces()
            while !atEnd, bytes[i] != 0x7D {
                let label = try name(label: true)
                skipSpaces()
                guard !atEnd, bytes[i] == 0x3D else { throw fail("'=' is expected after label '\(label)'") }
                i += 1
                skipSpaces()
                let value = try quoted()
                guard seen.insert(label).inserted else {
                    throw fail("label '\(label)' is given twice")
                }
                labels.append((label, value))
                skipSpaces()
                if !atEnd, bytes[i] == 0x2C {
                    i += 1
                    skipSpaces()
                }
            }
            guard !atEnd else { throw fail("the label set is not closed with '}'") }
            i += 1
        }
        guard !atEnd, bytes[i] == 0x20 || bytes[i] == 0x09 else { throw fail("a space and a value are expected") }
        skipSpaces()
        let value = try number()
        skipSpaces()
        var timestamp: Int64?
        if !atEnd, bytes[i] != 0x23 {
            let begin = i
            while !atEnd, bytes[i] != 0x20, bytes[i] != 0x09 { i += 1 }
            let text = String(decoding: bytes[begin..<i], as: UTF8.self)
            if openMetrics {
                // Seconds, possibly fractional.
                guard let seconds = Double(text), seconds.isFinite, abs(seconds) < 1e13 else {
                    throw fail("timestamp '\(text)' is not a number of seconds")
                }
                timestamp = Int64((seconds * 1_000).rounded(.down))
            } else {
                guard let millis = Int64(text) else { throw fail("timestamp '\(text)' is not whole milliseconds") }
                timestamp = millis
            }
            skipSpaces()
        }
        // An OpenMetrics exemplar (` # {labels} value [timestamp]`) is read past; anything else is garbage.
        if !atEnd {
            guard openMetrics, bytes[i] == 0x23 else { throw fail("unexpected text after the value") }
        }
        return ExpositionParser.Sample(name: metric, labels: labels, value: value, timestamp: timestamp)
    }

    mutating func number() throws(ExpositionParser.Invalid) -> Double {
        let begin = i
        while !atEnd, bytes[i] != 0x20, bytes[i] != 0x09 { i += 1 }
        let text = String(decoding: bytes[begin..<i], as: UTF8.self)
        switch text {
        case "NaN": return .nan
        case "+Inf", "Inf": return .infinity
        case "-Inf": return -.infinity
        default:
            guard !text.isEmpty, let value = Double(text) else {
                throw fail("value '\(text.prefix(40))' is not a number")
            }
            return value
        }
    }
}
