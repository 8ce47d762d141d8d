import Foundation
import PlumbAPI
import PlumbMetrics

/// OTLP metrics (`POST /v1/metrics`): an `ExportMetricsServiceRequest` becomes Plumb samples, named by `OTLPNames`
/// and `PrometheusNames` (the README's "Names from Prometheus and OpenTelemetry").
///
/// - Dimensions: each data point's attributes, `job` (`service.namespace/service.name`, or `service.name`) and
///   `instance` (`service.instance.id`) from the resource, as Prometheus names them, and the resource attributes
///   listed in `otlp.promote_resource_attributes`. A point with more than 30 is refused (CloudWatch's limit).
/// - Gauge: each point's value. Sum: monotonic sums (counters) are stored as what each point adds, so a period's
///   `Sum` is what was counted in it (cumulative points through `CumulativeTracker`, delta points as they are);
///   non-monotonic sums (up-down counters) are stored as their value. Histogram and exponential histogram: one
///   distribution per point (what it adds, for cumulative points), with exact count, sum, minimum and maximum and
///   percentiles from the buckets. Summary: each quantile as `name{quantile="0.99"}`, with `name_sum` and
///   `name_count`, as Prometheus stores them.
/// - A point that cannot be stored (a bad name, too many dimensions, too old, a value that is not finite, buckets
///   that do not add up) is refused alone and counted in the answer's `partial_success`; the rest is stored.
public struct OTLPMetricsDecoder: Sendable {
    public let validator: DatumValidator
    public let promotedResourceAttributes: [String]
    public let tracker: CumulativeTracker

    public init(limits: IngestLimits, promotedResourceAttributes: [String] = [], tracker: CumulativeTracker) {
        validator = DatumValidator(limits: limits)
        self.promotedResourceAttributes = promotedResourceAttributes
        self.tracker = tracker
    }

    /// What a request holds: the samples to store, the points refused (with the first reason), and the cumulative
    /// state to commit once the samples are stored.
    public struct Batch: Sendable {
        public var samples: [Sample] = []
        public var points = 0
        public var rejected = 0
        public var problem: String?
        public var pending = CumulativeTracker.Pending()

        mutating func refuse(_ message: String) {
            rejected += 1
            if problem == nil { problem = message }
        }
    }

    /// The most buckets one histogram point may have.
    public static let maxBuckets = 16_384

    typealias Request = Opentelemetry_Proto_Collector_Metrics_V1_ExportMetricsServiceRequest
    typealias Metric = Opentelemetry_Proto_Metrics_V1_Metric

    public func decode(
        _ body: [UInt8], encoding: OTLPEncoding, contentEncoding: String?, limit: Int, now: Int64,
        resolution: StorageResolution
    ) throws(OTLPError) -> Batch {
        if encoding == .protobuf {
            return try readProtobuf(
                OTLPBody.inflate(body, contentEncoding: contentEncoding, limit: limit), now: now, resolution: resolution
            )
        }
        let request = try OTLPBody.decode(
            Request.self, body, encoding: encoding, contentEncoding: contentEncoding, limit: limit)
        return decode(request, now: now, resolution: resolution)
    }

    func decode(_ request: Request, now: Int64, resolution: StorageResolution) -> Batch {
        var batch = Batch()
        for (r, resourceMetrics) in request.resourceMetrics.enumerated() {
            let resource = resourceLabels(resourceMetrics.resource.attributes)
            for (s, scopeMetrics) in resourceMetrics.scopeMetrics.enumerated() {
                for (m, metric) in scopeMetrics.metrics.enumerated() {
                    let place = "resourceMetrics[\(r)].scopeMetrics[\(s)].metrics[\(m)] '\(metric.name.prefix(100))'"
                    add(metric, resource: resource, place: place, now: now, resolution: resolution, to: &batch)
                }
            }
        }
        return batch
    }

