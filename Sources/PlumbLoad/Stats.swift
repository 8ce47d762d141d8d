import Foundation
import Histogram

/// What one run (or one step of a run) measured: latency from the intended send time (corrected for coordinated
/// omission) and from the actual send time (uncorrected), both in microseconds, 1 µs to 1 h at 3 significant digits;
/// plus counts. Each event loop fills its own and they are merged at the end.
public struct LoadStats: Sendable {
    public static let highest: UInt64 = 3_600_000_000

    public var corrected = LoadStats.histogram()
    public var uncorrected = LoadStats.histogram()
    /// Completed requests (or acknowledged readings, or delivered chat messages), errors included.
    public var completed = 0
    /// Completions that were not a success: a non-2xx status, a rejected reading, a failed connection.
    public var errors = 0
    /// Requests still unanswered when the run's drain time ran out.
    public var unfinished = 0
    public var statuses: [Int: Int] = [:]
    /// The first few error descriptions, for the report.
    public var errorSamples: [String] = []
    public var bytesSent = 0
    public var bytesReceived = 0
    /// Sensor readings sent again after a lost connection.
    public var resent = 0

    public init() {}

    public static func histogram() -> Histogram<UInt64> {
        Histogram<UInt64>(
            lowestDiscernibleValue: 1, highestTrackableValue: highest, numberOfSignificantValueDigits: .three)
    }

    /// Records one completion; latencies in nanoseconds.
    @inline(__always)
    public mutating func record(correctedNanos: UInt64, uncorrectedNanos: UInt64) {
        _ = corrected.record(Swift.min(Swift.max(correctedNanos / 1_000, 1), Self.highest))
        _ = uncorrected.record(Swift.min(Swift.max(uncorrectedNanos / 1_000, 1), Self.highest))
        completed += 1
    }

    public mutating func error(_ description: @autoclosure () -> String) {
        errors += 1
        if errorSamples.count < 5 { errorSamples.append(description()) }
    }

    public mutating func merge(_ other: LoadStats) {
        corrected.add(other.corrected)
        uncorrected.add(other.uncorrected)
        completed += other.completed
        errors += other.errors
        unfinished += other.unfinished
        for (k, v) in other.statuses { statuses[k, default: 0] += v }
        for sample in other.errorSamples where errorSamples.count < 5 { errorSamples.append(sample) }
        bytesSent += other.bytesSent
        bytesReceived += other.bytesReceived
        resent += other.resent
    }

    /// The percentiles every report shows, in milliseconds.
    public static let percentiles: [Double] = [50, 90, 99, 99.9, 99.99]

    public func summary(corrected useCorrected: Bool = true) -> [String: Double] {
        let h = useCorrected ? corrected : uncorrected
        guard h.totalCount > 0 else { return [:] }
        var out: [String: Double] = [
            "mean": h.mean / 1_000, "max": Double(h.max) / 1_000, "min": Double(h.min) / 1_000,
        ]
        for p in Self.percentiles { out[Self.name(p)] = Double(h.valueAtPercentile(p)) / 1_000 }
        return out
    }

    /// `p50`, `p99.9`, …
    public static func name(_ p: Double) -> String {
        p == p.rounded() ? "p\(Int(p))" : "p\(p)"
    }

    /// Errors and unfinished requests per completed or unfinished one (a run of nothing but failed connections is 100 %).
    public var errorRate: Double {
        errors + unfinished == 0 ? 0 : min(1, Double(errors + unfinished) / Double(max(1, completed + unfinished)))
    }

    /// The distribution in HdrHistogram's percentile text format (values in milliseconds), for plotting tools.
    public func hdrText(corrected useCorrected: Bool = true) -> String {
        var out = ""
        (useCorrected ? corrected : uncorrected).outputPercentileDistribution(
            to: &out, outputValueUnitScalingRatio: 1_000)
        return out
    }
}
