import Foundation
import PlumbAPI
import PlumbStore

/// Timestamp precision of a line-protocol request (`?precision=`).
public enum LineProtocolPrecision: String, Sendable {
    case ns, us, ms, s

    var perSecond: Int64 {
        switch self {
        case .ns: 1_000_000_000
        case .us: 1_000_000
        case .ms: 1_000
        case .s: 1
        }
    }
}

/// The samples of one parsed line-protocol request, before series are resolved.
///
/// Lines share heads (measurement + tag set) and field names, so those are decoded once per request and
/// points refer to them by index.
public struct LineProtocolBatch: Sendable {
    /// A measurement and its tag set, decoded and validated. One object per distinct raw head, shared by every
    /// request that sends it while the parser's cache keeps it, so a store can remember per head the series it
    /// resolved to.
    public final class Head: Sendable {
        public let namespace: String
        public let dimensions: [PlumbAPI.Dimension]

        public init(namespace: String, dimensions: [PlumbAPI.Dimension]) {
            self.namespace = namespace
            self.dimensions = dimensions
        }
    }

    public struct Point: Sendable {
        public var head: Int32
        public var field: Int32
        public var value: Double
        public var timestamp: Int64
    }

    public var heads: [Head] = []
    public var fields: [String] = []
    public var points: [Point] = []
    /// String fields seen: valid line protocol, but not metrics, so not stored.
    public var skippedStringFields = 0
}

/// Parses InfluxDB line protocol: `measurement[,tag=v…] field=v[,field=v…] [timestamp]`.
///
/// Measurement → namespace, field key → metric name, tags → dimensions. Escapes (`\,` `\ ` `\=`), quoted
/// string fields (skipped), integer `i`, unsigned `u`, float and boolean fields, optional timestamps in the
/// request precision. The request is all-or-nothing: the first bad line throws, naming its number.
public struct LineProtocolParser: Sendable {
    public let validator: DatumValidator
    /// Heads decoded and validated by earlier requests (validation depends only on `validator`'s limits).
    let heads = HeadCache()

    public init(limits: IngestLimits) {
        validator = DatumValidator(limits: limits)
    }

    public func parse(_ body: [UInt8], precision: LineProtocolPrecision, now: Int64) throws -> LineProtocolBatch {
        guard body.count <= validator.limits.maxLineProtocolBodyBytes else {
            throw MetricsError.tooLarge(
                "request body is \(body.count) bytes (at most \(validator.limits.maxLineProtocolBodyBytes))")
        }
        return try body.withUnsafeBufferPointer { buffer in
            var state = ParseState(validator: validator, cache: heads, precision: precision, now: now)
            var lineStart = 0
            var lineNumber = 0
            let n = buffer.count
            while lineStart < n {
                lineNumber += 1
                var lineEnd = lineStart
                while lineEnd < n && buffer[lineEnd] != UInt8(ascii: "\n") { lineEnd += 1 }
                var end = lineEnd
                if end > lineStart && buffer[end - 1] == UInt8(ascii: "\r") { end -= 1 }
                do {
                    try state.parseLine(buffer, lineStart, end)
                } catch let error as LineError {
                    throw MetricsError.invalid("line \(lineNumber): \(error.message)")
                }
                lineStart = lineEnd + 1
            }
            return state.batch
        }
    }
}

struct LineError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

private let space = UInt8(ascii: " ")
private let comma = UInt8(ascii: ",")
private let equals = UInt8(ascii: "=")
private let backslash = UInt8(ascii: "\\")
private let quote = UInt8(ascii: "\"")
private let tab = UInt8(ascii: "\t")

struct ParseState {
    let validator: DatumValidator
    let cache: HeadCache
    let precision: LineProtocolPrecision
    let now: Int64
    var batch = LineProtocolBatch()
    /// Heads and field keys seen in this request, by FNV-1a hash of their raw bytes (verified byte for byte against
    /// the request itself, so a repeated head costs no allocation).
    var headIndex = SpanIndex()
    var fieldIndex = SpanIndex()

    init(validator: DatumValidator, cache: HeadCache, precision: LineProtocolPrecision, now: Int64) {
        self.validator = validator
        self.cache = cache
        self.precision = precision
        self.now = now
    }

