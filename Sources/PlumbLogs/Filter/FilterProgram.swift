import Foundation
import PlumbAPI

#if canImport(Glibc)
import Glibc
#endif

/// A filter pattern compiled to match the UTF-8 bytes of a message where they lie (a column of a SQLite row, a
/// decompressed block), without a `String` per event: terms by byte search, space-delimited fields as byte spans,
/// JSON by one validating pass that records where the selected values are instead of building a tree.
///
/// It decides exactly as the pattern's definition says (see `FilterPattern`). Where Swift's string comparison and a
/// byte comparison could differ (text outside ASCII, which Swift compares by canonical equivalence), the program
/// decodes that one value and compares it as Swift does. The bytes it is given must be valid UTF-8: every stored
/// message is a Swift string.
enum FilterProgram: Sendable, Equatable {
    case all
    case terms(required: [[UInt8]], optional: [[UInt8]], excluded: [[UInt8]])
    case json(JSONProgram)
    case delimited(DelimitedProgram)

    init(_ kind: FilterPattern.Kind) throws(FilterPatternError) {
        switch kind {
        case .all:
            self = .all
        case .terms(let required, let optional, let excluded):
            self = .terms(
                required: required.map { Array($0.utf8) }, optional: optional.map { Array($0.utf8) },
                excluded: excluded.map { Array($0.utf8) })
        case .json(let condition):
            self = .json(try JSONProgram(condition))
        case .delimited(let fields):
            self = .delimited(DelimitedProgram(fields))
        }
    }

    func matches(_ bytes: UnsafeRawBufferPointer, scratch: inout FilterScratch) -> Bool {
        switch self {
        case .all:
            return true
        case .terms(let required, let optional, let excluded):
            for term in required where !ByteSearch.contains(bytes, term) { return false }
            for term in excluded where ByteSearch.contains(bytes, term) { return false }
            if !optional.isEmpty, !optional.contains(where: { ByteSearch.contains(bytes, $0) }) { return false }
            return true
        case .json(let program):
            return program.matches(bytes)
        case .delimited(let program):
            return program.matches(bytes, scratch: &scratch)
        }
    }
}

/// Buffers a scan reuses from one event to the next (a search keeps one for all the rows it reads).
public struct FilterScratch {
    var spans: [ByteSpan] = []
    var arena: [UInt8] = []

    public init() {}
}

/// Where a field's bytes are: in the message, or (a quoted field with text glued after its closing quote) copied
/// into the scratch arena.
struct ByteSpan {
    var start: Int
    var end: Int
    var inArena: Bool
}

/// Byte-level text operations that agree with Swift's `String` operations on ASCII text.
enum ByteSearch {
    /// Whether `needle` occurs in `haystack` (`memchr` for its first byte, then `memcmp`).
    static func contains(_ haystack: UnsafeRawBufferPointer, _ needle: [UInt8]) -> Bool {
        find(needle, in: haystack, from: 0) != nil
    }

    /// The offset of the first occurrence of `needle` at or after `from`.
    static func find(_ needle: [UInt8], in haystack: UnsafeRawBufferPointer, from: Int) -> Int? {
        guard !needle.isEmpty else { return from }
        guard let base = haystack.baseAddress, haystack.count - from >= needle.count else { return nil }
        return needle.withUnsafeBytes { n -> Int? in
            let first = Int32(n[0])
            var i = from
            let last = haystack.count - n.count
            while i <= last {
                guard let hit = memchr(base + i, first, last - i + 1) else { return nil }
                let at = base.distance(to: UnsafeRawPointer(hit))
                if n.count == 1 || memcmp(base + at + 1, n.baseAddress! + 1, n.count - 1) == 0 { return at }
                i = at + 1
            }
            return nil
        }
    }

    static func isASCII(_ bytes: UnsafeRawBufferPointer) -> Bool {
        for b in bytes where b >= 0x80 { return false }
        return true
    }

