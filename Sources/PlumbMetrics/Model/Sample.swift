import PlumbAPI

/// What one accepted datum contributes to one series at one time.
public struct Sample: Sendable, Equatable {
    public enum Value: Sendable, Equatable {
        case single(Double)
        /// Values with optional per-value counts (CloudWatch `Values`/`Counts`).
        case values([Double], counts: [Double]?)
        /// A pre-aggregated statistic set.
        case statistics(count: Double, sum: Double, min: Double, max: Double)
        /// An already aggregated distribution (the swift-metrics backend reports timers this way).
        case distribution(Aggregate)
    }

    public var series: SeriesKey
    public var unit: MetricUnit?
    /// Epoch seconds.
    public var timestamp: Int64
    public var resolution: StorageResolution
    public var value: Value

    public init(
        series: SeriesKey, unit: MetricUnit? = nil, timestamp: Int64, resolution: StorageResolution = .standard,
        value: Value
    ) {
        self.series = series
        self.unit = unit
        self.timestamp = timestamp
        self.resolution = resolution
        self.value = value
    }
}

/// The storage resolution of a datum: 1 s (high resolution) or 60 s (standard), as CloudWatch.
public enum StorageResolution: Int, Sendable, Codable {
    case high = 1
    case standard = 60
}

/// The CloudWatch standard units.
public enum MetricUnit: String, Sendable, Codable, CaseIterable {
    case seconds = "Seconds"
    case microseconds = "Microseconds"
    case milliseconds = "Milliseconds"
    case bytes = "Bytes"
    case kilobytes = "Kilobytes"
    case megabytes = "Megabytes"
    case gigabytes = "Gigabytes"
    case terabytes = "Terabytes"
    case bits = "Bits"
    case kilobits = "Kilobits"
    case megabits = "Megabits"
    case gigabits = "Gigabits"
    case terabits = "Terabits"
    case percent = "Percent"
    case count = "Count"
    case bytesPerSecond = "Bytes/Second"
    case kilobytesPerSecond = "Kilobytes/Second"
    case megabytesPerSecond = "Megabytes/Second"
    case gigabytesPerSecond = "Gigabytes/Second"
    case terabytesPerSecond = "Terabytes/Second"
    case bitsPerSecond = "Bits/Second"
    case kilobitsPerSecond = "Kilobits/Second"
    case megabitsPerSecond = "Megabits/Second"
    case gigabitsPerSecond = "Gigabits/Second"
    case terabitsPerSecond = "Terabits/Second"
    case countPerSecond = "Count/Second"
    case none = "None"
}
