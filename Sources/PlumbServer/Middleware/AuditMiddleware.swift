import Crypto
import Foundation
import Hummingbird
import Logging
import PlumbAPI
import PlumbLogs
import PlumbMetrics

/// Writes one audit event for every state-changing API call (POST, PUT, PATCH, DELETE under /api/v1, metric and
/// log ingest excepted) to the log group `/plumb/audit`, before the response leaves:
/// `{"time", "actor", "action", "route", "resource", "source", "status", "result"}`.
///
/// The actor is the token's id (`admin:` and 8 hex digits of its SHA-256), never the token. Failed and refused
/// calls are audited too. The event is committed with the store's durability before the caller gets the answer.
struct AuditMiddleware: RouterMiddleware {
    typealias Context = PlumbRequestContext

    let logs: any LogStoring
    let callers: CallerResolver

    static let group = "/plumb/audit"

    static func tokenID(_ token: String) -> String {
        "admin:" + SHA256.hash(data: Data(token.utf8)).prefix(4).map { String(format: "%02x", $0) }.joined()
    }

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let method = request.method
        guard method == .post || method == .put || method == .patch || method == .delete,
            !(method == .post && Self.isIngest(request.uri.path))
        else {
            // Reads are audited only when refused.
            do {
                return try await next(request, context)
            } catch let error as APIError where error.status == 401 || error.status == 403 {
                await record(request, context: context, status: error.status)
                throw error
            }
        }
        let response: Response
        do {
            response = try await next(request, context)
        } catch {
            response = APIErrorMiddleware<Context>.response(for: error, logger: context.logger)
        }
        await record(request, context: context, status: Int(response.status.code))
        return response
    }

    /// Whether a POST to `path` is data ingest (not audited: it changes no configuration). A PUT to
    /// `/api/v1/logs/{group}/retention` has the same shape as PutLogEvents and is audited.
    static func isIngest(_ path: String) -> Bool {
        path == "/api/v1/metrics" || path == "/write" || path == "/api/v1/write"
            || (path.hasPrefix("/api/v1/logs/") && path.split(separator: "/").count == 5)
    }

    func record(_ request: Request, context: Context, status: Int) async {
        let actor: String
        switch try? await callers.resolve(request.headers[.authorization]) {
        case .admin?: actor = Self.tokenID(callers.adminToken)
        case let caller?: actor = caller.auditName
        case nil:
            let presented =
                request.headers[.authorization].map { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : $0 } ?? ""
            actor = "unknown-token:" + Self.tokenID(presented).dropFirst(6)
        }
        var source = "unknown"
        if let address = context.remoteAddress {
            source = address.ipAddress.map { "\($0):\(address.port ?? 0)" } ?? "\(address)"
        }
        let event = AuditEntry(
            time: TimeParsing.format(Int64(Date().timeIntervalSince1970)), actor: actor,
            action: "\(request.method.rawValue) \(context.endpointPath ?? request.uri.path)",
            resource: request.uri.path,
            source: source, status: status,
            result: status < 400 ? "success" : (status == 401 || status == 403 ? "denied" : "failed"))
        await Self.write(logs, stream: "api", event, logger: context.logger)
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// Appends one event (sorted JSON) to the audit group: the one writer of the audit trail (the API's calls, sign-ins
    /// and plugins' events), synchronous so the event is stored before the response leaves.
    static func write(_ logs: any LogStoring, stream: String, _ event: AuditEntry, logger: Logger) async {
        guard let data = try? encoder.encode(event) else { return }
        do {
            _ = try await logs.put(
                group: group, stream: stream,
                events: [
                    InputLogEvent(
                        timestamp: Int64(Date().timeIntervalSince1970 * 1_000),
                        message: String(decoding: data, as: UTF8.self))
                ])
        } catch {
            logger.error("audit event not written: \(error)")
        }
    }
}
