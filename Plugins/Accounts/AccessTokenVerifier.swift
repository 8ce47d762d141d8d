import Foundation
import PlumbAuth
import PlumbKit

/// Vouches for end users to the host: an access token this plugin signed, unexpired, for this issuer and audience.
/// The host uses it for every `.user` function of every plugin (documents, the accounts' own MFA and userinfo).
struct AccessTokenVerifier: EndUserVerifying {
    let ring: KeyRing
    let issuer: String

    func endUser(accessToken: String) -> EndUser? {
        guard
            let claims = try? ring.verify(
                accessToken, now: Int64(Date().timeIntervalSince1970), issuer: issuer, audience: "plumb"),
            let subject = claims["sub"] as? String, !subject.isEmpty
        else { return nil }
        return EndUser(subject: subject, email: claims["email"] as? String)
    }
}

extension AccountsPlugin: IdentityProvider {
    public static func endUserVerifier(context: PluginContext) async throws -> any EndUserVerifying {
        AccessTokenVerifier(
            ring: try keyRing(context: context), issuer: issuer(context))
    }
}
