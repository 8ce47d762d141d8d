import Foundation
import HTTPTypes
import Hummingbird
import PlumbAPI
import PlumbLogs
import PlumbMetrics
import PlumbOpen
import PlumbStore

/// OTLP/HTTP as a controller: `POST /v1/metrics` and `POST /v1/logs`, protobuf or JSON, plain or gzip, on `listen`
/// and on `otlp.listen` when it is set.
///
/// Answers follow OTLP/HTTP: 200 with an `Export…ServiceResponse` (with `partial_success` when some points or records
/// were refused), and on a refusal the status with a `google.rpc.Status` body in the request's encoding: 400 for a
/// body that cannot be read, 413 over the size limit, 415 for another media type, 503 with `Retry-After` while the
/// store is behind or unreachable (exporters retry those, and only those).
struct OTLPRoutes {
    let metrics: any MetricStoring
    let logs: any LogStoring
    let resolution: StorageResolution
    let metricsDecoder: OTLPMetricsDecoder
    let logsDecoder: OTLPLogsDecoder
    /// The largest body, as sent and once inflated.
    let maxBodyBytes: Int

    init(
        metrics: any MetricStoring, logs: any LogStoring, limits: IngestLimits, resolution: StorageResolution,
        settings: OTLPSettings, tracker: CumulativeTracker
    ) {
        self.metrics = metrics
        self.logs = logs
        self.resolution = resolution
        metricsDecoder = OTLPMetricsDecoder(
            limits: limits, promotedResourceAttributes: settings.promoteResourceAttributes, tracker: tracker)
        logsDecoder = OTLPLogsDecoder(groupTemplate: settings.logGroup, streamTemplate: settings.logStream)
        maxBodyBytes = limits.maxLineProtocolBodyBytes
    }

    func register(on group: RouterGroup<PlumbRequestContext>) {
        group.post("v1/metrics", use: exportMetrics)
        group.post("v1/logs", use: exportLogs)
    }

    @Sendable func exportMetrics(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        try await answer(request) { body, encoding in
            let decode = { (now: Int64) throws in
                try metricsDecoder.decode(
                    body, encoding: encoding, contentEncoding: request.headers[.contentEncoding], limit: maxBodyBytes,
                    now: now, resolution: resolution)
            }
            var batch = try decode(metrics.clock())
            if batch.pending.isEmpty {
                if !batch.samples.isEmpty { try await metrics.put(batch.samples) }
                UsageCounters.metricIngest(samples: batch.samples.count)
            } else {
                // Cumulative points: one such request at a time, decoded again against what the ones before it
                // committed, and committed only once stored (a refused request, retried, is counted once).
                let tracker = metricsDecoder.tracker
                batch = try await tracker.lock.withLock { () async throws -> OTLPMetricsDecoder.Batch in
                    let now = metrics.clock()
                    let again = try decode(now)
                    if !again.samples.isEmpty { try await metrics.put(again.samples) }
                    tracker.commit(again.pending, now: now)
                    UsageCounters.metricIngest(samples: again.samples.count)
                    return again
                }
            }
            return OTLPResponse.metrics(rejected: batch.rejected, problem: batch.problem, encoding: encoding)
        }
    }

    @Sendable func exportLogs(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        try await answer(request) { body, encoding in
            let batch = try logsDecoder.decode(
                body, encoding: encoding, contentEncoding: request.headers[.contentEncoding], limit: maxBodyBytes,
                nowMillis: logs.clock())
            if !batch.streams.isEmpty {
                for stream in batch.streams {
                    do throws(LogsError) {
                        try LogLimits.checkGroupName(stream.group)
                        try LogLimits.checkStreamName(stream.stream)
                    } catch { throw OTLPError(error.message) }
                }
                // One transaction: every record of the request is stored, or none.
                _ = try await logs.append(batch.streams)
            }
            return OTLPResponse.logs(rejected: batch.rejected, problem: batch.problem, encoding: encoding)
        }
    }

    /// Reads the body in the request's encoding, runs `handle`, and answers in that encoding, errors included.
    func answer(
        _ request: Request, _ handle: ([UInt8], OTLPEncoding) async throws -> [UInt8]
    ) async throws -> Response {
        guard let encoding = OTLPEncoding(contentType: request.headers[.contentType]) else {
            return Self.refusal(
                status: 415,
                message:
                    "Content-Type '\(request.headers[.contentType] ?? "")' is not OTLP/HTTP: send application/x-protobuf or application/json",
                headers: [], encoding: .json)
        }
        do {
            let body = try await request.collectBody(limit: maxBodyBytes)
            let answer = try await handle(body, encoding)
            return Response(
                status: .ok, headers: [.contentType: encoding.contentType],
                body: .init(byteBuffer: ByteBuffer(bytes: answer)))
        } catch let error as any PlumbAPI.HTTPResponseError {
            return Self.refusal(
                status: error.status, message: error.message, headers: error.headers, encoding: encoding)
        }
    }

    static func refusal(
        status: Int, message: String, headers extra: [(name: String, value: String)], encoding: OTLPEncoding
    ) -> Response {
        var headers: HTTPFields = [.contentType: encoding.contentType]
        for (name, value) in extra { if let n = HTTPField.Name(name) { headers[n] = value } }
        return Response(
            status: .init(code: status), headers: headers,
            body: .init(
                byteBuffer: ByteBuffer(bytes: OTLPBody.status(httpStatus: status, message: message, encoding: encoding))
            ))
    }
}
