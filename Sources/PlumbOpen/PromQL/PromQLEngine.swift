import Foundation

/// Evaluates PromQL as Prometheus 2.x does (the version Debian packages, which the conformance test compares with):
/// instant and range queries, the 5-minute lookback, range windows closed at both ends (`[t - range, t]`),
/// subquery steps aligned to absolute time, `offset` and `@`.
///
/// A query is planned first: every selector's time range over the whole query is read once from the source, then
/// the expression is evaluated step by step in memory. Samples read and points produced count against
/// `maxSamples`; past it the query fails with Prometheus' own error (422) instead of exhausting memory.
public struct PromQLEngine: Sendable {
    public var source: any PromQLSource
    /// How far back an instant vector selector looks for a sample (Prometheus' `--query.lookback-delta`).
    public var lookback: Int64 = 300_000
    /// The most samples a query may hold (Prometheus' `--query.max-samples`).
    public var maxSamples = 50_000_000
    /// A subquery's step when it names none (Prometheus' global evaluation interval).
    public var defaultSubqueryStep: Int64 = 60_000
    /// How long a query may run (Prometheus' `--query.timeout`).
    public var timeout: Duration = .seconds(120)
    /// The most steps a range query may have (Prometheus' 11,000 points per series).
    public static let maxPoints: Int64 = 11_000

    public init(source: any PromQLSource) {
        self.source = source
    }

    /// The value of `query` at `time` (milliseconds).
    public func instant(_ query: String, at time: Int64) async throws(PromQLError) -> PromQLResult {
        let expr = try Self.parse(query)
        let evaluator = try await prepare(expr, start: time, end: time, step: 1)
        return try evaluator.instant(time)
    }

    /// The value of `query` at every step from `start` through `end` (milliseconds), as a matrix.
    public func range(_ query: String, start: Int64, end: Int64, step: Int64) async throws(PromQLError) -> PromQLResult
    {
        let expr = try Self.parse(query)
        guard expr.type == .vector || expr.type == .scalar else {
            throw PromQLError(
                .badData,
                "invalid expression type \"\(expr.type.shown)\" for range query, must be Scalar or instant Vector")
        }
        guard step > 0 else {
            throw PromQLError(
                .badData, "zero or negative query resolution step widths are not accepted. Try a positive integer")
        }
        guard end >= start else { throw PromQLError(.badData, "end timestamp must not be before start time") }
        guard (end - start) / step < Self.maxPoints else {
            throw PromQLError(
                .badData,
                "exceeded maximum resolution of 11,000 points per timeseries between start and end. Try decreasing the query resolution (?step=XX)"
            )
        }
        let evaluator = try await prepare(expr, start: start, end: end, step: step)
        return try evaluator.range(start: start, end: end, step: step)
    }

    static func parse(_ query: String) throws(PromQLError) -> PromQLExpr {
        do {
            return try PromQLParser.parse(query)
        } catch {
            throw PromQLError(.badData, error.description)
        }
    }

    /// Plans `expr`, reads what its selectors need, and returns an evaluator holding it.
    func prepare(_ expr: PromQLExpr, start: Int64, end: Int64, step: Int64) async throws(PromQLError) -> PromQLEvaluator
    {
        var planner = PromQLPlanner(start: start, end: end, lookback: lookback, defaultStep: defaultSubqueryStep)
        let root = planner.node(expr, lo: start, hi: end)
        let deadline = ContinuousClock.now + timeout
        var data: [SeriesSet] = []
        var loaded = 0
        for fetch in planner.fetches {
            if ContinuousClock.now > deadline { throw PromQLError(.timeout, "query timed out in query execution") }
            do {
                let series = try await source.select(fetch.matchers, from: fetch.from, through: fetch.through)
                for s in series { loaded += s.times.count }
                guard loaded <= maxSamples else { throw PromQLError.tooManySamples }
                data.append(SeriesSet(series))
            } catch let error as PromQLError {
                throw error
            } catch is CancellationError {
                throw PromQLError(.canceled, "query was canceled in query execution")
            } catch {
                throw PromQLError(.internal, "reading the store: \(error)")
            }
        }
        return PromQLEvaluator(
            root: root, data: data, lookback: lookback, maxSamples: maxSamples, loaded: loaded, deadline: deadline)
    }
}