    /// `job`, `instance` and the promoted resource attributes, as labels.
    func resourceLabels(_ attributes: [OTelKeyValue]) -> [(name: String, value: String)] {
        var labels: [(name: String, value: String)] = []
        if let service = OTLPAttributes.find("service.name", in: attributes) {
            let namespace = OTLPAttributes.find("service.namespace", in: attributes)
            labels.append(("job", namespace.map { "\($0)/\(service)" } ?? service))
        }
        if let instance = OTLPAttributes.find("service.instance.id", in: attributes) {
            labels.append(("instance", instance))
        }
        for key in promotedResourceAttributes {
            if let value = OTLPAttributes.find(key, in: attributes) { labels.append((OTLPNames.labelName(key), value)) }
        }
        return labels
    }

    /// A point's labels: the resource's, then its attributes (two keys escaping to one label join their values with
    /// `;`, as Prometheus does), then `__name__`.
    func labels(
        _ name: String, resource: [(name: String, value: String)], attributes: [OTelKeyValue],
        extra: (name: String, value: String)? = nil
    ) -> [(name: String, value: String)] {
        var labels = resource
        for kv in attributes {
            guard let value = OTLPAttributes.text(kv.value) else { continue }
            let label = OTLPNames.labelName(kv.key)
            if let i = labels.firstIndex(where: { $0.name == label }) {
                labels[i].value += ";" + value
            } else {
                labels.append((label, value))
            }
        }
        if let extra { labels.append(extra) }
        labels.append(("__name__", name))
        return labels
    }

    func seconds(_ nanos: UInt64, now: Int64) -> Int64 {
        nanos == 0 ? now : Int64(nanos / 1_000_000_000)
    }

