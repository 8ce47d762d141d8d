import Foundation
import GRDB
import Logging
import PlumbAuth
import PlumbKit

// Passwords and answers: scrypt hashes with their parameters, normalisation, the rules a password meets.
extension AccountsPlugin {

    func hash(_ secret: String) throws -> String { try PasswordHash.make(secret, parameters: parameters) }

    static func check(_ secret: String, against stored: String) -> Bool { PasswordHash.verify(secret, against: stored) }

    /// What an unknown account is checked against, so that the answer takes as long as for a real one.
    var decoy: String { PasswordHash.decoy(parameters: parameters) }

    /// The identity form of an address (`EmailIdentity`: NFKC, lowercase, IDNA domain), nil when it is refused.
    static func normalisedEmail(_ text: String) -> String? {
        try? EmailIdentity.normalise(text).get()
    }

    static func normalisedAnswer(_ text: String) -> String {
        text.lowercased().split(whereSeparator: { $0.isWhitespace || $0.isPunctuation }).joined(separator: " ")
    }
}
