import Foundation
import HTTPTypes
import Hummingbird
import Logging
import PlumbAPI

/// Turns every error into the JSON error shape of CONTRACT.md, in one place:
/// `{"error": {"code": "…", "message": "…"}}` with a 4xx/5xx status — never an HTML page, never a crash.
public struct APIErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            return Self.response(for: error, logger: context.logger)
        }
    }

    static func response(for error: Error, logger: Logger) -> Response {
        var headers = HTTPFields()
        let status: Int
        let body: ErrorBody
        switch error {
        case let e as any PlumbAPI.HTTPResponseError:
            (status, body) = (e.status, e.body)
            for (name, value) in e.headers { if let n = HTTPField.Name(name) { headers[n] = value } }
        case let e as HTTPError:
            status = Int(e.status.code)
            let (code, message): (String, String) =
                switch e.status {
                case .notFound: ("NotFound", "no such endpoint")
                case .contentTooLarge: ("RequestEntityTooLarge", "the request body is too large")
                case .methodNotAllowed: ("MethodNotAllowed", "method not allowed on this endpoint")
                case .unauthorized: ("Unauthorized", e.body ?? "missing or wrong admin token")
                default:
                    (e.status.reasonPhrase.replacingOccurrences(of: " ", with: ""), e.body ?? e.status.reasonPhrase)
                }
            body = ErrorBody(error: .init(code: code, message: message))
            for field in e.headers { headers.append(field) }
        default:
            logger.error("unhandled error: \(String(describing: error))")
            status = 500
            body = ErrorBody(error: .init(code: "InternalFailure", message: "internal error"))
        }
        headers[.contentType] = "application/json"
        let data = (try? PlumbJSON.encoder.encode(body)) ?? Data()
        return Response(status: .init(code: status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// An error raised by the API layer itself (bad query parameter, unknown resource).
public typealias APIError = PlumbError
