import PlumbAPI

/// The one rule by which a Prometheus series (`name{labels}`: remote write, scraping, OTLP once its name is in
/// Prometheus form) becomes a Plumb series, documented in the README ("Names from Prometheus and OpenTelemetry").
///
/// - The name's first word is its namespace, as Prometheus' naming guide calls it ("a single-word application
///   prefix": `node_`, `http_`, `prometheus_`): the part before the first `_` that is neither its first nor its last
///   character. The rest is the metric name. `node_cpu_seconds_total` is namespace `node`, metric
///   `cpu_seconds_total`; that is also what line protocol's `node cpu_seconds_total=…` writes, which VictoriaMetrics
///   names `node_cpu_seconds_total`: the same series by either path.
/// - A name without such an underscore (`up`) is metric `up` in namespace `Prometheus`.
/// - Every label but `__name__` is a dimension of the same name; a label with an empty value is no label (as in
///   Prometheus). CloudWatch's limits apply: at most 30 dimensions, names up to 255 bytes, values up to 1,024.
public enum PrometheusNames {
    /// The namespace of names that have no prefix.
    public static let bareNamespace = "Prometheus"

    /// Whether `name` is a Prometheus metric name (`[a-zA-Z_:][a-zA-Z0-9_:]*`).
    public static func isMetricName(_ name: String) -> Bool {
        guard let first = name.utf8.first, isNameStart(first) else { return false }
        return name.utf8.allSatisfy { isNameStart($0) || ($0 >= 0x30 && $0 <= 0x39) }
    }

    static func isNameStart(_ byte: UInt8) -> Bool {
        (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x7A) || byte == 0x5F || byte == 0x3A
    }

    /// Namespace and metric name of a Prometheus metric name.
    public static func split(_ name: String) -> (namespace: String, name: String) {
        let bytes = Array(name.utf8)
        if bytes.count > 2, let cut = bytes.indices.dropFirst().dropLast().first(where: { bytes[$0] == 0x5F }) {
            return (
                String(decoding: bytes[..<cut], as: UTF8.self), String(decoding: bytes[(cut + 1)...], as: UTF8.self)
            )
        }
        return (bareNamespace, name)
    }

    /// The Plumb series of a Prometheus series, checked against `validator`'s limits; `place` names the series in
    /// an error ("timeseries[3]").
    public static func seriesKey(
        labels: [(name: String, value: String)], validator: DatumValidator, at place: String
    ) throws -> SeriesKey {
        var metric: String?
        var dimensions: [Dimension] = []
        dimensions.reserveCapacity(labels.count)
        for label in labels {
            if label.name == "__name__" {
                guard metric == nil else { throw MetricsError.invalid("\(place): __name__ is given twice") }
                metric = label.value
            } else if !label.value.isEmpty {
                dimensions.append(Dimension(name: label.name, value: label.value))
            }
        }
        guard let metric, !metric.isEmpty else { throw MetricsError.missing("\(place): no __name__ label") }
        guard isMetricName(metric) else {
            throw MetricsError.invalid(
                "\(place): '\(metric)' is not a Prometheus metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)")
        }
        let (namespace, name) = split(metric)
        try validator.checkNamespace(namespace, at: place)
        try validator.checkName(name, what: "metric name", at: place)
        try validator.checkDimensions(dimensions, at: place)
        return SeriesKey(namespace: namespace, name: name, dimensions: dimensions)
    }

    /// A PromQL string literal: double-quoted, with backslash, quote and control characters escaped.
    public static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