    mutating func parseLine(_ b: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) throws {
        var i = start
        while i < end && (b[i] == space || b[i] == tab) { i += 1 }
        if i == end || b[i] == UInt8(ascii: "#") { return }
        // Head: up to the first unescaped space.
        let headStart = i
        while i < end && b[i] != space {
            if b[i] == backslash { i += 1 }
            i += 1
        }
        if i > end { throw LineError("line ends inside an escape") }
        let headEnd = i
        guard i < end else { throw LineError("no fields (expected 'measurement[,tags] field=value [timestamp]')") }
        let head = try internHead(b, headStart, headEnd)
        while i < end && b[i] == space { i += 1 }
        guard i < end else { throw LineError("no fields after the measurement and tags") }

        // Fields: up to the next unescaped space outside a quoted string.
        // Points of this line are appended as parsed and stamped once the timestamp is read.
        let firstPoint = batch.points.count
        while true {
            let keyStart = i
            while i < end && b[i] != equals {
                if b[i] == space || b[i] == comma {
                    throw LineError("field '\(Self.text(b, keyStart, i))' has no '=value'")
                }
                if b[i] == backslash { i += 1 }
                i += 1
            }
            guard i < end, i > keyStart else {
                throw LineError(
                    i == keyStart ? "empty field key" : "field '\(Self.text(b, keyStart, min(i, end)))' has no '=value'"
                )
            }
            let field = try internField(b, keyStart, i)
            i += 1  // '='
            guard i < end, b[i] != space, b[i] != comma else {
                throw LineError("field '\(batch.fields[Int(field)])' has an empty value")
            }
            if b[i] == quote {
                i += 1
                while i < end && b[i] != quote {
                    if b[i] == backslash { i += 1 }
                    i += 1
                }
                guard i < end else {
                    throw LineError("unterminated string value of field '\(batch.fields[Int(field)])'")
                }
                i += 1
                batch.skippedStringFields += 1
            } else {
                let valueStart = i
                while i < end && b[i] != comma && b[i] != space { i += 1 }
                let value = try Self.fieldValue(b, valueStart, i, field: batch.fields[Int(field)])
                if !DatumValidator.acceptsValue(value) {
                    // Only a refused value pays for its message (and for capturing the state in a closure).
                    let (validator, name) = (self.validator, batch.fields[Int(field)])
                    try lineCheck { try validator.checkValue(value, what: "field '\(name)'", at: "value") }
                }
                batch.points.append(.init(head: head, field: field, value: value, timestamp: 0))
            }
            if i < end && b[i] == comma {
                i += 1
                continue
            }
            break
        }
        // Optional timestamp.
        while i < end && b[i] == space { i += 1 }
        var timestamp = now
        if i < end {
            let tsStart = i
            while i < end && b[i] != space { i += 1 }
            let tsEnd = i
            while i < end && b[i] == space { i += 1 }
            guard i == end else { throw LineError("unexpected text after the timestamp: '\(Self.text(b, i, end))'") }
            guard let raw = Self.integer(b, tsStart, tsEnd) else {
                throw LineError("timestamp '\(Self.text(b, tsStart, tsEnd))' is not an integer")
            }
            let per = precision.perSecond
            timestamp = Checked.floorDivision(raw, per)
            if timestamp < now - validator.limits.maxAgeSeconds {
                throw LineError("timestamp \(raw) (\(precision.rawValue)) is more than 14 days in the past")
            }
            if timestamp > now + validator.limits.maxFutureSeconds {
                throw LineError("timestamp \(raw) (\(precision.rawValue)) is more than 2 hours in the future")
            }
        }
        for k in firstPoint..<batch.points.count { batch.points[k].timestamp = timestamp }
    }

