import PlumbAPI

#if canImport(Glibc)
import Glibc
#endif

/// A JSON filter pattern compiled for bytes: one pass over the event checks that it is a JSON object exactly as
/// `JSONValue.parseStrict` would accept it (grammar, escapes, surrogates, finite numbers, depth) and notes where the
/// value of each selector the condition uses lies; the condition is then evaluated on those bytes. Nothing is
/// built for the parts no selector reaches. Where a key appears twice in an object, the last one counts, as in a
/// parsed object.
struct JSONProgram: Sendable, Equatable {
    indirect enum Node: Sendable, Equatable {
        case compare(path: Int, JSONCondition.Operator, Literal)
        case isNull(Int)
        case isTrue(Int)
        case isFalse(Int)
        case notExists(Int)
        case and(Node, Node)
        case or(Node, Node)
    }

    enum Literal: Sendable, Equatable {
        case string(WildcardLiteral)
        case number(Double)
    }

    /// One step of a selector; `ascii` says whether a key can be compared byte for byte.
    enum Step: Sendable, Equatable {
        case key(String, bytes: [UInt8], ascii: Bool)
        case index(Int)
    }

    /// The most distinct selectors one pattern may use (the scan tracks them in a 64-bit mask).
    static let maxSelectors = 64

    let paths: [[Step]]
    let root: Node

    init(_ condition: JSONCondition) throws(FilterPatternError) {
        var paths: [[JSONCondition.Step]] = []
        func index(_ path: [JSONCondition.Step]) -> Int {
            if let i = paths.firstIndex(of: path) { return i }
            paths.append(path)
            return paths.count - 1
        }
        func compile(_ condition: JSONCondition) -> Node {
            switch condition {
            case .and(let a, let b): return .and(compile(a), compile(b))
            case .or(let a, let b): return .or(compile(a), compile(b))
            case .isNull(let p): return .isNull(index(p))
            case .isTrue(let p): return .isTrue(index(p))
            case .isFalse(let p): return .isFalse(index(p))
            case .notExists(let p): return .notExists(index(p))
            case .compare(let p, let op, .string(let s)): return .compare(path: index(p), op, .string(.init(s)))
            case .compare(let p, let op, .number(let n)): return .compare(path: index(p), op, .number(n))
            }
        }
        root = compile(condition)
        guard paths.count <= Self.maxSelectors else {
            throw FilterPatternError("a JSON pattern may use at most \(Self.maxSelectors) distinct selectors")
        }
        self.paths = paths.map { path in
            path.map { step in
                switch step {
                case .key(let k): .key(k, bytes: Array(k.utf8), ascii: k.utf8.allSatisfy { $0 < 0x80 })
                case .index(let i): .index(i)
                }
            }
        }
    }

    func matches(_ bytes: UnsafeRawBufferPointer) -> Bool {
        // Only an object can match: anything whose first byte other than a space or tab is not '{' is skipped.
        var first = 0
        while first < bytes.count, bytes[first] == 0x20 || bytes[first] == 0x09 { first += 1 }
        guard first < bytes.count, bytes[first] == UInt8(ascii: "{") else { return false }
        return withUnsafeTemporaryAllocation(of: Range<Int>?.self, capacity: paths.count) { found in
            found.initialize(repeating: nil)
            var scanner = JSONScanner(bytes: bytes, paths: paths, found: found)
            let all: UInt64 = paths.count == 64 ? .max : (1 << UInt64(paths.count)) - 1
            guard scanner.value(depth: 0, mask: all) else { return false }
            scanner.skipSpace()
            guard scanner.offset == bytes.count else { return false }
            return holds(root, bytes, found)
        }
    }

