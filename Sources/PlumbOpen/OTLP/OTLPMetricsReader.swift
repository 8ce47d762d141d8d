import Foundation
import PlumbAPI
import PlumbMetrics
import SwiftProtobuf

/// The protobuf `ExportMetricsServiceRequest` read straight off its bytes, the hot path of OTLP metrics: gauges and
/// sums (numbers, most of what SDKs send) are decoded here, without building the generated messages, and a series is
/// named once per distinct attribute bytes of its metric in the request (exporters send one point per series per
/// metric, but many requests repeat the same attribute sets). Resources, histograms, exponential histograms and
/// summaries are rare and built by the generated code, then handed to the decoder's common path.
///
/// The field numbers are those of opentelemetry-proto v1.9.0 (metrics.proto, metrics_service.proto).
extension OTLPMetricsDecoder {
    typealias Malformed = ProtobufReader.Malformed

    func readProtobuf(_ bytes: [UInt8], now: Int64, resolution: StorageResolution) throws(OTLPError) -> Batch {
        var batch = Batch()
        do {
            var reader = ProtobufReader(bytes)
            var r = 0
            while let (field, wire) = try reader.tag(limit: bytes.count) {
                guard field == 1 else {
                    try reader.skip(wire: wire, limit: bytes.count)
                    continue
                }
                guard wire == 2 else { throw Malformed(description: "resource_metrics is not a message") }
                let range = try reader.delimited(limit: bytes.count)
                try readResourceMetrics(&reader, range, index: r, now: now, resolution: resolution, into: &batch)
                r += 1
            }
        } catch let error as Malformed {
            throw OTLPError("the body is not a protobuf ExportMetricsServiceRequest: \(error)")
        } catch let error as OTLPError {
            throw error
        } catch {
            throw OTLPError("the body is not a protobuf ExportMetricsServiceRequest: \(error)")
        }
        return batch
    }

    /// A resource's metrics: its resource first (wherever it lies in the message), then each scope's metrics.
    func readResourceMetrics(
        _ reader: inout ProtobufReader, _ range: Range<Int>, index r: Int, now: Int64, resolution: StorageResolution,
        into batch: inout Batch
    ) throws {
        let saved = reader.position
        defer { reader.position = saved }
        reader.position = range.lowerBound
        var resource = Opentelemetry_Proto_Resource_V1_Resource()
        var scopes: [Range<Int>] = []
        while let (field, wire) = try reader.tag(limit: range.upperBound) {
            switch (field, wire) {
            case (1, 2):
                let bytes = try reader.delimited(limit: range.upperBound)
                resource = try Opentelemetry_Proto_Resource_V1_Resource(serializedBytes: reader.bytes[bytes])
            case (2, 2):
                scopes.append(try reader.delimited(limit: range.upperBound))
            case (1, _), (2, _):
                throw Malformed(description: "field \(field) of ResourceMetrics has wire type \(wire)")
            default:
                try reader.skip(wire: wire, limit: range.upperBound)
            }
        }
        let labels = resourceLabels(resource.attributes)
        for (s, scope) in scopes.enumerated() {
            reader.position = scope.lowerBound
            var m = 0
            while let (field, wire) = try reader.tag(limit: scope.upperBound) {
                guard field == 2 else {
                    try reader.skip(wire: wire, limit: scope.upperBound)
                    continue
                }
                guard wire == 2 else { throw Malformed(description: "metrics is not a message") }
                let metric = try reader.delimited(limit: scope.upperBound)
                let after = reader.position
                try readMetric(
                    &reader, metric, resource: labels, place: "resourceMetrics[\(r)].scopeMetrics[\(s)].metrics[\(m)]",
                    now: now, resolution: resolution, into: &batch)
                reader.position = after
                m += 1
            }
        }
    }