    func add(
        _ metric: Metric, resource: [(name: String, value: String)], place: String, now: Int64,
        resolution: StorageResolution, to batch: inout Batch
    ) {
        let unit = OTLPNames.metricUnit(metric.unit)
        func key(
            _ name: String, _ attributes: [OTelKeyValue], _ at: String, extra: (name: String, value: String)? = nil
        )
            -> SeriesKey?
        {
            do {
                return try PrometheusNames.seriesKey(
                    labels: labels(name, resource: resource, attributes: attributes, extra: extra),
                    validator: validator, at: at)
            } catch {
                batch.refuse((error as? MetricsError)?.message ?? "\(at): \(error)")
                return nil
            }
        }
        func time(_ nanos: UInt64, _ at: String) -> Int64? {
            let t = seconds(nanos, now: now)
            do {
                try validator.checkTimestamp(t, now: now, at: at)
                return t
            } catch {
                batch.refuse((error as? MetricsError)?.message ?? "\(at): \(error)")
                return nil
            }
        }
        func store(_ series: SeriesKey, _ t: Int64, _ value: Sample.Value) {
            batch.samples.append(Sample(series: series, unit: unit, timestamp: t, resolution: resolution, value: value))
        }
        func number(_ point: Opentelemetry_Proto_Metrics_V1_NumberDataPoint, _ at: String) -> Double? {
            let value: Double =
                switch point.value {
                case .asDouble(let d): d
                case .asInt(let i): Double(i)
                case nil: .nan
                }
            guard DatumValidator.acceptsValue(value) else {
                batch.refuse("\(at): value \(value) cannot be stored (finite, at most 2^360 in magnitude)")
                return nil
            }
            return value
        }
        let noRecordedValue: UInt32 = 1

        switch metric.data {
        case .gauge(let gauge):
            let name = OTLPNames.metricName(metric.name, unit: metric.unit, kind: .gauge)
            for (i, point) in gauge.dataPoints.enumerated() where point.flags & noRecordedValue == 0 {
                batch.points += 1
                let at = "\(place).gauge.dataPoints[\(i)]"
                guard let series = key(name, point.attributes, at), let t = time(point.timeUnixNano, at),
                    let value = number(point, at)
                else { continue }
                store(series, t, .single(value))
            }
        case .sum(let sum):
            let name = OTLPNames.metricName(
                metric.name, unit: metric.unit, kind: sum.isMonotonic ? .monotonicSum : .sum)
            let cumulative = sum.aggregationTemporality == .cumulative
            for (i, point) in sum.dataPoints.enumerated() where point.flags & noRecordedValue == 0 {
                batch.points += 1
                let at = "\(place).sum.dataPoints[\(i)]"
                guard let series = key(name, point.attributes, at), let t = time(point.timeUnixNano, at),
                    let value = number(point, at)
                else { continue }
                guard sum.isMonotonic, cumulative else {
                    store(series, t, .single(value))
                    continue
                }
                let added = tracker.delta(
                    series, start: point.startTimeUnixNano, time: point.timeUnixNano, state: .number(value), now: now,
                    pending: &batch.pending,
                    whole: value
                ) { previous in
                    guard case .number(let last) = previous, value >= last else { return nil }
                    return value - last
                }
                if let added { store(series, t, .single(added)) }
            }
        case .histogram(let histogram):
            let name = OTLPNames.metricName(metric.name, unit: metric.unit, kind: .histogram)
            let cumulative = histogram.aggregationTemporality == .cumulative
            for (i, point) in histogram.dataPoints.enumerated() where point.flags & noRecordedValue == 0 {
                batch.points += 1
                let at = "\(place).histogram.dataPoints[\(i)]"
                guard let series = key(name, point.attributes, at), let t = time(point.timeUnixNano, at) else {
                    continue
                }
                let bounds = point.explicitBounds
                let counts = point.bucketCounts
                guard counts.count <= Self.maxBuckets else {
                    batch.refuse("\(at): \(counts.count) buckets (at most \(Self.maxBuckets))")
                    continue
                }
                guard counts.isEmpty || counts.count == bounds.count + 1 else {
                    batch.refuse("\(at): \(counts.count) bucket counts for \(bounds.count) bounds (needs bounds + 1)")
                    continue
                }
                guard bounds.allSatisfy(\.isFinite), zip(bounds, bounds.dropFirst()).allSatisfy({ $0 < $1 }) else {
                    batch.refuse("\(at): explicitBounds must be finite and increasing")
                    continue
                }
                let total = counts.reduce(UInt64(0)) { $0 &+ $1 }
                guard counts.isEmpty || total == point.count else {
                    batch.refuse("\(at): the bucket counts add up to \(total), but count is \(point.count)")
                    continue
                }
                let sum = point.hasSum ? point.sum : .nan
                let range = CumulativeTracker.Range(
                    min: point.hasMin ? point.min : nil, max: point.hasMax ? point.max : nil)
                let state = CumulativeTracker.State.histogram(
                    bounds: bounds, counts: counts, count: point.count, sum: sum, range: range)
                let whole = HistogramPart(counts: counts, count: point.count, sum: sum, min: range.min, max: range.max)
                let part: HistogramPart?
                if cumulative {
                    part = tracker.delta(
                        series, start: point.startTimeUnixNano, time: point.timeUnixNano, state: state, now: now,
                        pending: &batch.pending,
                        whole: whole
                    ) { previous in
                        guard case .histogram(let b, let c, let n, let s, let earlier) = previous, b == bounds,
                            c.count == counts.count, point.count >= n, zip(counts, c).allSatisfy({ $0 >= $1 })
                        else { return nil }
                        let exact = range.added(since: earlier)
                        return HistogramPart(
                            counts: zip(counts, c).map { $0 - $1 }, count: point.count - n, sum: sum - s,
                            min: exact.exactMin, max: exact.exactMax, knownRange: (range.min, range.max))
                    }
                } else {
                    part = whole
                }
                guard let part, part.count > 0 else { continue }
                do {
                    store(series, t, try part.value(bounds: bounds, at: at))
                } catch {
                    batch.refuse(error.message)
                }
            }
        case .exponentialHistogram(let histogram):
            let name = OTLPNames.metricName(metric.name, unit: metric.unit, kind: .histogram)
            let cumulative = histogram.aggregationTemporality == .cumulative
            for (i, point) in histogram.dataPoints.enumerated() where point.flags & noRecordedValue == 0 {
                batch.points += 1
                let at = "\(place).exponentialHistogram.dataPoints[\(i)]"
                guard let series = key(name, point.attributes, at), let t = time(point.timeUnixNano, at) else {
                    continue
                }
                guard (-10...20).contains(point.scale) else {
                    batch.refuse("\(at): scale \(point.scale) is outside -10…20")
                    continue
                }
                let bucketCount = point.positive.bucketCounts.count + point.negative.bucketCounts.count
                guard bucketCount <= Self.maxBuckets else {
                    batch.refuse("\(at): \(bucketCount) buckets (at most \(Self.maxBuckets))")
                    continue
                }
                func table(_ b: Opentelemetry_Proto_Metrics_V1_ExponentialHistogramDataPoint.Buckets) -> [Int: UInt64] {
                    var out: [Int: UInt64] = [:]
                    for (k, c) in b.bucketCounts.enumerated() where c > 0 { out[Int(b.offset) + k] = c }
                    return out
                }
                let buckets = ExponentialBuckets(
                    scale: point.scale, zeroCount: point.zeroCount, positive: table(point.positive),
                    negative: table(point.negative))
                guard buckets.count == point.count else {
                    batch.refuse("\(at): the bucket counts add up to \(buckets.count), but count is \(point.count)")
                    continue
                }
                let sum = point.hasSum ? point.sum : .nan
                let range = CumulativeTracker.Range(
                    min: point.hasMin ? point.min : nil, max: point.hasMax ? point.max : nil)
                let whole = ExponentialPart(buckets: buckets, sum: sum, min: range.min, max: range.max)
                let part: ExponentialPart?
                if cumulative {
                    part = tracker.delta(
                        series, start: point.startTimeUnixNano, time: point.timeUnixNano,
                        state: .exponential(buckets, sum: sum, range: range), now: now, pending: &batch.pending,
                        whole: whole
                    ) { previous in
                        guard case .exponential(let earlier, let s, let earlierRange) = previous,
                            let difference = buckets.subtracting(earlier)
                        else { return nil }
                        let exact = range.added(since: earlierRange)
                        return ExponentialPart(
                            buckets: difference, sum: sum - s, min: exact.exactMin, max: exact.exactMax,
                            knownRange: (range.min, range.max))
                    }
                } else {
                    part = whole
                }
                guard let part, part.buckets.count > 0 else { continue }
                do {
                    store(series, t, try part.value(at: at))
                } catch {
                    batch.refuse(error.message)
                }
            }
        case .summary(let summary):
            let name = OTLPNames.metricName(metric.name, unit: metric.unit, kind: .summary)
            for (i, point) in summary.dataPoints.enumerated() where point.flags & noRecordedValue == 0 {
                batch.points += 1
                let at = "\(place).summary.dataPoints[\(i)]"
                guard let t = time(point.timeUnixNano, at) else { continue }
                for q in point.quantileValues {
                    guard
                        let series = key(
                            name, point.attributes, at, extra: ("quantile", OTLPAttributes.number(q.quantile)))
                    else { continue }
                    if DatumValidator.acceptsValue(q.value) { store(series, t, .single(q.value)) }
                }
                if let series = key(name + "_count", point.attributes, at) {
                    store(series, t, .single(Double(point.count)))
                }
                if DatumValidator.acceptsValue(point.sum), let series = key(name + "_sum", point.attributes, at) {
                    store(series, t, .single(point.sum))
                }
            }
        case nil:
            batch.refuse("\(place): the metric has no data (gauge, sum, histogram, exponentialHistogram or summary)")
        }
    }
}
