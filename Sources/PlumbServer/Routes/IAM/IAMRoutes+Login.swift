import Foundation
import Hummingbird
import PlumbAPI
import PlumbIAM

/// Sign-in: the user name, the password and, once the user has a TOTP device, the code. Audited with the outcome;
/// the password never is.
extension IAMRoutes {
    @Sendable func login(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        let body = try await request.decodeJSONObject(LoginRequest.self)
        do {
            let session = try await iam.login(user: body.user, password: body.password, code: body.code)
            await auditLogin(
                body.user, context: context, status: 201, outcome: session.mfa ? "success (mfa)" : "success")
            let answer = LoginResponse(
                token: session.token, expiresAt: TimeParsing.format(session.expiresAt), mfa: session.mfa)
            return try Response.json(answer, status: .created)
        } catch {
            // Refused (401, 429), or not answered (503 while the store is away): audited either way.
            let status = (error as? any PlumbAPI.HTTPResponseError)?.status ?? 500
            await auditLogin(body.user, context: context, status: status, outcome: status < 500 ? "denied" : "error")
            throw error
        }
    }

    /// One audit event for a sign-in; a name that could not be a user is not written as given.
    func auditLogin(_ user: String, context: PlumbRequestContext, status: Int, outcome: String) async {
        guard let logs else { return }
        var source = "unknown"
        if let address = context.remoteAddress { source = address.ipAddress ?? "\(address)" }
        let named = IAM.validName(user) ? user : "invalid"
        let entry = AuditEntry(
            time: TimeParsing.format(Int64(Date().timeIntervalSince1970)), actor: "user:" + named, action: "iam:Login",
            resource: "user/" + named, source: source, status: status, result: outcome, route: "POST /api/v1/iam/login")
        await AuditMiddleware.write(logs, stream: "api", entry, logger: context.logger)
    }
}
