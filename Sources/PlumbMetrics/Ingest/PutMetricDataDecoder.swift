import PlumbAPI
import PlumbStore

/// Turns a `POST /api/v1/metrics` body (CloudWatch PutMetricData in JSON) into samples, or rejects the whole
/// request naming the first bad datum and field.
public struct PutMetricDataDecoder: Sendable {
    /// The field names of a request: Plumb's (`namespace`, `data`, `name`, …) or CloudWatch's own
    /// (`Namespace`, `MetricData`, `MetricName`, …, as the AWS SDKs send PutMetricData). Messages name the fields as
    /// the request spelt them.
    public struct Keys: Sendable {
        public var namespace, data, name, dimensions, unit, timestamp, value, values, counts, statistics,
            storageResolution: String
        public var sampleCount, sum, min, max: String

        public static let plumb = Keys(
            namespace: "namespace", data: "data", name: "name", dimensions: "dimensions", unit: "unit",
            timestamp: "timestamp", value: "value", values: "values", counts: "counts", statistics: "statistics",
            storageResolution: "storageResolution", sampleCount: "sampleCount", sum: "sum", min: "min", max: "max")
        public static let aws = Keys(
            namespace: "Namespace", data: "MetricData", name: "MetricName", dimensions: "Dimensions", unit: "Unit",
            timestamp: "Timestamp", value: "Value", values: "Values", counts: "Counts",
            statistics: "StatisticValues", storageResolution: "StorageResolution", sampleCount: "SampleCount",
            sum: "Sum", min: "Minimum", max: "Maximum")

        var datumFields: Set<String> {
            [name, dimensions, unit, timestamp, value, values, counts, statistics, storageResolution]
        }
    }

    public let validator: DatumValidator
    public let keys: Keys
    let datumFields: Set<String>

    public init(limits: IngestLimits, keys: Keys = .plumb) {
        validator = DatumValidator(limits: limits)
        self.keys = keys
        datumFields = keys.datumFields
    }

    public func decode(_ body: [UInt8], now: Int64) throws -> [Sample] {
        guard body.count <= validator.limits.maxJSONBodyBytes else {
            throw MetricsError.tooLarge(
                "request body is \(body.count) bytes (at most \(validator.limits.maxJSONBodyBytes))")
        }
        guard case .object(let root) = try JSONValue.parse(body) else {
            throw MetricsError.invalid("request body must be a JSON object with '\(keys.namespace)' and '\(keys.data)'")
        }
        return try decode(root, now: now)
    }

    /// Decodes a request already parsed into JSON values (the AWS Query and CBOR forms are turned into these).
    public func decode(_ root: [String: JSONValue], now: Int64) throws -> [Sample] {
        for key in root.keys where key != keys.namespace && key != keys.data {
            throw MetricsError.invalid("unknown field '\(key)' (expected '\(keys.namespace)' and '\(keys.data)')")
        }
        guard case .string(let namespace)? = root[keys.namespace] else {
            throw MetricsError.missing("'\(keys.namespace)' is required and must be a string")
        }
        try validator.checkNamespace(namespace, at: keys.namespace)
        guard case .array(let data)? = root[keys.data] else {
            throw MetricsError.missing("'\(keys.data)' is required and must be an array of datums")
        }
        guard !data.isEmpty else { throw MetricsError.missing("'\(keys.data)' is empty") }
        guard data.count <= validator.limits.maxDatumsPerRequest else {
            throw MetricsError.tooLarge(
                "\(data.count) datums in one request (at most \(validator.limits.maxDatumsPerRequest))")
        }
        return try data.enumerated().map { index, datum in
            try decodeDatum(datum, namespace: namespace, place: "\(keys.data)[\(index)]", now: now)
        }
    }

    private func decodeDatum(_ json: JSONValue, namespace: String, place: String, now: Int64) throws -> Sample {
        guard case .object(let fields) = json else { throw MetricsError.invalid("\(place): a datum must be an object") }
        for key in fields.keys where !datumFields.contains(key) {
            throw MetricsError.invalid("\(place): unknown field '\(key)'")
        }
        guard case .string(let name)? = fields[keys.name] else {
            throw MetricsError.missing("\(place).\(keys.name) is required and must be a string")
        }
        try validator.checkName(name, what: "metric name", at: "\(place).\(keys.name)")
        let dimensions = try decodeDimensions(fields[keys.dimensions], place: "\(place).\(keys.dimensions)")
        try validator.checkDimensions(dimensions, at: "\(place).\(keys.dimensions)")

        var unit: MetricUnit?
        if let u = fields[keys.unit] {
            guard case .string(let text) = u, let parsed = MetricUnit(rawValue: text) else {
                throw MetricsError.invalid(
                    "\(place).\(keys.unit) must be one of \(MetricUnit.allCases.map(\.rawValue).joined(separator: ", "))"
                )
            }
            unit = parsed
        }

        var timestamp = now
        switch fields[keys.timestamp] {
        case nil, .null?: break
        case .number(let n)?:
            guard let seconds = Checked.epochSeconds(n) else {
                throw MetricsError.invalid("\(place).\(keys.timestamp) \(n) is not a time in epoch seconds")
            }
            timestamp = seconds
        case .string(let s)?:
            guard let seconds = TimeParsing.rfc3339(s) else {
                throw MetricsError.invalid("\(place).\(keys.timestamp) '\(s)' is not RFC 3339 or epoch seconds")
            }
            timestamp = Int64(seconds.rounded(.down))
        case let other?:
            throw MetricsError.invalid("\(place).\(keys.timestamp) must be a string or a number, not \(other.typeName)")
        }
        try validator.checkTimestamp(timestamp, now: now, at: "\(place).\(keys.timestamp)")

        var resolution = StorageResolution.standard
        if let r = fields[keys.storageResolution] {
            guard case .number(let n) = r, let parsed = StorageResolution(rawValue: Int(exactly: n) ?? -1) else {
                throw MetricsError.invalid("\(place).\(keys.storageResolution) must be 1 or 60")
            }
            resolution = parsed
        }

        let value = try decodeValue(fields, place: place)
        return Sample(
            series: SeriesKey(namespace: namespace, name: name, dimensions: dimensions),
            unit: unit, timestamp: timestamp, resolution: resolution, value: value
        )
    }

