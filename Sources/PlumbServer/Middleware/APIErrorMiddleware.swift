import Foundation
import Hummingbird
import Logging
import PlumbAlarms
import PlumbKit
import PlumbLogs
import PlumbMetrics
import PlumbNotify
import PlumbStore

/// Turns every error into the JSON error shape of CONTRACT.md, in one place:
/// `{"error": {"code": "…", "message": "…"}}` with a 4xx/5xx status — never an HTML page, never a crash.
public struct APIErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            return Self.response(for: error, logger: context.logger)
        }
    }

    static func response(for error: Error, logger: Logger) -> Response {
        var status = 500
        var code = "InternalFailure"
        var message = "internal error"
        var reason: String?
        var headers = HTTPFields()
        switch error {
        case let e as MetricsError:
            (status, code, message) = (e.httpStatus, e.code, e.message)
        case let e as FunctionError:
            (status, code, message, reason) = (e.status, e.code, e.message, e.reason)
            if let retry = e.retryAfter { headers[.retryAfter] = String(retry) }
        case let e as PlumbError:
            (status, code, message) = (e.status, e.code, e.message)
        case let e as HTTPError:
            status = Int(e.status.code)
            switch e.status {
            case .notFound: (code, message) = ("NotFound", "no such endpoint")
            case .contentTooLarge: (code, message) = ("RequestEntityTooLarge", "the request body is too large")
            case .methodNotAllowed: (code, message) = ("MethodNotAllowed", "method not allowed on this endpoint")
            case .unauthorized: (code, message) = ("Unauthorized", e.body ?? "missing or wrong admin token")
            default: (code, message) = (e.status.reasonPhrase.replacingOccurrences(of: " ", with: ""), e.body ?? e.status.reasonPhrase)
            }
            for field in e.headers { headers.append(field) }
        default:
            logger.error("unhandled error: \(String(describing: error))")
        }
        var object: [String: String] = ["code": code, "message": message]
        if let reason { object["reason"] = reason }
        let body = (try? JSONSerialization.data(withJSONObject: ["error": object], options: [.sortedKeys])) ?? Data()
        headers[.contentType] = "application/json"
        return Response(status: .init(code: status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}

/// An error raised by the API layer itself (bad query parameter, unknown resource).
public typealias APIError = PlumbError
