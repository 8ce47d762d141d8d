import Foundation
import GRDB
import PlumbAPI

/// Sign-in state in `iam.sqlite`: passwords, failures and lockout, TOTP devices.
extension IAMStore {
    public func signInRecord(user: String) async throws -> SignInRecord? {
        try await database.read { db in try Self.signInRecord(user: user, db) }
    }

    static func signInRecord(user: String, _ db: Database) throws -> SignInRecord? {
        try Row.fetchOne(
            db,
            sql: """
                SELECT name, disabled, password, mfa_secret, mfa_enabled, mfa_last_step, failures, locked_until
                FROM users WHERE name = ?
                """, arguments: [user]
        ).map { row in
            // Sealed secrets are text; a BLOB (a secret in clear from an older version) is sealed at open.
            let secret: DatabaseValue = row["mfa_secret"]
            var sealed: String?
            if case .string(let text) = secret.storage { sealed = text }
            return SignInRecord(
                name: row["name"], disabled: (row["disabled"] as Int) != 0, password: row["password"],
                sealedMFASecret: sealed, mfaEnabled: (row["mfa_enabled"] as Int) != 0,
                mfaLastStep: row["mfa_last_step"], failures: row["failures"], lockedUntil: row["locked_until"])
        }
    }

    public func setPassword(user: String, hash: String, revokingSignIns: Bool) async throws {
        try await change { db in
            try db.execute(
                sql: "UPDATE users SET password = ?, failures = 0, locked_until = 0 WHERE name = ?",
                arguments: [hash, user])
            guard db.changesCount == 1 else { throw PlumbError.noSuchEntity("user", user) }
            if revokingSignIns {
                try db.execute(sql: "DELETE FROM tokens WHERE user = ? AND expires_at IS NOT NULL", arguments: [user])
            }
        }
    }

    public func recordFailure(user: String, lockUntil: @escaping @Sendable (Int) -> Double) async throws {
        try await database.write { db in
            let count =
                (try Int.fetchOne(db, sql: "SELECT failures FROM users WHERE name = ?", arguments: [user]) ?? 0) + 1
            try db.execute(
                sql: "UPDATE users SET failures = ?, locked_until = ? WHERE name = ?",
                arguments: [count, lockUntil(count), user])
        }
    }

    public func completeSignIn(_ attempt: SignInAttempt) async throws -> SignInOutcome {
        try await database.write { db in
            let outcome = attempt.verdict(on: try Self.signInRecord(user: attempt.user, db))
            guard outcome == .signedIn else { return outcome }
            try db.execute(
                sql: """
                    UPDATE users SET mfa_last_step = COALESCE(?, mfa_last_step), failures = 0, locked_until = 0
                    WHERE name = ?
                    """,
                arguments: [attempt.step, attempt.user])
            try Self.insert(attempt.token, db)
            return .signedIn
        }
    }

    public func anySealedMFASecret() async throws -> (user: String, sealed: String)? {
        try await database.read { db in
            try Row.fetchOne(
                db, sql: "SELECT name, mfa_secret FROM users WHERE typeof(mfa_secret) = 'text' LIMIT 1"
            ).map { (user: $0["name"], sealed: $0["mfa_secret"]) }
        }
    }

    public func enrolMFA(user: String, sealedSecret: String) async throws -> Bool {
        try await database.write { db in
            try db.execute(
                sql: "UPDATE users SET mfa_secret = ?, mfa_last_step = NULL WHERE name = ? AND mfa_enabled = 0",
                arguments: [sealedSecret, user])
            return db.changesCount == 1
        }
    }

    public func confirmMFA(user: String, sealedSecret: String, step: Int64) async throws -> Bool {
        try await change { db in
            try db.execute(
                sql: """
                    UPDATE users SET mfa_enabled = 1, mfa_last_step = ? WHERE name = ? AND mfa_enabled = 0 AND mfa_secret = ?
                    """,
                arguments: [step, user, sealedSecret])
            return db.changesCount == 1
        }
    }

    public func resetMFA(user: String) async throws {
        try await change { db in
            try db.execute(
                sql: "UPDATE users SET mfa_secret = NULL, mfa_enabled = 0, mfa_last_step = NULL WHERE name = ?",
                arguments: [user])
            guard db.changesCount == 1 else { throw PlumbError.noSuchEntity("user", user) }
            try db.execute(sql: "DELETE FROM tokens WHERE user = ? AND mfa = 1", arguments: [user])
        }
    }
}
