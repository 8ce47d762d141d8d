import Foundation
import PlumbAPI
import PlumbMetrics
import SwiftProtobuf

/// Prometheus remote write 1.0 (`POST /api/v1/write`): a snappy-compressed protobuf `WriteRequest`, as Prometheus,
/// Grafana Agent/Alloy, vmagent and the OpenTelemetry Collector send it.
///
/// Every series is named by `PrometheusNames`; each sample is stored at its second (`timestamp` is milliseconds).
/// The request is taken whole or refused whole (400 naming the series), except for samples no Plumb series can hold,
/// which are skipped and counted: Prometheus' staleness markers, NaN and ±Inf, and magnitudes outside CloudWatch's
/// range. A refusal is a 4xx, which senders do not retry: the request could never be taken.
public struct RemoteWriteDecoder: Sendable {
    public let validator: DatumValidator
    /// The largest body once decompressed.
    public let maxDecompressedBytes: Int

    public init(limits: IngestLimits, maxDecompressedBytes: Int = 32 * 1_048_576) {
        validator = DatumValidator(limits: limits)
        self.maxDecompressedBytes = maxDecompressedBytes
    }

    /// What a request holds: the samples to store, and how many it skipped.
    public struct Batch: Sendable {
        public var samples: [Sample] = []
        public var skipped = 0
        public var series = 0
    }

    /// The bits of Prometheus' staleness marker (a NaN).
    static let staleMarker: UInt64 = 0x7FF0_0000_0000_0002

    /// - Parameter contentEncoding: the request's `Content-Encoding`; only `snappy` is remote write.
    public func decode(
        _ body: [UInt8], contentEncoding: String?, now: Int64, resolution: StorageResolution
    ) throws -> Batch {
        guard contentEncoding?.lowercased() == "snappy" else {
            throw MetricsError.invalid(
                "remote write needs its body sent with 'Content-Encoding: snappy' (got \(contentEncoding.map { "'\($0)'" } ?? "none"))"
            )
        }
        guard !body.isEmpty else { throw MetricsError.missing("empty body: send a snappy-compressed WriteRequest") }
        let bytes: [UInt8]
        do {
            bytes = try Snappy.decompress(body, limit: maxDecompressedBytes)
        } catch let error as Snappy.Invalid {
            throw MetricsError.invalid("the body is not snappy-compressed as remote write sends it: \(error)")
        }
        var batch = Batch()
        var reader = WriteRequestReader(bytes)
        let oldest = now - validator.limits.maxAgeSeconds
        let newest = now + validator.limits.maxFutureSeconds
        do {
            batch.series = try reader.read(
                key: { labels, index in
                    try PrometheusNames.seriesKey(labels: labels, validator: validator, at: "body.timeseries[\(index)]")
                },
                sample: { key, index, k, value, milliseconds in
                    guard value.bitPattern != Self.staleMarker, DatumValidator.acceptsValue(value) else {
                        batch.skipped += 1
                        return
                    }
                    let seconds = Checked.floorDivision(milliseconds, 1_000)
                    // The message (and its text) only for a refusal: this runs once per sample.
                    if seconds < oldest || seconds > newest {
                        try validator.checkTimestamp(seconds, now: now, at: "body.timeseries[\(index)].samples[\(k)]")
                    }
                    batch.samples.append(
                        Sample(series: key, timestamp: seconds, resolution: resolution, value: .single(value)))
                })
        } catch let error as WriteRequestReader.Malformed {
            throw MetricsError.invalid("the body is not a protobuf WriteRequest: \(error)")
        }
        return batch
    }
}

/// A remote write body as Prometheus sends it: the series' `WriteRequest`, snappy-compressed. For clients of Plumb
/// written in Swift (the benchmark) and for tests.
public enum RemoteWriteBody {
    public struct Series: Sendable {
        public var labels: [(name: String, value: String)]
        /// Values with their times in milliseconds.
        public var samples: [(value: Double, timestamp: Int64)]

        public init(labels: [(name: String, value: String)], samples: [(value: Double, timestamp: Int64)]) {
            self.labels = labels
            self.samples = samples
        }
    }

    public static func make(_ series: [Series]) throws -> [UInt8] {
        var request = Prometheus_WriteRequest()
        request.timeseries = series.map { s in
            var t = Prometheus_TimeSeries()
            t.labels = s.labels.map { l in
                var label = Prometheus_Label()
                label.name = l.name
                label.value = l.value
                return label
            }
            t.samples = s.samples.map { v in
                var sample = Prometheus_Sample()
                sample.value = v.value
                sample.timestamp = v.timestamp
                return sample
            }
            return t
        }
        return Snappy.compress(try request.serializedBytes())
    }

    /// Series from lines in exposition form, `name{label="value",…} value timestamp-ms`; nil for text that is not
    /// (a test's mutated seed, then sent as it is).
    public static func series(fromLines text: String) -> [Series]? {
        var out: [Series] = []
        for line in text.split(separator: "\n") where !line.isEmpty {
            let parts = line.split(separator: " ")
            guard parts.count == 3, let value = Double(parts[1]), let timestamp = Int64(parts[2]) else { return nil }
            var labels: [(name: String, value: String)] = []
            let head = parts[0]
            if let open = head.firstIndex(of: "{") {
                guard head.last == "}" else { return nil }
                labels.append(("__name__", String(head[..<open])))
                let inner = head[head.index(after: open)..<head.index(before: head.endIndex)]
                for pair in inner.split(separator: ",") {
                    let kv = pair.split(separator: "=", maxSplits: 1)
                    guard kv.count == 2, kv[1].count >= 2, kv[1].first == "\"", kv[1].last == "\"" else { return nil }
                    labels.append((String(kv[0]), String(kv[1].dropFirst().dropLast())))
                }
            } else {
                labels.append(("__name__", String(head)))
            }
            out.append(Series(labels: labels, samples: [(value, timestamp)]))
        }
        return out
    }
}
