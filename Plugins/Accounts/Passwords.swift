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

    static func normalisedEmail(_ text: String) -> String? {
        let email = text.trimmingCharacters(in: .whitespaces).lowercased()
        let parts = email.split(separator: "@")
        guard email.count <= 254, parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), !email.contains(" ") else { return nil }
        return email
    }

    static func normalisedAnswer(_ text: String) -> String {
        text.lowercased().split(whereSeparator: { $0.isWhitespace || $0.isPunctuation }).joined(separator: " ")
    }
}

