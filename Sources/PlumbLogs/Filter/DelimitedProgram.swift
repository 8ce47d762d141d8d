/// A space-delimited pattern compiled for bytes.
///
/// Fields are split as `FilterPattern` defines them (runs of non-spaces; `"…"` and `[…]` are one field). Named
/// fields line up with the event's fields this way: with no `...`, one for one and the counts must be equal; with
/// `...`, the named fields before the first `...` take the first fields and the ones after it take the last (the
/// first `...` takes all it can, any later one nothing), and the event needs at least as many fields as there are
/// names. The conditions are then checked on the fields they name.
struct DelimitedProgram: Sendable, Equatable {
    indirect enum Condition: Sendable, Equatable {
        /// `field` is the index of the named field in `names`, -1 for a name the pattern does not have.
        case compare(field: Int, JSONCondition.Operator, Literal)
        case and(Condition, Condition)
        case or(Condition, Condition)
    }

    enum Literal: Sendable, Equatable {
        case string(WildcardLiteral)
        case number(Double)
    }

    /// The named fields, in pattern order.
    let names: [String]
    let hasEllipsis: Bool
    /// How many named fields come before the first `...`.
    let namedBeforeEllipsis: Int
    let conditions: [Condition]

    init(_ fields: [DelimitedField]) {
        names = fields.compactMap(\.name)
        let firstEllipsis = fields.firstIndex { $0.name == nil }
        hasEllipsis = firstEllipsis != nil
        namedBeforeEllipsis = firstEllipsis.map { fields[..<$0].count } ?? names.count
        let index = Dictionary(names.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        func compile(_ condition: DelimitedField.Condition) -> Condition {
            switch condition {
            case .and(let a, let b): return .and(compile(a), compile(b))
            case .or(let a, let b): return .or(compile(a), compile(b))
            case .compare(let name, let op, .string(let s)):
                return .compare(field: index[name] ?? -1, op, .string(.init(s)))
            case .compare(let name, let op, .number(let n)): return .compare(field: index[name] ?? -1, op, .number(n))
            }
        }
        conditions = fields.compactMap(\.condition).map(compile)
    }

    func matches(_ bytes: UnsafeRawBufferPointer, scratch: inout FilterScratch) -> Bool {
        Self.split(bytes, into: &scratch)
        let count = scratch.spans.count
        guard hasEllipsis ? count >= names.count : count == names.count else { return false }
        return scratch.arena.withUnsafeBytes { arena in
            scratch.spans.withUnsafeBufferPointer { spans in
                let fields = Fields(message: bytes, arena: arena, spans: spans, program: self)
                return conditions.allSatisfy { fields.holds($0) }
            }
        }
    }

    /// The named fields of a matching event (for metric filters' `$name` values); nil when it does not match.
    func captures(_ bytes: UnsafeRawBufferPointer, scratch: inout FilterScratch) -> [String: String]? {
        guard matches(bytes, scratch: &scratch) else { return nil }
        return scratch.arena.withUnsafeBytes { arena in
            scratch.spans.withUnsafeBufferPointer { spans in
                let fields = Fields(message: bytes, arena: arena, spans: spans, program: self)
                var captured: [String: String] = [:]
                for (k, name) in names.enumerated() {
                    captured[name] = String(decoding: fields.value(k), as: UTF8.self)
                }
                return captured
            }
        }
    }

    /// The event's fields as spans.
    static func split(_ bytes: UnsafeRawBufferPointer, into scratch: inout FilterScratch) {
        scratch.spans.removeAll(keepingCapacity: true)
        scratch.arena.removeAll(keepingCapacity: true)
        let space = UInt8(ascii: " ")
        let tab = UInt8(ascii: "\t")
        let quote = UInt8(ascii: "\"")
        let open = UInt8(ascii: "[")
        let close = UInt8(ascii: "]")
        let n = bytes.count
        var i = 0
        while i < n {
            while i < n, bytes[i] == space || bytes[i] == tab { i += 1 }
            guard i < n else { break }
            if bytes[i] == quote || bytes[i] == open {
                let keepBrackets = bytes[i] == open
                let end = keepBrackets ? close : quote
                let start = keepBrackets ? i : i + 1
                var j = i + 1
                while j < n, bytes[j] != end { j += 1 }
                let stop = keepBrackets ? min(j + 1, n) : j
                i = j + 1
                // Text glued to the closing delimiter belongs to the same field.
                var k = i
                while k < n, bytes[k] != space, bytes[k] != tab { k += 1 }
                if k > i {
                    let from = scratch.arena.count
                    scratch.arena.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[start..<stop]))
                    scratch.arena.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[i..<k]))
                    scratch.spans.append(ByteSpan(start: from, end: scratch.arena.count, inArena: true))
                    i = k
                } else {
                    scratch.spans.append(ByteSpan(start: start, end: stop, inArena: false))
                }
            } else {
                let start = i
                while i < n, bytes[i] != space, bytes[i] != tab { i += 1 }
                scratch.spans.append(ByteSpan(start: start, end: i, inArena: false))
            }
        }
    }

    private struct Fields {
        let message: UnsafeRawBufferPointer
        let arena: UnsafeRawBufferPointer
        let spans: UnsafeBufferPointer<ByteSpan>
        let program: DelimitedProgram

        /// The bytes of named field `k`.
        func value(_ k: Int) -> UnsafeRawBufferPointer {
            let position =
                !program.hasEllipsis || k < program.namedBeforeEllipsis ? k : spans.count - (program.names.count - k)
            let span = spans[position]
            return UnsafeRawBufferPointer(rebasing: (span.inArena ? arena : message)[span.start..<span.end])
        }

        func holds(_ condition: Condition) -> Bool {
            switch condition {
            case .and(let a, let b): return holds(a) && holds(b)
            case .or(let a, let b): return holds(a) || holds(b)
            case .compare(let k, let op, let literal):
                guard k >= 0 else { return false }
                let field = value(k)
                switch (op, literal) {
                case (.equal, .string(let s)): return s.matches(field)
                case (.notEqual, .string(let s)): return !s.matches(field)
                case (_, .string): return false
                case (_, .number(let n)):
                    guard let v = ByteSearch.double(field) else { return op == .notEqual }
                    switch op {
                    case .equal: return v == n
                    case .notEqual: return v != n
                    case .less: return v < n
                    case .lessOrEqual: return v <= n
                    case .greater: return v > n
                    case .greaterOrEqual: return v >= n
                    }
                }
            }
        }
    }
}
