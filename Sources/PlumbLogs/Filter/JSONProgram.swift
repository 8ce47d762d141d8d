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

/// The validating pass of `JSONProgram`.
private struct JSONScanner {
    let bytes: UnsafeRawBufferPointer
    let paths: [[JSONProgram.Step]]
    let found: UnsafeMutableBufferPointer<Range<Int>?>
    var offset = 0

    init(bytes: UnsafeRawBufferPointer, paths: [[JSONProgram.Step]], found: UnsafeMutableBufferPointer<Range<Int>?>) {
        self.bytes = bytes
        self.paths = paths
        self.found = found
    }

    mutating func skipSpace() {
        while offset < bytes.count {
            switch bytes[offset] {
            case 0x20, 0x09, 0x0A, 0x0D: offset += 1
            default: return
            }
        }
    }

    /// Scans one value at `depth`; `mask` holds the selectors whose steps so far lead here. Records the value's
    /// bytes for every selector that ends here. False when the text is not valid JSON.
    mutating func value(depth: Int, mask: UInt64) -> Bool {
        guard depth < JSONValue.maxDepth else { return false }
        skipSpace()
        guard offset < bytes.count else { return false }
        let start = offset
        var ok: Bool
        switch bytes[offset] {
        case UInt8(ascii: "{"): ok = object(depth: depth, mask: mask)
        case UInt8(ascii: "["): ok = array(depth: depth, mask: mask)
        case UInt8(ascii: "\""): ok = string() != nil
        case UInt8(ascii: "t"): ok = literal("true")
        case UInt8(ascii: "f"): ok = literal("false")
        case UInt8(ascii: "n"): ok = literal("null")
        default: ok = number()
        }
        guard ok else { return false }
        var ending = mask
        while ending != 0 {
            let p = ending.trailingZeroBitCount
            ending &= ending - 1
            if paths[p].count == depth { found[p] = start..<offset }
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

    private mutating func object(depth: Int, mask: UInt64) -> Bool {
        offset += 1
        skipSpace()
        if offset < bytes.count, bytes[offset] == UInt8(ascii: "}") {
            offset += 1
            return true
        }
        while true {
            skipSpace()
            guard offset < bytes.count, bytes[offset] == UInt8(ascii: "\""), let key = string() else { return false }
            var child: UInt64 = 0
            if mask != 0 {
                let raw = UnsafeRawBufferPointer(rebasing: bytes[key])
                let plain = !raw.contains(UInt8(ascii: "\\")) && ByteSearch.isASCII(raw)
                var decoded: String?
                child = descend(mask, depth: depth) { step in
                    guard case .key(let name, let nameBytes, let ascii) = step else { return false }
                    if plain && ascii { return ByteSearch.equal(raw, nameBytes) }
                    // Outside ASCII, keys compare as Swift strings do (canonical equivalence).
                    if decoded == nil {
                        let quoted = UnsafeRawBufferPointer(
                            rebasing: bytes[(key.lowerBound - 1)..<(key.upperBound + 1)])
                        if case .string(let s)? = JSONValue.parseStrict(quoted) { decoded = s }
                    }
                    return decoded == name
                }
            }
            skipSpace()
            guard offset < bytes.count, bytes[offset] == UInt8(ascii: ":") else { return false }
            offset += 1
            guard value(depth: depth + 1, mask: child) else { return false }
            skipSpace()
            guard offset < bytes.count else { return false }
            if bytes[offset] == UInt8(ascii: ",") {
                offset += 1
                continue
            }
            guard bytes[offset] == UInt8(ascii: "}") else { return false }
            offset += 1
            return true
        }
    }

    private mutating func array(depth: Int, mask: UInt64) -> Bool {
        offset += 1
        skipSpace()
        if offset < bytes.count, bytes[offset] == UInt8(ascii: "]") {
            offset += 1
            return true
        }
        var index = 0
        while true {
            let child =
                mask == 0
                ? 0
                : descend(mask, depth: depth) { step in
                    if case .index(let i) = step { return i == index }
                    return false
                }
            guard value(depth: depth + 1, mask: child) else { return false }
            index += 1
            skipSpace()
            guard offset < bytes.count else { return false }
            if bytes[offset] == UInt8(ascii: ",") {
                offset += 1
                continue
            }
            guard bytes[offset] == UInt8(ascii: "]") else { return false }
            offset += 1
            return true
        }
    }

    private mutating func literal(_ text: StaticString) -> Bool {
        let n = text.utf8CodeUnitCount
        guard offset + n <= bytes.count else { return false }
        for i in 0..<n where bytes[offset + i] != text.utf8Start[i] { return false }
        offset += n
        return true
    }

    /// A string at `offset` (its opening quote); returns the range between the quotes. Checks what the parser
    /// checks: no control characters, valid escapes, surrogates in pairs.
    private mutating func string() -> Range<Int>? {
        offset += 1
        let start = offset
        while offset < bytes.count {
            let b = bytes[offset]
            if b == UInt8(ascii: "\"") {
                offset += 1
                return start..<(offset - 1)
            }
            if b < 0x20 { return nil }
            offset += 1
            guard b == UInt8(ascii: "\\") else { continue }
            guard offset < bytes.count else { return nil }
            let e = bytes[offset]
            offset += 1
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                continue
            case UInt8(ascii: "u"):
                guard let scalar = hex4() else { return nil }
                if (0xD800..<0xDC00).contains(scalar) {
                    guard offset + 1 < bytes.count, bytes[offset] == UInt8(ascii: "\\"),
                        bytes[offset + 1] == UInt8(ascii: "u")
                    else { return nil }
                    offset += 2
                    guard let low = hex4(), (0xDC00..<0xE000).contains(low) else { return nil }
                } else if (0xDC00..<0xE000).contains(scalar) {
                    return nil
                }
            default:
                return nil
            }
        }
        return nil
    }

    private mutating func hex4() -> UInt32? {
        guard offset + 4 <= bytes.count else { return nil }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let b = bytes[offset]
            let d: UInt32
            switch b {
            case 0x30...0x39: d = UInt32(b - 0x30)
            case 0x41...0x46: d = UInt32(b - 0x41 + 10)
            case 0x61...0x66: d = UInt32(b - 0x61 + 10)
            default: return nil
            }
            v = v << 4 | d
            offset += 1
        }
        return v
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, and finite (only an exponent or a very long
    /// integer part can overflow a double).
    private mutating func number() -> Bool {
        let start = offset
        func digits(_ o: inout Int) -> Int {
            let s = o
            while o < bytes.count, bytes[o] >= 0x30, bytes[o] <= 0x39 { o += 1 }
            return o - s
        }
        var o = offset
        if o < bytes.count, bytes[o] == UInt8(ascii: "-") { o += 1 }
        guard o < bytes.count else { return false }
        var integerDigits = 1
        if bytes[o] == UInt8(ascii: "0") {
            o += 1
        } else {
            integerDigits = digits(&o)
            guard integerDigits > 0 else { return false }
        }
        if o < bytes.count, bytes[o] == UInt8(ascii: ".") {
            o += 1
            guard digits(&o) > 0 else { return false }
        }
        var exponent = false
        if o < bytes.count, bytes[o] == UInt8(ascii: "e") || bytes[o] == UInt8(ascii: "E") {
            o += 1
            exponent = true
            if o < bytes.count, bytes[o] == UInt8(ascii: "+") || bytes[o] == UInt8(ascii: "-") { o += 1 }
            guard digits(&o) > 0 else { return false }
        }
        offset = o
        if exponent || integerDigits > 300 {
            guard let v = ByteSearch.double(UnsafeRawBufferPointer(rebasing: bytes[start..<o])), v.isFinite else {
                return false
            }
        }
        return true
    }
}
