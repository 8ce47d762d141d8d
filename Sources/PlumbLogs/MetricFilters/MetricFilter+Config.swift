import PlumbAPI
import PlumbMetrics

extension MetricFilter {
    static let configFields: Set<String> = [
        "name", "log_group", "pattern", "namespace", "metric", "value", "default_value", "unit", "dimensions",
    ]

    /// A metric filter from its alert-file mapping (`metric_filters:` items) or an API document; nil when it does not
    /// check, with every problem recorded in the fields' sink.
    public static func parse(_ f: ConfigFields) -> MetricFilter? {
        f.rejectUnknown(configFields)
        let before = f.errorCount
        let name = f.string("name", required: true)
        let group = f.string("log_group", required: true)
        let patternText = f.string("pattern", required: true)
        let namespace = f.string("namespace", required: true)
        let metric = f.string("metric", required: true)
        let valueText = f.string("value") ?? "1"
        let defaultValue = f.double("default_value")
        if let defaultValue, !storable(defaultValue) {
            f.error("default_value", "must have a magnitude between 2^-360 and 2^360, or be 0")
        }
        let dimensions = f.stringMap("dimensions") ?? [:]
        if dimensions.count > 3 { f.error("dimensions", "a metric filter has at most 3 dimensions") }
        var unit: MetricUnit?
        if let text = f.string("unit") {
            unit = MetricUnit(rawValue: text)
            if unit == nil { f.error("unit", "'\(text)' is not a CloudWatch unit") }
        }
        var pattern: FilterPattern?
        if let patternText {
            do { pattern = try FilterPattern(patternText) } catch { f.error("pattern", error.message) }
        }
        if let group {
            do { try LogLimits.checkGroupName(group) } catch { f.error("log_group", error.message) }
        }
        let value = parseValue(valueText, f)
        guard f.errorCount == before, let name, let group, let pattern, let namespace, let metric else { return nil }
        return MetricFilter(
            name: name, group: group, pattern: pattern, namespace: namespace, metric: metric, value: value,
            defaultValue: defaultValue, unit: unit, dimensions: dimensions)
    }

    /// `value`: a number, or a field the pattern captures (`$bytes`).
    static func parseValue(_ text: String, _ f: ConfigFields) -> Value {
        if text.hasPrefix("$") { return .field(String(text.dropFirst())) }
        if let number = Double(text), storable(number) { return .constant(number) }
        f.error("value", "'\(text)' must be a number (finite, magnitude at most 2^360) or a captured $field")
        return .constant(1)
    }

    /// A metric filter sent to `PUT /api/v1/metric-filters/{name}` (the alert-file fields as JSON): `root` is the
    /// document's tree, nil when the document was empty; its `name`, when given, must be the path's.
    public static func parseDocument(_ root: ConfigNode?, name: String) -> Result<MetricFilter, AlertFileErrors> {
        let file = "request body"
        guard let root, var mapping = root.mapping else {
            return .failure(
                AlertFileErrors([
                    AlertFileError(file: file, line: 1, field: "", message: "the body must be a JSON object")
                ]))
        }
        if let given = root["name"]?.scalar, given != name {
            return .failure(
                AlertFileErrors([
                    AlertFileError(
                        file: file, line: 1, field: "name",
                        message: "'\(given)' differs from the name in the path ('\(name)')")
                ]))
        }
        mapping.removeAll { $0.key.scalar == "name" }
        mapping.insert(
            .init(key: ConfigNode(.scalar("name"), line: root.line), value: ConfigNode(.scalar(name), line: root.line)),
            at: 0)
        let sink = ConfigErrorSink()
        guard
            let fields = ConfigFields(ConfigNode(.mapping(mapping), line: root.line), path: "", file: file, sink: sink),
            let filter = parse(fields), sink.errors.isEmpty
        else { return .failure(AlertFileErrors(sink.errors)) }
        return .success(filter)
    }
}