    /// ASCII without a carriage return (which joins a following line feed into one Swift `Character`).
    static func isPlainASCII(_ bytes: UnsafeRawBufferPointer) -> Bool {
        for b in bytes where b >= 0x80 || b == 0x0D { return false }
        return true
    }

    static func equal(_ a: UnsafeRawBufferPointer, _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        guard let base = a.baseAddress, !b.isEmpty else { return true }
        return b.withUnsafeBytes { memcmp(base, $0.baseAddress!, b.count) == 0 }
    }

    /// A number as Swift's `Double(String)` reads it. Plain decimals are read here (short integers exactly,
    /// others with `strtod`); anything else (hex, `inf`, a sign `+`) goes through `Double(String)` itself.
    static func double(_ bytes: UnsafeRawBufferPointer) -> Double? {
        let n = bytes.count
        var i = 0
        if i < n, bytes[i] == UInt8(ascii: "-") { i += 1 }
        let digitsStart = i
        while i < n, bytes[i] >= 0x30, bytes[i] <= 0x39 { i += 1 }
        let integerDigits = i - digitsStart
        var plain = integerDigits > 0
        var integral = true
        if plain, i < n, bytes[i] == UInt8(ascii: ".") {
            integral = false
            i += 1
            let s = i
            while i < n, bytes[i] >= 0x30, bytes[i] <= 0x39 { i += 1 }
            plain = i > s
        }
        if plain, i < n, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            integral = false
            i += 1
            if i < n, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            let s = i
            while i < n, bytes[i] >= 0x30, bytes[i] <= 0x39 { i += 1 }
            plain = i > s
        }
        guard plain, i == n else { return Double(String(decoding: bytes, as: UTF8.self)) }
        if integral && integerDigits <= 15 {
            var v: Int64 = 0
            for k in digitsStart..<n { v = v * 10 + Int64(bytes[k] - 0x30) }
            return bytes[0] == UInt8(ascii: "-") ? -Double(v) : Double(v)
        }
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: n + 1) { buffer in
            for k in 0..<n { buffer[k] = CChar(bitPattern: bytes[k]) }
            buffer[n] = 0
            return strtod(buffer.baseAddress!, nil)
        }
    }
}

/// A wildcard string literal (`*` is any run) prepared for bytes.
struct WildcardLiteral: Sendable, Equatable {
    let text: String
    let parts: [[UInt8]]
    let hasStar: Bool
    /// ASCII without a carriage return: compared byte for byte. (Swift compares by `Character`, and "\r\n" is one
    /// character: `"x\r\ny"` does not start with `"x\r"`.)
    let isPlain: Bool

    init(_ text: String) {
        self.text = text
        hasStar = text.contains("*")
        parts = text.split(separator: "*", omittingEmptySubsequences: false).map { Array($0.utf8) }
        isPlain = text.utf8.allSatisfy { $0 < 0x80 && $0 != 0x0D }
    }

    /// `wildcardMatch(value, text)`, on bytes when both sides are plain ASCII, else as Swift strings.
    func matches(_ value: UnsafeRawBufferPointer) -> Bool {
        guard isPlain, ByteSearch.isPlainASCII(value) else {
            return wildcardMatch(String(decoding: value, as: UTF8.self), text)
        }
        guard hasStar else { return ByteSearch.equal(value, parts[0]) }
        var rest = 0
        for (i, part) in parts.enumerated() {
            if i == 0 {
                guard value.count >= part.count,
                    ByteSearch.equal(UnsafeRawBufferPointer(rebasing: value[0..<part.count]), part)
                else { return false }
                rest = part.count
            } else if i == parts.count - 1 {
                guard !part.isEmpty else { return true }
                guard value.count - rest >= part.count else { return false }
                return ByteSearch.equal(UnsafeRawBufferPointer(rebasing: value[(value.count - part.count)...]), part)
            } else if !part.isEmpty {
                guard let at = ByteSearch.find(part, in: value, from: rest) else { return false }
                rest = at + part.count
            }
        }
        return true
    }
}
