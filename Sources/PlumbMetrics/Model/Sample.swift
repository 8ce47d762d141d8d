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

    public init(series: SeriesKey, unit: MetricUnit? = nil, timestamp: Int64, resolution: StorageResolution = .standard, value: Value) {
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
    case seconds = "Seconds", microseconds = "Microseconds", milliseconds = "Milliseconds"
    case bytes = "Bytes", kilobytes = "Kilobytes", megabytes = "Megabytes", gigabytes = "Gigabytes"
    case terabytes = "Terabytes", bits = "Bits", kilobits = "Kilobits", megabits = "Megabits"
    case gigabits = "Gigabits", terabits = "Terabits", percent = "Percent", count = "Count"
    case bytesPerSecond = "Bytes/Second", kilobytesPerSecond = "Kilobytes/Second"
    case megabytesPerSecond = "Megabytes/Second", gigabytesPerSecond = "Gigabytes/Second"
    case terabytesPerSecond = "Terabytes/Second", bitsPerSecond = "Bits/Second"
    case kilobitsPerSecond = "Kilobits/Second", megabitsPerSecond = "Megabits/Second"
    case gigabitsPerSecond = "Gigabits/Second", terabitsPerSecond = "Terabits/Second"
    case countPerSecond = "Count/Second", none = "None"
}