    static func text(_ b: UnsafeBufferPointer<UInt8>, _ s: Int, _ e: Int) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: b[s..<max(s, e)]), as: UTF8.self)
    }

    static func hash(_ b: UnsafeBufferPointer<UInt8>, _ s: Int, _ e: Int) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for k in s..<e {
            h ^= UInt64(b[k])
            h &*= 0x100_0000_01b3
        }
        return h
    }

    static func same(_ raw: [UInt8], _ b: UnsafeBufferPointer<UInt8>, _ s: Int, _ e: Int) -> Bool {
        guard raw.count == e - s else { return false }
        return raw.withUnsafeBufferPointer { memcmp($0.baseAddress!, b.baseAddress! + s, e - s) == 0 }
    }

    mutating func internHead(_ b: UnsafeBufferPointer<UInt8>, _ s: Int, _ e: Int) throws -> Int32 {
        let h = Self.hash(b, s, e)
        if let index = headIndex.find(h, b, s, e) { return index }
        let decoded: LineProtocolBatch.Head
        if let known = cache.lookup(h, b, s, e) {
            decoded = known
        } else {
            decoded = try decodeHead(b, s, e)
            cache.insert(h, raw: Array(b[s..<e]), head: decoded)
        }
        let index = Int32(batch.heads.count)
        batch.heads.append(decoded)
        headIndex.add(h, s, e, index)
        return index
    }

    mutating func internField(_ b: UnsafeBufferPointer<UInt8>, _ s: Int, _ e: Int) throws -> Int32 {
        let h = Self.hash(b, s, e)
        if let index = fieldIndex.find(h, b, s, e) { return index }
        let name = Self.unescape(b, s, e)
        try lineCheck { try validator.checkName(name, what: "field key", at: "field '\(name)'") }
        let index = Int32(batch.fields.count)
        batch.fields.append(name)
        fieldIndex.add(h, s, e, index)
        return index
    }

    /// Splits the head at unescaped commas and each tag at its first unescaped '='.
    func decodeHead(_ b: UnsafeBufferPointer<UInt8>, _ s: Int, _ e: Int) throws -> LineProtocolBatch.Head {
        var parts: [(Int, Int)] = []
        var partStart = s
        var i = s
        while i < e {
            if b[i] == backslash {
                i += 2
                continue
            }
            if b[i] == comma {
                parts.append((partStart, i))
                partStart = i + 1
            }
            i += 1
        }
        parts.append((partStart, e))
        let measurement = Self.unescape(b, parts[0].0, parts[0].1)
        guard !measurement.isEmpty else { throw LineError("missing measurement") }
        try lineCheck { try validator.checkNamespace(measurement, at: "measurement") }
        var dimensions: [PlumbAPI.Dimension] = []
        for (ps, pe) in parts.dropFirst() {
            guard pe > ps else { throw LineError("empty tag in '\(Self.text(b, s, e))'") }
            var j = ps
            while j < pe && b[j] != equals {
                if b[j] == backslash { j += 1 }
                j += 1
            }
            guard j < pe else { throw LineError("tag '\(Self.text(b, ps, pe))' has no '=value'") }
            let key = Self.unescape(b, ps, j)
            let value = Self.unescape(b, j + 1, pe)
            guard !key.isEmpty else { throw LineError("tag with an empty key in '\(Self.text(b, s, e))'") }
            guard !value.isEmpty else { throw LineError("tag '\(key)' has an empty value") }
            dimensions.append(PlumbAPI.Dimension(name: key, value: value))
        }
        try lineCheck { try validator.checkDimensions(dimensions, at: "tags") }
        return .init(namespace: measurement, dimensions: dimensions.sorted { $0.name < $1.name })
    }

    static func unescape(_ b: UnsafeBufferPointer<UInt8>, _ s: Int, _ e: Int) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(e - s)
        var i = s
        while i < e {
            if b[i] == backslash, i + 1 < e, [comma, space, equals, backslash, quote].contains(b[i + 1]) {
                bytes.append(b[i + 1])
                i += 2
            } else {
                bytes.append(b[i])
                i += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func integer(_ b: UnsafeBufferPointer<UInt8>, _ s: Int, _ e: Int) -> Int64? {
        var i = s
        var negative = false
        if i < e && (b[i] == UInt8(ascii: "-") || b[i] == UInt8(ascii: "+")) {
            negative = b[i] == UInt8(ascii: "-")
            i += 1
        }
        guard i < e else { return nil }
        var value: Int64 = 0
        while i < e {
            let d = b[i] &- UInt8(ascii: "0")
            guard d < 10 else { return nil }
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int64(d))
            if o1 || o2 { return nil }
            value = a
            i += 1
        }
        return negative ? -value : value
    }

    static func fieldValue(_ b: UnsafeBufferPointer<UInt8>, _ s: Int, _ e: Int, field: String) throws -> Double {
        let last = b[e - 1]
        let numeric = b[s] == UInt8(ascii: "-") || b[s] == UInt8(ascii: "+") || (b[s] &- 48) < 10
        if last == UInt8(ascii: "i") && numeric {
            guard let v = Self.integer(b, s, e - 1) else {
                throw LineError("field '\(field)': '\(Self.text(b, s, e))' is not a valid integer")
            }
            return Double(v)
        }
        if last == UInt8(ascii: "u") && numeric {
            guard b[s] != UInt8(ascii: "-"), let v = UInt64(Self.text(b, s, e - 1)) else {
                throw LineError("field '\(field)': '\(Self.text(b, s, e))' is not a valid unsigned integer")
            }
            return Double(v)
        }
        switch e - s {
        case 1:
            if b[s] == UInt8(ascii: "t") || b[s] == UInt8(ascii: "T") { return 1 }
            if b[s] == UInt8(ascii: "f") || b[s] == UInt8(ascii: "F") { return 0 }
        case 4, 5:
            let word = Self.text(b, s, e)
            if word == "true" || word == "True" || word == "TRUE" { return 1 }
            if word == "false" || word == "False" || word == "FALSE" { return 0 }
        default: break
        }
        if let v = parseDecimal(b, s, e) { return v }
        throw LineError("field '\(field)': '\(Self.text(b, s, e))' is not a number, boolean or quoted string")
    }

}

/// Re-throws a validator's `MetricsError` as a `LineError`, so the line number is prefixed exactly once.
private func lineCheck(_ body: () throws -> Void) throws {
    do { try body() } catch let error as MetricsError { throw LineError(error.message) }
}
