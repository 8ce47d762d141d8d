import PlumbAPI
import PlumbMetrics

/// How a Plumb series is laid out in VictoriaMetrics: one documented, reversible rule (README "Metrics on
/// VictoriaMetrics").
///
/// - The metric name is `<namespace>_<name>` with every character outside `[a-zA-Z0-9_]` turned into `_` (what
///   VictoriaMetrics itself names line protocol's `measurement field`), so PromQL and Grafana see
///   `Plumb_Functions_Duration{Function="chat-send"}`. A colon is turned too: only Plumb's own suffixes (below)
///   carry one, so no user's metric is ever read as a companion.
/// - `plumb_namespace` and `plumb_metric` keep the exact strings, `plumb_id` a hash of the whole key, so a read
///   selects exactly one series with one matcher.
/// - A dimension is the label of its own name when that is a plain label name (`[a-zA-Z][a-zA-Z0-9_]*`, not starting
///   with `plumb_`); otherwise `plumb_d_<hex of its UTF-8 bytes>`.
/// - Companion series share every label and add a suffix to the name: `:plumb_count`, `:plumb_sum`, `:plumb_min`,
///   `:plumb_max` (pre-aggregated samples), `:plumb_bucket` with `plumb_bucket` (their distribution) and
///   `:plumb_series` with `plumb_unit` (the catalog entry: its value is when the series was last written with that
///   unit, epoch seconds; the unit of the latest one is the series' unit).
struct SeriesLabels {
    static let namespaceLabel = "plumb_namespace"
    static let metricLabel = "plumb_metric"
    static let idLabel = "plumb_id"
    static let bucketLabel = "plumb_bucket"
    static let unitLabel = "plumb_unit"
    static let encodedDimensionPrefix = "plumb_d_"

    /// What a stored VictoriaMetrics series is to Plumb.
    enum Part: String, CaseIterable {
        case value = ""
        case count = ":plumb_count"
        case sum = ":plumb_sum"
        case min = ":plumb_min"
        case max = ":plumb_max"
        case bucket = ":plumb_bucket"
        case catalog = ":plumb_series"
    }

    /// The metric name of a key's value series.
    static func metricName(_ key: SeriesKey) -> String {
        var name = ""
        name.unicodeScalars.reserveCapacity(key.namespace.utf8.count + key.name.utf8.count + 1)
        for scalar in (key.namespace + "_" + key.name).unicodeScalars {
            let plain =
                (scalar >= "a" && scalar <= "z") || (scalar >= "A" && scalar <= "Z") || (scalar >= "0" && scalar <= "9")
                || scalar == "_"
            name.unicodeScalars.append(plain ? scalar : "_")
        }
        if let first = name.unicodeScalars.first, first >= "0" && first <= "9" { name = "_" + name }
        return name
    }

    /// Whether `name` can be a label as it is.
    static func isPlainLabelName(_ name: String) -> Bool {
        guard let first = name.utf8.first, (first | 0x20) >= 0x61 && (first | 0x20) <= 0x7A else { return false }
        guard !name.hasPrefix("plumb_") else { return false }
        return name.utf8.allSatisfy { byte in
            (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x7A) || (byte >= 0x30 && byte <= 0x39) || byte == 0x5F
        }
    }

    /// VictoriaMetrics truncates longer label names (`-maxLabelNameLen` in later releases, fixed at 256 before).
    static let maxLabelNameBytes = 256

    static func labelName(ofDimension name: String) -> String {
        guard !isPlainLabelName(name) else { return name }
        var label = encodedDimensionPrefix
        for byte in name.utf8 {
            label += String(byte >> 4, radix: 16) + String(byte & 0x0F, radix: 16)
        }
        return label
    }

    /// The dimension name a label holds; nil for a label that is not a dimension's.
    static func dimensionName(ofLabel label: String) -> String? {
        if label.hasPrefix(encodedDimensionPrefix) {
            let hex = Array(label.utf8.dropFirst(encodedDimensionPrefix.utf8.count))
            guard hex.count % 2 == 0, !hex.isEmpty else { return nil }
            var bytes: [UInt8] = []
            bytes.reserveCapacity(hex.count / 2)
            for i in stride(from: 0, to: hex.count, by: 2) {
                guard let high = hexValue(hex[i]), let low = hexValue(hex[i + 1]) else { return nil }
                bytes.append(high << 4 | low)
            }
            return String(validating: bytes, as: UTF8.self)
        }
        guard label != "__name__", !label.hasPrefix("plumb_") else { return nil }
        return label
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte - 0x30
        case 0x61...0x66: byte - 0x61 + 10
        default: nil
        }
    }

    /// A 64-bit FNV-1a hash of the key's exact strings, as 16 hex digits: one matcher that selects the key's series.
    static func id(_ key: SeriesKey) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ text: String) {
            for byte in text.utf8 {
                hash ^= UInt64(byte)
                hash = hash &* 0x0000_0100_0000_01B3
            }
            hash ^= 0xFF
            hash = hash &* 0x0000_0100_0000_01B3
        }
        mix(key.namespace)
        mix(key.name)
        for dimension in key.dimensions {
            mix(dimension.name)
            mix(dimension.value)
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// Every label of `part` of `key` (`bucket` for a bucket series).
    static func labels(
        _ key: SeriesKey, part: Part, bucket: DistributionBucket? = nil, unit: MetricUnit? = nil
    ) -> [(String, String)] {
        var labels: [(String, String)] = [
            ("__name__", metricName(key) + part.rawValue), (namespaceLabel, key.namespace), (metricLabel, key.name),
            (idLabel, id(key)),
        ]
        for dimension in key.dimensions { labels.append((labelName(ofDimension: dimension.name), dimension.value)) }
        if let bucket { labels.append((bucketLabel, bucket.label)) }
        if part == .catalog { labels.append((unitLabel, unit?.rawValue ?? "")) }
        return labels
    }

    /// The key and part a stored series' labels describe; nil for a series Plumb did not write.
    static func parse(_ labels: [String: String]) -> (key: SeriesKey, part: Part, bucket: DistributionBucket?)? {
        guard let namespace = labels[namespaceLabel], let name = labels[metricLabel] else { return nil }
        var dimensions: [Dimension] = []
        for (label, value) in labels {
            guard let dimension = dimensionName(ofLabel: label) else { continue }
            dimensions.append(Dimension(name: dimension, value: value))
        }
        let key = SeriesKey(namespace: namespace, name: name, dimensions: dimensions)
        let metric = labels["__name__"] ?? ""
        let part = Part.allCases.first { $0 != .value && metric.hasSuffix($0.rawValue) } ?? .value
        var bucket: DistributionBucket?
        if part == .bucket {
            guard let label = labels[bucketLabel], let parsed = DistributionBucket(label: label) else { return nil }
            bucket = parsed
        }
        return (key, part, bucket)
    }

    /// A PromQL string literal (double-quoted, escaped).
    static func quoted(_ text: String) -> String { PrometheusNames.quoted(text) }
}
