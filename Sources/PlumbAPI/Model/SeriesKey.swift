/// The identity of a time series: namespace, metric name and its dimensions (sorted by name).
public struct SeriesKey: Hashable, Sendable, Codable {
    public let namespace: String
    public let name: String
    /// Dimension name/value pairs, sorted by name; names are unique.
    public let dimensions: [Dimension]

    // Inlinable, as are the Hashable members below: ingest builds and hashes a key per line in other modules.
    @inlinable
    public init(namespace: String, name: String, dimensions: [Dimension] = []) {
        self.namespace = namespace
        self.name = name
        self.dimensions = dimensions.sorted { $0.name < $1.name }
    }

    public init(namespace: String, name: String, dimensions: [String: String]) {
        self.init(
            namespace: namespace, name: name, dimensions: dimensions.map { Dimension(name: $0.key, value: $0.value) })
    }

    @inlinable
    public func hash(into hasher: inout Hasher) {
        hasher.combine(namespace)
        hasher.combine(name)
        hasher.combine(dimensions)
    }

    @inlinable
    public static func == (a: SeriesKey, b: SeriesKey) -> Bool {
        a.namespace == b.namespace && a.name == b.name && a.dimensions == b.dimensions
    }

    public var dimensionDictionary: [String: String] {
        Dictionary(uniqueKeysWithValues: dimensions.map { ($0.name, $0.value) })
    }

    /// Canonical text form of the dimensions, as stored: `name=value` pairs joined by `\u{1F}`.
    public var dimensionsText: String {
        dimensions.map { "\($0.name)=\($0.value)" }.joined(separator: "\u{1F}")
    }

    /// The value of the dimension `name`, nil when the series does not carry it.
    public func value(of name: String) -> String? { dimensions.first { $0.name == name }?.value }

    public static func parseDimensionsText(_ text: String) -> [Dimension] {
        guard !text.isEmpty else { return [] }
        return text.split(separator: "\u{1F}", omittingEmptySubsequences: false).map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return Dimension(name: String(parts[0]), value: parts.count > 1 ? String(parts[1]) : "")
        }
    }
}

/// One name/value pair that distinguishes series of the same metric (CloudWatch's Dimension).
public struct Dimension: Hashable, Sendable, Codable {
    public let name: String
    public let value: String

    @inlinable
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }

    @inlinable
    public func hash(into hasher: inout Hasher) {
        hasher.combine(name)
        hasher.combine(value)
    }

    @inlinable
    public static func == (a: Dimension, b: Dimension) -> Bool { a.name == b.name && a.value == b.value }
}