    private func holds(
        _ node: Node, _ bytes: UnsafeRawBufferPointer, _ found: UnsafeMutableBufferPointer<Range<Int>?>
    )
        -> Bool
    {
        func value(_ p: Int) -> UnsafeRawBufferPointer? {
            found[p].map { UnsafeRawBufferPointer(rebasing: bytes[$0]) }
        }
        switch node {
        case .and(let a, let b): return holds(a, bytes, found) && holds(b, bytes, found)
        case .or(let a, let b): return holds(a, bytes, found) || holds(b, bytes, found)
        case .notExists(let p): return found[p] == nil
        case .isNull(let p): return value(p).map { $0[0] == UInt8(ascii: "n") } ?? false
        case .isTrue(let p): return value(p).map { $0[0] == UInt8(ascii: "t") } ?? false
        case .isFalse(let p): return value(p).map { $0[0] == UInt8(ascii: "f") } ?? false
        case .compare(let p, let op, let literal):
            guard let v = value(p) else { return false }
            let isNumber = v[0] == UInt8(ascii: "-") || (v[0] >= 0x30 && v[0] <= 0x39)
            switch (op, literal) {
            case (_, .number(let n)):
                guard isNumber, let x = ByteSearch.double(v) else { return false }
                switch op {
                case .equal: return x == n
                case .notEqual: return x != n
                case .less: return x < n
                case .lessOrEqual: return x <= n
                case .greater: return x > n
                case .greaterOrEqual: return x >= n
                }
            case (.equal, .string(let s)), (.notEqual, .string(let s)):
                guard let matched = Self.textMatches(v, isNumber: isNumber, s) else { return false }
                return op == .equal ? matched : !matched
            case (_, .string):
                return false
            }
        }
    }

    /// Whether the value's text (a string's contents, a number or boolean as JSON text) matches the wildcard;
    /// nil for null, objects and arrays, which have no text.
    private static func textMatches(_ v: UnsafeRawBufferPointer, isNumber: Bool, _ literal: WildcardLiteral) -> Bool? {
        switch v[0] {
        case UInt8(ascii: "\""):
            let inner = UnsafeRawBufferPointer(rebasing: v[1..<(v.count - 1)])
            if !inner.contains(UInt8(ascii: "\\")) { return literal.matches(inner) }
            guard case .string(let text)? = JSONValue.parseStrict(v) else { return false }
            return wildcardMatch(text, literal.text)
        case UInt8(ascii: "t"), UInt8(ascii: "f"):
            return literal.matches(v)
        case _ where isNumber:
            guard let x = ByteSearch.double(v), let text = JSONCondition.text(of: .number(x)) else { return nil }
            return wildcardMatch(text, literal.text)
        default:
            return nil
        }
    }
}

/// The validating pass of `JSONProgram`: the parser's own token steps (`JSONByteParser`), with objects and arrays
/// walked here so that nothing is built.
private struct JSONScanner {
    var parser: JSONByteParser
    let paths: [[JSONProgram.Step]]
    let found: UnsafeMutableBufferPointer<Range<Int>?>

    init(bytes: UnsafeRawBufferPointer, paths: [[JSONProgram.Step]], found: UnsafeMutableBufferPointer<Range<Int>?>) {
        parser = JSONByteParser(bytes: bytes.assumingMemoryBound(to: UInt8.self))
        self.paths = paths
        self.found = found
    }

    var offset: Int { parser.offset }
    var bytes: UnsafeBufferPointer<UInt8> { parser.bytes }

    mutating func skipSpace() { parser.skipSpace() }

    /// Scans one value at `depth`; `mask` holds the selectors whose steps so far lead here. Records the value's
    /// bytes for every selector that ends here. False when the text is not valid JSON.
    mutating func value(depth: Int, mask: UInt64) -> Bool {
        guard depth < JSONValue.maxDepth else { return false }
        parser.skipSpace()
        guard parser.offset < bytes.count else { return false }
        let start = parser.offset
        let ok: Bool
        switch bytes[start] {
        case UInt8(ascii: "{"): ok = object(depth: depth, mask: mask)
        case UInt8(ascii: "["): ok = array(depth: depth, mask: mask)
        case UInt8(ascii: "\""): ok = parser.stringSpan() != nil
        case UInt8(ascii: "t"): ok = parser.skipLiteral("true")
        case UInt8(ascii: "f"): ok = parser.skipLiteral("false")
        case UInt8(ascii: "n"): ok = parser.skipLiteral("null")
        default: ok = number()
        }
        guard ok else { return false }
        var ending = mask
        while ending != 0 {
            let p = ending.trailingZeroBitCount
            ending &= ending - 1
            if paths[p].count == depth { found[p] = start..<parser.offset }
        }
        return true
    }

