import Foundation
import PlumbMetrics

/// A Prometheus label set: names sorted bytewise, each once, none with an empty value. `__name__` is the metric name.
///
/// A reference type with its hash computed once: evaluation uses the same series' labels at every step, as dictionary
/// keys (grouping, matching, assembling series), so a lookup costs a pointer comparison, not a hash of every string.
public final class PromLabels: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let names: [String]
    public let values: [String]
    let hashValue_: Int

    public static let metricName = "__name__"
    public static let empty = PromLabels(names: [], values: [])

    init(names: [String], values: [String]) {
        self.names = names
        self.values = values
        var hasher = Hasher()
        hasher.combine(names)
        hasher.combine(values)
        hashValue_ = hasher.finalize()
    }

    /// A label set from pairs in any order; empty values are dropped, a repeated name keeps its last value.
    public convenience init(_ pairs: [(String, String)]) {
        var byName: [String: String] = [:]
        for (name, value) in pairs { byName[name] = value }
        let sorted = byName.filter { !$0.value.isEmpty }.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
        self.init(names: sorted.map(\.key), values: sorted.map(\.value))
    }

    public static func == (a: PromLabels, b: PromLabels) -> Bool {
        a === b || (a.hashValue_ == b.hashValue_ && a.names == b.names && a.values == b.values)
    }

    public func hash(into hasher: inout Hasher) { hasher.combine(hashValue_) }

    public var count: Int { names.count }

    /// The value of `name`, "" when the set has no such label (Prometheus' `Get`).
    public func get(_ name: String) -> String {
        guard let i = names.firstIndex(of: name) else { return "" }
        return values[i]
    }

    public var pairs: [(name: String, value: String)] { Array(zip(names, values)).map { ($0.0, $0.1) } }

    /// The set without `__name__`.
    public var withoutName: PromLabels {
        guard let i = names.firstIndex(of: Self.metricName) else { return self }
        var (n, v) = (names, values)
        n.remove(at: i)
        v.remove(at: i)
        return PromLabels(names: n, values: v)
    }

    /// Only the labels named in `keep`.
    public func keeping(_ keep: Set<String>) -> PromLabels {
        var (n, v): ([String], [String]) = ([], [])
        for (i, name) in names.enumerated() where keep.contains(name) {
            n.append(name)
            v.append(values[i])
        }
        return PromLabels(names: n, values: v)
    }

    /// Every label but those in `drop`.
    public func dropping(_ drop: Set<String>) -> PromLabels {
        var (n, v): ([String], [String]) = ([], [])
        for (i, name) in names.enumerated() where !drop.contains(name) {
            n.append(name)
            v.append(values[i])
        }
        return n.count == names.count ? self : PromLabels(names: n, values: v)
    }

    /// The set with `name` set to `value`, or removed when `value` is empty.
    public func setting(_ name: String, _ value: String) -> PromLabels {
        var (n, v) = (names, values)
        if let i = n.firstIndex(of: name) {
            if value.isEmpty {
                n.remove(at: i)
                v.remove(at: i)
            } else {
                guard v[i] != value else { return self }
                v[i] = value
            }
            return PromLabels(names: n, values: v)
        }
        guard !value.isEmpty else { return self }
        let at = n.firstIndex { name.utf8.lexicographicallyPrecedes($0.utf8) } ?? n.count
        n.insert(name, at: at)
        v.insert(value, at: at)
        return PromLabels(names: n, values: v)
    }

    public static func < (a: PromLabels, b: PromLabels) -> Bool {
        for i in 0..<min(a.count, b.count) {
            if a.names[i] != b.names[i] { return a.names[i].utf8.lexicographicallyPrecedes(b.names[i].utf8) }
            if a.values[i] != b.values[i] { return a.values[i].utf8.lexicographicallyPrecedes(b.values[i].utf8) }
        }
        return a.count < b.count
    }

    /// `{a="1", b="2"}` with the metric name first, as Prometheus prints a series in its messages.
    public var description: String {
        var head = ""
        var inner: [String] = []
        for (name, value) in zip(names, values) {
            if name == Self.metricName {
                head = value
            } else {
                inner.append("\(name)=\(PrometheusNames.quoted(value))")
            }
        }
        return head + "{" + inner.joined(separator: ", ") + "}"
    }

    /// Whether `name` is a Prometheus label name (`[a-zA-Z_][a-zA-Z0-9_]*`).
    public static func isLabelName(_ name: String) -> Bool {
        guard let first = name.utf8.first, first == 0x5F || (first | 0x20 >= 0x61 && first | 0x20 <= 0x7A) else {
            return false
        }
        return name.utf8.allSatisfy {
            $0 == 0x5F || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39)
        }
    }
}

/// One series' samples, oldest first; times in milliseconds.
public struct PromSeries: Sendable {
    public var labels: PromLabels
    public var times: [Int64]
    public var values: [Double]

    public init(labels: PromLabels, times: [Int64] = [], values: [Double] = []) {
        self.labels = labels
        self.times = times
        self.values = values
    }
}

/// What a query evaluates to.
public enum PromQLResult: Sendable {
    case scalar(time: Int64, value: Double)
    case string(time: Int64, value: String)
    /// An instant vector: each series' labels, value and evaluation time.
    case vector([(labels: PromLabels, value: Double)], time: Int64)
    case matrix([PromSeries])
}

/// Why a query failed, in the categories of Prometheus' API (`errorType`) and with its status codes.
public struct PromQLError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// 400: the request or the query is wrong.
        case badData = "bad_data"
        /// 422: the query is right but could not be evaluated (many-to-many matching, too many samples).
        case execution
        /// 503: the query ran past its deadline.
        case timeout
        case canceled
        /// 500: the store failed.
        case `internal`
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    public var status: Int {
        switch kind {
        case .badData: 400
        case .execution: 422
        case .timeout, .canceled: 503
        case .internal: 500
        }
    }

    static let tooManySamples = PromQLError(
        .execution, "query processing would load too many samples into memory in query execution")
    static let sameLabelSet = PromQLError(.execution, "vector cannot contain metrics with the same labelset")
}
