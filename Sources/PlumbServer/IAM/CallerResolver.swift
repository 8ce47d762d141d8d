import Foundation
import PlumbAuth
import PlumbHost
import PlumbIAM
import PlumbKit

/// Turns an `Authorization: Bearer …` header into a `Caller`, the one place every credential is recognised: the admin
/// token (compared in constant time), a platform user's `plb_` API token, or an end user's access token.
struct CallerResolver: Sendable {
    let adminToken: String
    let iam: IAM
    /// Vouches for end users' tokens; nil where end users have no business (tests of the API alone).
    let host: PluginHost?

    /// `.anonymous` without the header; a malformed header or a token nobody vouches for is a 401.
    ///
    /// The token comes as `Bearer <token>`, or as the password of HTTP Basic authentication (`Basic
    /// base64(name:token)`, the name ignored) for clients that only know that: Grafana's "Basic auth", and a URL with
    /// credentials (`http://plumb:TOKEN@host:8080`) for `promtool query`.
    func resolve(_ header: String?) async throws -> Caller {
        guard let header else { return .anonymous }
        let presented: Substring
        if header.hasPrefix("Bearer "), header.count > 7 {
            presented = header.dropFirst(7)
        } else if header.hasPrefix("Basic "), let password = Self.basicPassword(header.dropFirst(6)) {
            presented = password
        } else {
            throw APIError(
                status: 401, code: "Unauthorized",
                "the Authorization header must be 'Bearer <token>' (or Basic with the token as password)")
        }
        if AdminToken.matches(presented, adminToken) { return .admin }
        if presented.hasPrefix("plb_") {
            guard let principal = try await iam.principal(token: String(presented)) else {
                throw APIError(status: 401, code: "Unauthorized", "unknown or revoked token")
            }
            return .iamUser(principal)
        }
        if let user = host?.endUser(accessToken: String(presented)) { return .endUser(user) }
        throw APIError(status: 401, code: "Unauthorized", "unknown, expired or revoked token")
    }

    /// The password of a Basic credential; nil when it is not base64 of `name:password` with a password.
    static func basicPassword(_ encoded: Substring) -> Substring? {
        guard encoded.utf8.count <= 4_096, let data = Data(base64Encoded: String(encoded)),
            let text = String(data: data, encoding: .utf8), let colon = text.firstIndex(of: ":")
        else { return nil }
        let password = text[text.index(after: colon)...]
        return password.isEmpty ? nil : password
    }

    /// Refuses a platform user who must sign in with a TOTP code and did not (`iam.require_mfa`).
    static func requireMFA(_ principal: IAMPrincipal, settings: ServerConfig.IAMSettings) throws {
        if !principal.mfa, settings.requiresMFA(principal) {
            throw APIError(
                status: 403, code: "MFARequired",
                "user \(principal.user) must sign in with a TOTP code: `plumb mfa enrol`, then `plumb login --user \(principal.user)`"
            )
        }
    }

    /// Refuses a platform user whose policies do not allow `action` on `resource`, naming the decision.
    static func requireAllowed(_ principal: IAMPrincipal, action: String, resource: String) throws {
        let decision = PolicyEvaluator.evaluate(principal.policies, action: action, resource: resource)
        guard decision.allowed else {
            throw APIError(
                status: 403, code: "AccessDenied",
                "user \(principal.user) may not \(action) on \(resource): \(decision.explanation)")
        }
    }
}
