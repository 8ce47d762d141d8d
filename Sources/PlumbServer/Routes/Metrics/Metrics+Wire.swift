import Foundation
import PlumbAPI
import PlumbMetrics

// The metrics API's wire types (PlumbAPI) made from the metric store's values, and read from a request.

extension MetricDescription {
    init(_ info: SeriesInfo) {
        self.init(
            namespace: info.key.namespace, name: info.key.name, dimensions: info.key.dimensionDictionary,
            unit: info.unit?.rawValue)
    }
}

extension StatisticsDatapoint {
    /// `SampleCount` always, then each statistic asked for under its name.
    init(_ point: Datapoint) {
        var values = ["SampleCount": point.aggregate.count]
        for (statistic, value) in point.values { values[statistic.description] = value }
        self.init(timestamp: TimeParsing.format(point.timestamp), values: values)
    }
}

extension StatisticsQuery {
    /// The query a checked `GET /api/v1/metrics/statistics` asks for, itself checked (period, range, size).
    init(_ request: StatisticsRequest, now: Double) throws {
        let (start, end) = try request.window(now: now)
        self.init(
            series: SeriesKey(namespace: request.namespace, name: request.name, dimensions: request.dimensions),
            period: request.period,
            start: start, end: end, statistics: request.statistics)
        try validate()
    }
}

extension MetricDataRequest {
    /// A `POST /api/v1/metrics/query` body, its times checked against `now` in place; a body that is not a JSON
    /// object is refused as such.
    static func decode(_ body: [UInt8], now: Double) throws -> MetricDataRequest {
        guard let object = JSONValue.parseStrict(body)?.object else { throw APIError(notAnObject) }
        do {
            return try MetricDataRequest(object: object, now: now)
        } catch let error as any HTTPResponseError {
            throw error
        } catch {
            throw APIError(notAnObject)
        }
    }
}