    private func decodeDimensions(_ json: JSONValue?, place: String) throws -> [Dimension] {
        switch json {
        case nil, .null?:
            return []
        case .object(let object)?:
            return try object.sorted { $0.key < $1.key }.map { key, value in
                guard case .string(let text) = value else {
                    throw MetricsError.invalid("\(place).\(key) must be a string, not \(value.typeName)")
                }
                return Dimension(name: key, value: text)
            }
        case .array(let items)?:
            // CloudWatch's own shape: [{"Name": "...", "Value": "..."}].
            return try items.enumerated().map { i, item in
                guard case .object(let pair) = item, case .string(let n)? = pair["Name"] ?? pair["name"],
                    case .string(let v)? = pair["Value"] ?? pair["value"]
                else { throw MetricsError.invalid("\(place)[\(i)] must be {\"Name\": string, \"Value\": string}") }
                return Dimension(name: n, value: v)
            }
        case let other?:
            throw MetricsError.invalid("\(place) must be an object of name → value, not \(other.typeName)")
        }
    }

    private func decodeValue(_ fields: [String: JSONValue], place: String) throws -> Sample.Value {
        let present = [keys.value, keys.values, keys.statistics].filter { fields[$0] != nil }
        guard present.count == 1 else {
            if present.isEmpty {
                throw MetricsError.missing(
                    "\(place): one of '\(keys.value)', '\(keys.values)' or '\(keys.statistics)' is required")
            }
            throw MetricsError(
                code: "InvalidParameterCombination",
                message:
                    "\(place): give exactly one of '\(keys.value)', '\(keys.values)', '\(keys.statistics)' (got \(present.joined(separator: ", ")))"
            )
        }
        if fields[keys.counts] != nil && fields[keys.values] == nil {
            throw MetricsError(
                code: "InvalidParameterCombination", message: "\(place): '\(keys.counts)' needs '\(keys.values)'")
        }
        switch present[0] {
        case keys.value:
            return .single(try number(fields[keys.value]!, what: keys.value, place: place))
        case keys.values:
            guard case .array(let items) = fields[keys.values]! else {
                throw MetricsError.invalid("\(place).\(keys.values) must be an array of numbers")
            }
            guard !items.isEmpty else { throw MetricsError.invalid("\(place).\(keys.values) is empty") }
            guard items.count <= validator.limits.maxValuesPerDatum else {
                throw MetricsError.invalid(
                    "\(place).\(keys.values) has \(items.count) values (at most \(validator.limits.maxValuesPerDatum))")
            }
            let values = try items.enumerated().map { try number($1, what: "\(keys.values)[\($0)]", place: place) }
            var counts: [Double]?
            if let c = fields[keys.counts] {
                guard case .array(let countItems) = c else {
                    throw MetricsError.invalid("\(place).\(keys.counts) must be an array of numbers")
                }
                guard countItems.count == items.count else {
                    throw MetricsError.invalid(
                        "\(place).\(keys.counts) has \(countItems.count) entries but \(keys.values) has \(items.count)")
                }
                counts = try countItems.enumerated().map { i, item in
                    let n = try number(item, what: "\(keys.counts)[\(i)]", place: place)
                    guard n >= 0 else {
                        throw MetricsError.invalid("\(place).\(keys.counts)[\(i)] must not be negative")
                    }
                    return n
                }
            }
            return .values(values, counts: counts)
        default:
            let statistics = keys.statistics
            let names = [keys.sampleCount, keys.sum, keys.min, keys.max]
            guard case .object(let stats) = fields[statistics]! else {
                throw MetricsError.invalid(
                    "\(place).\(statistics) must be an object {\(names.joined(separator: ", "))}")
            }
            for key in stats.keys where !names.contains(key) {
                throw MetricsError.invalid("\(place).\(statistics): unknown field '\(key)'")
            }
            func field(_ key: String) throws -> Double {
                guard let v = stats[key] else {
                    throw MetricsError.missing("\(place).\(statistics).\(key) is required")
                }
                return try number(v, what: "\(statistics).\(key)", place: place)
            }
            let count = try field(keys.sampleCount)
            let sum = try field(keys.sum)
            let min = try field(keys.min)
            let max = try field(keys.max)
            guard count > 0 else {
                throw MetricsError.invalid("\(place).\(statistics).\(keys.sampleCount) must be positive")
            }
            guard min <= max else {
                throw MetricsError.invalid("\(place).\(statistics).\(keys.min) is greater than \(keys.max)")
            }
            return .statistics(count: count, sum: sum, min: min, max: max)
        }
    }

    private func number(_ json: JSONValue, what: String, place: String) throws -> Double {
        guard case .number(let n) = json else {
            throw MetricsError.invalid("\(place).\(what) must be a number, not \(json.typeName)")
        }
        try validator.checkValue(n, what: what, at: place)
        return n
    }
}
