import Hummingbird
import PlumbAPI
import PlumbIAM

/// A user's own account, whatever their policies: who they are, their password, their TOTP device. The admin token
/// is not a user: these answer it `NotAUser`.
extension IAMRoutes {
    /// The user behind the request's token.
    func caller(_ request: Request) async throws -> IAMPrincipal {
        let presented =
            request.headers[.authorization].map { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : $0 } ?? ""
        guard presented.hasPrefix("plb_"), let principal = try await iam.principal(token: presented) else {
            throw APIError(
                status: 400, code: "NotAUser", "this is for a user's own token (the admin token is not a user)")
        }
        return principal
    }

    @Sendable func whoami(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        let me = try await caller(request)
        return try Response.json(
            WhoAmI(
                user: me.user, groups: me.groups, mfa: me.mfa, mfaEnabled: try await iam.mfaEnabled(user: me.user),
                mfaRequired: settings.requiresMFA(me),
                expiresAt: me.expiresAt.map { TimeParsing.format($0) }))
    }

    @Sendable func changePassword(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        let me = try await caller(request)
        let body = try await request.decodeJSONObject(PasswordChangeRequest.self)
        try await iam.changePassword(user: me.user, current: body.currentPassword, new: body.newPassword)
        return Response(status: .noContent)
    }

    @Sendable func enrolMFA(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        let me = try await caller(request)
        let (secret, uri) = try await iam.enrolMFA(user: me.user)
        let next = "POST /api/v1/iam/mfa/confirm {\"code\": …}"
        return try Response.json(MFAEnrolment(secret: secret, otpauthURI: uri, next: next), status: .created)
    }

    @Sendable func confirmMFA(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        let me = try await caller(request)
        let body = try await request.decodeJSONObject(MFACodeRequest.self)
        try await iam.confirmMFA(user: me.user, code: body.code)
        return try Response.json(MFAStatus())
    }
}
