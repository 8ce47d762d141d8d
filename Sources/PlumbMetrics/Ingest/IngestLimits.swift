import PlumbAPI

/// The limits every ingested datum is held to; CloudWatch's where it has one.
public struct IngestLimits: Sendable {
    /// Largest JSON PutMetricData body (CloudWatch: 1 MB).
    public var maxJSONBodyBytes = 1_048_576
    /// Largest line-protocol body.
    public var maxLineProtocolBodyBytes = 32 * 1_048_576
    /// Datums per JSON request (CloudWatch: 1,000).
    public var maxDatumsPerRequest = 1_000
    /// Values per datum in `values` (CloudWatch: 150).
    public var maxValuesPerDatum = 150
    /// Dimensions per metric (CloudWatch: 30).
    public var maxDimensions = 30
    public var maxNameLength = 255
    public var maxDimensionValueLength = 1_024
    /// Oldest accepted timestamp, seconds before now (CloudWatch: 14 days).
    public var maxAgeSeconds: Int64 = 14 * 86_400
    /// Furthest accepted timestamp, seconds after now (CloudWatch: 2 hours).
    public var maxFutureSeconds: Int64 = 2 * 3_600
    /// Largest magnitude of a value (CloudWatch: 2^360).
    public static let maxMagnitude = 0x1p360
    /// Smallest non-zero magnitude of a value (CloudWatch: 2^-360).
    public static let minMagnitude = 0x1p-360

    public init() {}
}

/// Checks names, dimensions, values and timestamps against `IngestLimits`.
public struct DatumValidator: Sendable {
    public let limits: IngestLimits

    public init(limits: IngestLimits) {
        self.limits = limits
    }

    /// Namespace: 1–255 characters from CloudWatch's set (letters, digits, `.-_/#: `), not starting with `:`.
    public func checkNamespace(_ namespace: String, at place: String) throws {
        guard !namespace.isEmpty else { throw MetricsError.missing("\(place): namespace is empty") }
        guard namespace.utf8.count <= limits.maxNameLength else {
            throw MetricsError.invalid("\(place): namespace is longer than \(limits.maxNameLength) characters")
        }
        guard !namespace.hasPrefix(":") else {
            throw MetricsError.invalid("\(place): namespace must not start with ':'")
        }
        for scalar in namespace.unicodeScalars where !Self.isNamespaceCharacter(scalar) {
            throw MetricsError.invalid(
                "\(place): namespace '\(namespace)' has the character '\(scalar)' (allowed: letters, digits, . - _ / # : space)"
            )
        }
    }

    static func isNamespaceCharacter(_ s: Unicode.Scalar) -> Bool {
        switch s {
        case "a"..."z", "A"..."Z", "0"..."9", ".", "-", "_", "/", "#", ":", " ": return true
        default: return false
        }
    }

    /// Metric and dimension names: 1–255 characters, no control characters.
    public func checkName(_ name: String, what: String, at place: String) throws {
        guard !name.isEmpty else { throw MetricsError.missing("\(place): \(what) is empty") }
        guard name.utf8.count <= limits.maxNameLength else {
            throw MetricsError.invalid("\(place): \(what) is longer than \(limits.maxNameLength) characters")
        }
        guard !Self.hasControlCharacter(name) else {
            throw MetricsError.invalid("\(place): \(what) contains a control character")
        }
    }

    public func checkDimensions(_ dimensions: [Dimension], at place: String) throws {
        guard dimensions.count <= limits.maxDimensions else {
            throw MetricsError.invalid("\(place): \(dimensions.count) dimensions (at most \(limits.maxDimensions))")
        }
        var seen = Set<String>()
        for dimension in dimensions {
            try checkName(dimension.name, what: "dimension name", at: place)
            guard seen.insert(dimension.name).inserted else {
                throw MetricsError.invalid("\(place): dimension '\(dimension.name)' is given twice")
            }
            guard !dimension.value.isEmpty else {
                throw MetricsError.invalid("\(place): dimension '\(dimension.name)' has an empty value")
            }
            guard dimension.value.utf8.count <= limits.maxDimensionValueLength else {
                throw MetricsError.invalid(
                    "\(place): dimension '\(dimension.name)' value is longer than \(limits.maxDimensionValueLength) characters"
                )
            }
            guard !Self.hasControlCharacter(dimension.value) else {
                throw MetricsError.invalid("\(place): dimension '\(dimension.name)' value contains a control character")
            }
        }
    }

    /// Whether `text` holds a control character (Unicode's general category Cc): C0, DEL and C1. ASCII text is
    /// checked byte by byte; only text with other bytes asks Unicode's tables (the ingest hot path).
    public static func hasControlCharacter(_ text: String) -> Bool {
        var ascii = true
        for byte in text.utf8 {
            if byte < 0x20 || byte == 0x7F { return true }
            if byte >= 0x80 { ascii = false }
        }
        return !ascii && text.unicodeScalars.contains { $0.properties.generalCategory == .control }
    }

    /// Whether `checkValue` would accept `value`: the hot path asks this first and builds a message only for a refusal.
    @inlinable
    public static func acceptsValue(_ value: Double) -> Bool {
        let magnitude = abs(value)
        return value.isFinite && magnitude <= IngestLimits.maxMagnitude
            && (magnitude == 0 || magnitude >= IngestLimits.minMagnitude)
    }

    public func checkValue(_ value: Double, what: String = "value", at place: String) throws {
        guard value.isFinite else { throw MetricsError.invalid("\(place): \(what) \(value) is not a finite number") }
        let magnitude = abs(value)
        guard magnitude <= IngestLimits.maxMagnitude else {
            throw MetricsError.invalid("\(place): \(what) \(value) is larger than 2^360 in magnitude")
        }
        guard magnitude == 0 || magnitude >= IngestLimits.minMagnitude else {
            throw MetricsError.invalid("\(place): \(what) \(value) is smaller than 2^-360 in magnitude")
        }
    }

    public func checkTimestamp(_ timestamp: Int64, now: Int64, at place: String) throws {
        if timestamp < now - limits.maxAgeSeconds {
            throw MetricsError.invalid("\(place): timestamp \(timestamp) is more than 14 days in the past")
        }
        if timestamp > now + limits.maxFutureSeconds {
            throw MetricsError.invalid("\(place): timestamp \(timestamp) is more than 2 hours in the future")
        }
    }
}
