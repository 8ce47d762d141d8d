/// A signed-in end user, as the identity plugin vouches for them.
public struct EndUser: Sendable, Equatable {
    /// The stable account id (the token's `sub`).
    public let subject: String
    public let email: String?

    public init(subject: String, email: String? = nil) {
        self.subject = subject
        self.email = email
    }
}

/// Tells who holds an end user's access token: the host asks it for every call of a `.user` function.
public protocol EndUserVerifying: Sendable {
    /// The end user of a valid, unexpired access token; nil for anything else (never throws: a bad token is simply
    /// not a user).
    func endUser(accessToken: String) -> EndUser?
}

/// A plugin that signs in end users (the accounts plugin) and can therefore vouch for their tokens. The host asks the
/// first loaded plugin that conforms for its verifier, and uses it for every `.user` function of every plugin.
public protocol IdentityProvider: Plugin {
    static func endUserVerifier(context: PluginContext) async throws -> any EndUserVerifying
}