/// The evaluation tree: the parsed expression with parentheses gone, `@ start()`/`@ end()` resolved, and each
/// selector pointing at the series read for it.
indirect enum PromQLNode {
    case number(Double)
    case string(String)
    case vector(VectorSelector, data: Int)
    case matrix(VectorSelector, range: Int64, data: Int)
    case subquery(PromQLNode, range: Int64, step: Int64, modifiers: Modifiers, id: Int)
    case aggregate(AggregateOp, PromQLNode, parameter: PromQLNode?, grouping: Grouping?, id: Int)
    case call(String, [PromQLNode], id: Int)
    case negate(PromQLNode, id: Int)
    case binary(BinaryOp, PromQLNode, PromQLNode, returnBool: Bool, matching: VectorMatching?, id: Int)
}

/// Walks the expression once to learn the time range each selector needs over the whole query.
struct PromQLPlanner {
    struct Fetch {
        var matchers: [LabelMatcher]
        var from: Int64
        var through: Int64
    }

    let start: Int64
    let end: Int64
    let lookback: Int64
    let defaultStep: Int64
    var fetches: [Fetch] = []
    var byKey: [String: Int] = [:]
    /// Ids of the nodes that keep caches (subqueries, aggregations, binary operators).
    var ids = 0

    init(start: Int64, end: Int64, lookback: Int64, defaultStep: Int64) {
        self.start = start
        self.end = end
        self.lookback = lookback
        self.defaultStep = defaultStep
    }

    func resolved(_ m: Modifiers) -> Modifiers {
        var m = m
        switch m.at {
        case .start: m.at = .time(start)
        case .end: m.at = .time(end)
        default: break
        }
        return m
    }

    /// The reference times `[lo, hi]` of a selector or subquery evaluated at times `[lo, hi]`.
    func references(_ m: Modifiers, lo: Int64, hi: Int64) -> (Int64, Int64) {
        if case .time(let at) = m.at { return (at &- m.offset, at &- m.offset) }
        return (lo &- m.offset, hi &- m.offset)
    }

    mutating func fetch(_ selector: VectorSelector, from: Int64, through: Int64) -> Int {
        var matchers = selector.matchers
        if let name = selector.name { matchers.insert(LabelMatcher(PromLabels.metricName, .equal, name), at: 0) }
        let key = matchers.map { "\($0.name)\u{0}\($0.kind.rawValue)\u{0}\($0.value)" }.joined(separator: "\u{1}")
        if let i = byKey[key] {
            fetches[i].from = min(fetches[i].from, from)
            fetches[i].through = max(fetches[i].through, through)
            return i
        }
        fetches.append(Fetch(matchers: matchers, from: from, through: through))
        byKey[key] = fetches.count - 1
        return fetches.count - 1
    }

    mutating func node(_ expr: PromQLExpr, lo: Int64, hi: Int64) -> PromQLNode {
        switch expr {
        case .number(let v): return .number(v)
        case .string(let s): return .string(s)
        case .paren(let e): return node(e, lo: lo, hi: hi)
        case .negate(let e):
            ids += 1
            let id = ids
            return .negate(node(e, lo: lo, hi: hi), id: id)
        case .vector(var selector):
            selector.modifiers = resolved(selector.modifiers)
            let (a, b) = references(selector.modifiers, lo: lo, hi: hi)
            return .vector(selector, data: fetch(selector, from: a &- lookback, through: b))
        case .matrix(var selector, let range):
            selector.modifiers = resolved(selector.modifiers)
            let (a, b) = references(selector.modifiers, lo: lo, hi: hi)
            return .matrix(selector, range: range, data: fetch(selector, from: a &- range, through: b))
        case .subquery(let inner, let range, let step, let modifiers):
            let m = resolved(modifiers)
            let (a, b) = references(m, lo: lo, hi: hi)
            ids += 1
            let id = ids
            return .subquery(
                node(inner, lo: a &- range, hi: b), range: range, step: step ?? defaultStep, modifiers: m, id: id)
        case .aggregate(let op, let inner, let parameter, let grouping):
            ids += 1
            let id = ids
            return .aggregate(
                op, node(inner, lo: lo, hi: hi), parameter: parameter.map { node($0, lo: lo, hi: hi) },
                grouping: grouping, id: id)
        case .call(let name, let args):
            ids += 1
            let id = ids
            return .call(name, args.map { node($0, lo: lo, hi: hi) }, id: id)
        case .binary(let op, let a, let b, let returnBool, let matching):
            ids += 1
            let id = ids
            return .binary(
                op, node(a, lo: lo, hi: hi), node(b, lo: lo, hi: hi), returnBool: returnBool, matching: matching,
                id: id)
        }
    }
}