    func readMetric(
        _ reader: inout ProtobufReader, _ range: Range<Int>, resource: [(name: String, value: String)], place: String,
        now: Int64, resolution: StorageResolution, into batch: inout Batch
    ) throws {
        reader.position = range.lowerBound
        var name = ""
        var unit = ""
        var data: (field: UInt64, range: Range<Int>)?
        while let (field, wire) = try reader.tag(limit: range.upperBound) {
            switch (field, wire) {
            case (1, 2): name = try reader.string(try reader.delimited(limit: range.upperBound), "a metric name")
            case (3, 2): unit = try reader.string(try reader.delimited(limit: range.upperBound), "a unit")
            case (5, 2), (7, 2), (9, 2), (10, 2), (11, 2): data = (field, try reader.delimited(limit: range.upperBound))
            case (1, _), (3, _), (5, _), (7, _), (9, _), (10, _), (11, _):
                throw Malformed(description: "field \(field) of Metric has wire type \(wire)")
            default: try reader.skip(wire: wire, limit: range.upperBound)
            }
        }
        let place = "\(place) '\(name.prefix(100))'"
        guard let data, data.field == 5 || data.field == 7 else {
            // Histograms and summaries (and a metric without data): the generated message and the common path.
            let metric = try Opentelemetry_Proto_Metrics_V1_Metric(serializedBytes: reader.bytes[range])
            add(metric, resource: resource, place: place, now: now, resolution: resolution, to: &batch)
            return
        }
        // Gauge: data_points = 1. Sum: data_points = 1, aggregation_temporality = 2, is_monotonic = 3.
        reader.position = data.range.lowerBound
        var points: [Range<Int>] = []
        var temporality: UInt64 = 0
        var monotonic = false
        while let (field, wire) = try reader.tag(limit: data.range.upperBound) {
            switch (field, wire) {
            case (1, 2): points.append(try reader.delimited(limit: data.range.upperBound))
            case (2, 0) where data.field == 7: temporality = try reader.varint(limit: data.range.upperBound)
            case (3, 0) where data.field == 7: monotonic = try reader.varint(limit: data.range.upperBound) != 0
            default: try reader.skip(wire: wire, limit: data.range.upperBound)
            }
        }
        let isSum = data.field == 7
        let kind: OTLPNames.Kind = !isSum ? .gauge : monotonic ? .monotonicSum : .sum
        let prometheusName = OTLPNames.metricName(name, unit: unit, kind: kind)
        let metricUnit = OTLPNames.metricUnit(unit)
        let accumulates = isSum && monotonic && temporality == 2
        let what = isSum ? "sum" : "gauge"
        var keys: [LabelBytes: SeriesKey] = [:]
        for (i, pointRange) in points.enumerated() {
            let point = try readNumberPoint(&reader, pointRange)
            if point.flags & 1 != 0 { continue }
            batch.points += 1
            let at = "\(place).\(what).dataPoints[\(i)]"
            let series: SeriesKey
            if let attributes = point.attributes, let known = keys[LabelBytes(reader.bytes[attributes])] {
                series = known
            } else {
                let attributes = try readAttributes(reader, point.attributeFields)
                do {
                    series = try PrometheusNames.seriesKey(
                        labels: labels(prometheusName, resource: resource, attributes: attributes),
                        validator: validator, at: at)
                } catch {
                    batch.refuse((error as? MetricsError)?.message ?? "\(at): \(error)")
                    continue
                }
                if let bytes = point.attributes { keys[LabelBytes(reader.bytes[bytes])] = series }
            }
            let t = point.time == 0 ? now : Int64(point.time / 1_000_000_000)
            if t < now - validator.limits.maxAgeSeconds || t > now + validator.limits.maxFutureSeconds {
                do { try validator.checkTimestamp(t, now: now, at: at) } catch {
                    batch.refuse((error as? MetricsError)?.message ?? "\(at): \(error)")
                }
                continue
            }
            guard DatumValidator.acceptsValue(point.value) else {
                batch.refuse("\(at): value \(point.value) cannot be stored (finite, at most 2^360 in magnitude)")
                continue
            }
            var value = point.value
            if accumulates {
                let v = point.value
                guard
                    let added = tracker.delta(
                        series, start: point.start, time: point.time, state: .number(v), now: now,
                        pending: &batch.pending, whole: v,
                        difference: { previous in
                            guard case .number(let last) = previous, v >= last else { return nil }
                            return v - last
                        })
                else { continue }
                value = added
            }
            batch.samples.append(
                Sample(series: series, unit: metricUnit, timestamp: t, resolution: resolution, value: .single(value)))
        }
    }

    struct NumberPoint {
        var start: UInt64 = 0
        var time: UInt64 = 0
        var value = Double.nan
        var flags: UInt64 = 0
        /// The attributes' bytes when they lie together (the cache key), and each attribute's range.
        var attributes: Range<Int>?
        var attributeFields: [Range<Int>] = []
    }

    /// NumberDataPoint: attributes = 7, start_time_unix_nano = 2, time_unix_nano = 3 (fixed64), as_double = 4
    /// (double), as_int = 6 (sfixed64), exemplars = 5, flags = 8.
    func readNumberPoint(_ reader: inout ProtobufReader, _ range: Range<Int>) throws -> NumberPoint {
        reader.position = range.lowerBound
        var point = NumberPoint()
        var first = -1
        var last = -1
        var together = true
        var tagStart = reader.position
        func fixed(_ reader: inout ProtobufReader) throws -> UInt64 {
            guard 8 <= range.upperBound - reader.position else {
                throw Malformed(description: "truncated at byte \(reader.position)")
            }
            defer { reader.position += 8 }
            return reader.fixed64(at: reader.position)
        }
        while let (field, wire) = try reader.tag(limit: range.upperBound) {
            switch (field, wire) {
            case (7, 2):
                point.attributeFields.append(try reader.delimited(limit: range.upperBound))
                if first < 0 { first = tagStart } else if last != tagStart { together = false }
                last = reader.position
            case (2, 1): point.start = try fixed(&reader)
            case (3, 1): point.time = try fixed(&reader)
            case (4, 1): point.value = Double(bitPattern: try fixed(&reader))
            case (6, 1): point.value = Double(Int64(bitPattern: try fixed(&reader)))
            case (8, 0): point.flags = try reader.varint(limit: range.upperBound)
            case (2, _), (3, _), (4, _), (6, _), (7, _), (8, _):
                throw Malformed(description: "field \(field) of NumberDataPoint has wire type \(wire)")
            default: try reader.skip(wire: wire, limit: range.upperBound)
            }
            tagStart = reader.position
        }
        if first >= 0, together { point.attributes = first..<last }
        if point.attributeFields.isEmpty { point.attributes = range.lowerBound..<range.lowerBound }
        return point
    }

    /// The attributes of a point, decoded (only for attribute bytes not seen before in the metric).
    func readAttributes(_ reader: ProtobufReader, _ fields: [Range<Int>]) throws -> [OTelKeyValue] {
        try fields.map { try OTelKeyValue(serializedBytes: reader.bytes[$0]) }
    }
}
