import AsyncHTTPClient
import Foundation
import NIOCore
import PlumbAPI
import PlumbMetrics
import Synchronization

/// The catalog: which series exist and the unit each was last written with (`:plumb_series` entries).
extension VictoriaMetricsStore {
    public func listMetrics(namespace: String?, name: String?) async throws -> [SeriesInfo] {
        var matchers = ["__name__=~\".+:plumb_series\""]
        if let namespace { matchers.append("\(SeriesLabels.namespaceLabel)=\(SeriesLabels.quoted(namespace))") }
        if let name { matchers.append("\(SeriesLabels.metricLabel)=\(SeriesLabels.quoted(name))") }
        return try await catalogEntries(matchers).sorted {
            ($0.key.namespace, $0.key.name, $0.key.dimensionsText) < (
                $1.key.namespace, $1.key.name, $1.key.dimensionsText
            )
        }
    }

    public func seriesInfo(_ key: SeriesKey) async throws -> SeriesInfo? {
        let matchers = ["__name__=~\".+:plumb_series\"", "\(SeriesLabels.idLabel)=\"\(SeriesLabels.id(key))\""]
        return try await catalogEntries(matchers).first { $0.key == key }
    }

    /// The catalog entries `matchers` select, one per series: the unit it was last written with.
    func catalogEntries(_ matchers: [String]) async throws -> [SeriesInfo] {
        let query = "last_over_time({\(matchers.joined(separator: ","))}[3650d])"
        let form = [
            ("query", query), ("time", String(clock() + 1)), ("latency_offset", "0"), ("nocache", "1"),
        ]
        let (status, body) = try await client.send(
            .POST, settings.selectURL + "/api/v1/query", body: Array(VictoriaMetricsClient.formEncoded(form).utf8),
            contentType: "application/x-www-form-urlencoded", limit: 256 << 20)
        guard status == 200 else {
            throw VictoriaMetricsClient.failed(settings.selectURL + "/api/v1/query", status, String(buffer: body))
        }
        guard case .object(let answer) = JSONValue.parseStrict(body.readableBytesView),
            case .object(let data) = answer["data"], case .array(let results) = data["result"]
        else { throw VictoriaMetricsClient.unreadable(settings.selectURL + "/api/v1/query") }
        var latest: [SeriesKey: (unit: MetricUnit?, written: Double)] = [:]
        for result in results {
            guard case .object(let entry) = result, case .object(let metric) = entry["metric"],
                case .array(let point) = entry["value"], point.count == 2, case .string(let text) = point[1],
                let written = Double(text)
            else { continue }
            var labels: [String: String] = [:]
            for (name, value) in metric { if case .string(let value) = value { labels[name] = value } }
            guard let (key, _, _) = SeriesLabels.parse(labels) else { continue }
            // The latest entry that names a unit wins (one without, from a line-protocol write after a restart,
            // does not take the unit away); a series never given one has none.
            let unit = labels[SeriesLabels.unitLabel].flatMap(MetricUnit.init(rawValue:))
            if let known = latest[key] {
                let newer =
                    known.unit == nil
                    ? (unit != nil || written > known.written) : (unit != nil && written > known.written)
                guard newer else { continue }
            }
            latest[key] = (unit, written)
        }
        return latest.map { SeriesInfo(id: 0, key: $0.key, unit: $0.value.unit) }
    }
}
