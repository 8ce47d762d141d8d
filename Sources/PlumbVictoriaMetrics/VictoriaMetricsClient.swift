import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import PlumbAPI

/// The HTTP calls Plumb makes to VictoriaMetrics, each bounded by the settings' timeout. A node that cannot be
/// reached, or answers 5xx, is a `ServiceUnavailable` (503, `Retry-After: 1`): the sender keeps its data and
/// tries again.
public struct VictoriaMetricsClient: Sendable {
    /// One client for the process, on NIO's singleton event loops, never shut down (as `HTTPClient.shared`). Answers
    /// may be gzip: an export of many samples of one series compresses far beyond AsyncHTTPClient's default ratio
    /// limit, so the limit is lifted (the answer's size is bounded where it is read).
    public static let sharedHTTP = HTTPClient(
        eventLoopGroupProvider: .singleton,
        configuration: HTTPClient.Configuration(
            timeout: HTTPClient.Configuration.Timeout(connect: .seconds(5)), decompression: .enabled(limit: .none)))

    let http: HTTPClient
    let timeout: Duration

    /// Sends `body` and returns the status and the whole answer (at most `limit` bytes).
    func send(
        _ method: HTTPMethod, _ url: String, body: [UInt8]? = nil, contentType: String? = nil, limit: Int = 16 << 20
    ) async throws -> (status: UInt, body: ByteBuffer) {
        let response = try await execute(method, url, body: body, contentType: contentType)
        do {
            let collected = try await response.body.collect(upTo: limit)
            return (response.status.code, collected)
        } catch is NIOTooManyBytesError {
            throw MetricsError(
                code: "LimitExceeded",
                message: "VictoriaMetrics' answer is larger than \(limit >> 20) MiB: ask for less")
        } catch {
            throw Self.unavailable(url, error)
        }
    }

    /// Sends a request and hands the answer's body to `line`, one line at a time (export answers can be large).
    func eachLine(
        _ url: String, form: [(String, String)], line: (ArraySlice<UInt8>) throws -> Void
    ) async throws {
        let response = try await execute(
            .POST, url, body: Array(Self.formEncoded(form).utf8), contentType: "application/x-www-form-urlencoded")
        guard response.status.code == 200 else {
            let text = (try? await response.body.collect(upTo: 64 << 10)).map { String(buffer: $0) } ?? ""
            throw Self.failed(url, response.status.code, text)
        }
        var pending: [UInt8] = []
        do {
            for try await chunk in response.body {
                pending.append(contentsOf: chunk.readableBytesView)
                var start = 0
                while let newline = pending[start...].firstIndex(of: 0x0A) {
                    if newline > start { try line(pending[start..<newline]) }
                    start = newline + 1
                }
                pending.removeFirst(start)
                guard pending.count <= Self.maxLine else {
                    throw MetricsError(
                        code: "LimitExceeded",
                        message:
                            "VictoriaMetrics exported a series of more than \(Self.maxLine >> 20) MiB: ask for less")
                }
            }
        } catch let error as MetricsError {
            throw error
        } catch {
            throw Self.unavailable(url, error)
        }
        if !pending.isEmpty { try line(pending[...]) }
    }

    private func execute(
        _ method: HTTPMethod, _ url: String, body: [UInt8]?, contentType: String?
    ) async throws -> HTTPClientResponse {
        var request = HTTPClientRequest(url: url)
        request.method = method
        if let body { request.body = .bytes(body) }
        if let contentType { request.headers.add(name: "Content-Type", value: contentType) }
        do {
            return try await http.execute(request, timeout: TimeAmount(timeout))
        } catch {
            throw Self.unavailable(url, error)
        }
    }

    /// The longest export line read (one series' samples in the range).
    static let maxLine = 256 << 20

    static func formEncoded(_ fields: [(String, String)]) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return fields.map { name, value in
            (name.addingPercentEncoding(withAllowedCharacters: allowed) ?? "") + "="
                + (value.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")
        }.joined(separator: "&")
    }

    static func unavailable(_ url: String, _ error: any Error) -> MetricsError {
        MetricsError(
            code: "ServiceUnavailable",
            message: "VictoriaMetrics cannot be reached (\(url.split(separator: "?").first ?? "")): \(error)",
            httpStatus: 503, retryAfter: 1)
    }

    /// An answer that is not success: 5xx means try again later; 422 a limit of VictoriaMetrics' own (too many
    /// series or samples for one query); other 4xx mean Plumb sent something it should not have.
    static func failed(_ url: String, _ status: UInt, _ text: String) -> MetricsError {
        let message =
            "VictoriaMetrics answered \(status) to \(url.split(separator: "?").first ?? ""): \(text.prefix(500))"
        if status >= 500 || status == 429 {
            return MetricsError(code: "ServiceUnavailable", message: message, httpStatus: 503, retryAfter: 1)
        }
        if status == 422 { return MetricsError(code: "LimitExceeded", message: message) }
        return MetricsError(code: "InternalFailure", message: message, httpStatus: 500)
    }

    /// An answer that is not what VictoriaMetrics sends: a bad gateway, not the client's fault.
    static func unreadable(_ url: String) -> MetricsError {
        MetricsError(
            code: "BadGateway",
            message: "VictoriaMetrics sent an answer Plumb cannot read (\(url.split(separator: "?").first ?? ""))",
            httpStatus: 502)
    }
}

extension TimeAmount {
    /// A Swift `Duration` as NIO's time amount (nanoseconds).
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