    /// The selectors of `mask` whose step at `depth` is `matches`, with what they found below cleared (a later
    /// duplicate key replaces an earlier one whole).
    private func descend(_ mask: UInt64, depth: Int, _ matches: (JSONProgram.Step) -> Bool) -> UInt64 {
        var next: UInt64 = 0
        var rest = mask
        while rest != 0 {
            let p = rest.trailingZeroBitCount
            rest &= rest - 1
            if paths[p].count > depth, matches(paths[p][depth]) {
                next |= 1 << UInt64(p)
                found[p] = nil
            }
        }
        return next
    }

    /// Steps over `close` after a member or element; false at anything but `,` or `close`. Sets `done` at `close`.
    private mutating func separator(_ close: UInt8, done: inout Bool) -> Bool {
        parser.skipSpace()
        guard parser.offset < bytes.count else { return false }
        let b = bytes[parser.offset]
        parser.offset += 1
        if b == close { done = true }
        return b == close || b == UInt8(ascii: ",")
    }

    private mutating func object(depth: Int, mask: UInt64) -> Bool {
        parser.offset += 1
        parser.skipSpace()
        if parser.offset < bytes.count, bytes[parser.offset] == UInt8(ascii: "}") {
            parser.offset += 1
            return true
        }
        var done = false
        while !done {
            parser.skipSpace()
            guard parser.offset < bytes.count, bytes[parser.offset] == UInt8(ascii: "\""),
                let (key, escaped) = parser.stringSpan()
            else { return false }
            let child = mask == 0 ? 0 : descend(mask, depth: depth) { keyMatches($0, key, escaped) }
            parser.skipSpace()
            guard parser.offset < bytes.count, bytes[parser.offset] == UInt8(ascii: ":") else { return false }
            parser.offset += 1
            guard value(depth: depth + 1, mask: child), separator(UInt8(ascii: "}"), done: &done) else { return false }
        }
        return true
    }

    /// Whether a member's key (its bytes between the quotes) is the step's key. Plain ASCII keys compare byte for
    /// byte; others are decoded and compared as Swift strings (canonical equivalence).
    private func keyMatches(_ step: JSONProgram.Step, _ key: Range<Int>, _ escaped: Bool) -> Bool {
        guard case .key(let name, let nameBytes, let ascii) = step else { return false }
        let raw = UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: bytes[key]))
        if ascii && !escaped && ByteSearch.isASCII(raw) { return ByteSearch.equal(raw, nameBytes) }
        let quoted = UnsafeBufferPointer(rebasing: bytes[(key.lowerBound - 1)..<(key.upperBound + 1)])
        guard case .string(let decoded)? = JSONValue.parseStrict(quoted) else { return false }
        return decoded == name
    }

    private mutating func array(depth: Int, mask: UInt64) -> Bool {
        parser.offset += 1
        parser.skipSpace()
        if parser.offset < bytes.count, bytes[parser.offset] == UInt8(ascii: "]") {
            parser.offset += 1
            return true
        }
        var index = 0
        var done = false
        while !done {
            let child =
                mask == 0
                ? 0
                : descend(mask, depth: depth) { step in
                    if case .index(let i) = step { return i == index }
                    return false
                }
            guard value(depth: depth + 1, mask: child), separator(UInt8(ascii: "]"), done: &done) else { return false }
            index += 1
        }
        return true
    }

    /// A number by the parser's grammar, and finite (only an exponent or a very long number can overflow).
    private mutating func number() -> Bool {
        guard let (range, integral) = parser.numberSpan() else { return false }
        let exponent = !integral && bytes[range].contains { $0 | 0x20 == UInt8(ascii: "e") }
        guard exponent || range.count > 300 else { return true }
        guard let v = ByteSearch.double(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: bytes[range]))) else {
            return false
        }
        return v.isFinite
    }
}
