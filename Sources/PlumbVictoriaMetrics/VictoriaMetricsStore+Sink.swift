import AsyncHTTPClient
import Foundation
import NIOCore
import PlumbAPI
import PlumbMetrics

/// Log metric filters hand their samples over synchronously, inside the log batch's write (`MetricSampleSink`): the
/// import and the flush run as NIO futures on AsyncHTTPClient's event loops and this thread waits for them, so no
/// task of the cooperative pool is needed to finish them (waiting for one here could starve the pool). The calling
/// thread (often one of the pool's) is held for that round trip, at most `timeout`: on loopback a millisecond or
/// two, but a VictoriaMetrics that hangs holds it that long.
extension VictoriaMetricsStore: MetricSampleSink {
    public func append(_ samples: [Sample]) throws {
        guard !samples.isEmpty else { return }
        var body = try importBody(samples)
        let (now, written) = addCatalog(samples.map { ($0.series, $0.unit) }, to: &body)
        let deadline = NIODeadline.now() + TimeAmount(settings.timeout)
        try send(settings.insertURL + "/api/v1/import", body: body.bytes(), deadline: deadline)
        for url in settings.flushURLs { try send(url + "/internal/force_flush", body: nil, deadline: deadline) }
        markCatalog(written, now: now)
    }

    private func send(_ url: String, body: [UInt8]?, deadline: NIODeadline) throws {
        let response: HTTPClient.Response
        do {
            var request = try HTTPClient.Request(url: url, method: body == nil ? .GET : .POST)
            if let body {
                request.body = .bytes(body)
                request.headers.add(name: "Content-Type", value: "application/json")
            }
            response = try client.http.execute(request: request, deadline: deadline).wait()
        } catch {
            throw VictoriaMetricsClient.unavailable(url, error)
        }
        guard response.status.code / 100 == 2 else {
            throw VictoriaMetricsClient.failed(
                url, response.status.code, response.body.map { String(buffer: $0) } ?? "")
        }
    }
}
