import Logging
import PlumbAPI
import PlumbIAM
import PostgresNIO

/// The IAM listings, and sign-in state: passwords, failures and lockout, TOTP devices. Each piece of bookkeeping is
/// one conditional statement, so sign-ins on several nodes count every failure and spend a TOTP step once.
extension PostgresIAMStore {
    public func users() async throws -> [UserDescription] {
        let logger = self.logger
        return try await database.run { connection in
            var users: [UserDescription] = []
            for try await (name, disabled, groups, policies) in try await connection.query(
                """
                SELECT u.name, u.disabled,
                    ARRAY(SELECT grp FROM iam_members WHERE usr = u.name ORDER BY grp),
                    ARRAY(SELECT policy FROM iam_attachments WHERE kind = 'user' AND principal = u.name ORDER BY policy)
                FROM iam_users u ORDER BY u.name
                """, logger: logger
            ).decode((String, Bool, [String], [String]).self) {
                users.append(UserDescription(name: name, disabled: disabled, groups: groups, policies: policies))
            }
            return users
        }
    }

    public func groups() async throws -> [GroupDescription] {
        let logger = self.logger
        return try await database.run { connection in
            var groups: [GroupDescription] = []
            for try await (name, members, policies) in try await connection.query(
                """
                SELECT g.name,
                    ARRAY(SELECT usr FROM iam_members WHERE grp = g.name ORDER BY usr),
                    ARRAY(SELECT policy FROM iam_attachments WHERE kind = 'group' AND principal = g.name ORDER BY policy)
                FROM iam_groups g ORDER BY g.name
                """, logger: logger
            ).decode((String, [String], [String]).self) {
                groups.append(GroupDescription(name: name, members: members, policies: policies))
            }
            return groups
        }
    }

    public func policies() async throws -> [StoredPolicy] {
        let logger = self.logger
        return try await database.run { connection in
            var policies: [StoredPolicy] = []
            for try await (name, document) in try await connection.query(
                "SELECT name, document FROM iam_policies ORDER BY name", logger: logger
            ).decode((String, String).self) {
                policies.append(StoredPolicy(name: name, document: document))
            }
            return policies
        }
    }

    public func signInRecord(user: String) async throws -> SignInRecord? {
        let logger = self.logger
        return try await database.run { connection in
            try await Self.signInRecord(user: user, locking: false, connection, logger: logger)
        }
    }

    static func signInRecord(
        user: String, locking: Bool, _ connection: PostgresConnection, logger: Logger
    ) async throws -> SignInRecord? {
        let rows = try await connection.query(
            """
            SELECT name, disabled, password, mfa_secret, mfa_enabled, mfa_last_step, failures, locked_until
            FROM iam_users WHERE name = \(user) \(unescaped: locking ? "FOR UPDATE" : "")
            """, logger: logger
        ).decode((String, Bool, String?, String?, Bool, Int64?, Int32, Double).self)
        for try await (name, disabled, password, secret, enabled, lastStep, failures, lockedUntil) in rows {
            return SignInRecord(
                name: name, disabled: disabled, password: password, sealedMFASecret: secret, mfaEnabled: enabled,
                mfaLastStep: lastStep, failures: Int(failures), lockedUntil: lockedUntil)
        }
        return nil
    }

    public func setPassword(user: String, hash: String, revokingSignIns: Bool) async throws {
        try await change { connection, logger in
            let changed = try await Self.touched(
                connection.query(
                    """
                    UPDATE iam_users SET password = \(hash), failures = 0, locked_until = 0 WHERE name = \(user)
                    RETURNING 1
                    """, logger: logger))
            guard changed == 1 else { throw PlumbError.noSuchEntity("user", user) }
            if revokingSignIns {
                try await connection.query(
                    "DELETE FROM iam_tokens WHERE usr = \(user) AND expires_at IS NOT NULL", logger: logger)
            }
        }
    }

    public func recordFailure(user: String, lockUntil: @escaping @Sendable (Int) -> Double) async throws {
        let logger = self.logger
        try await database.transaction { connection in
            let count = try await Self.first(
                connection.query(
                    "UPDATE iam_users SET failures = failures + 1 WHERE name = \(user) RETURNING failures",
                    logger: logger),
                as: Int32.self)
            guard let count else { return }
            // The row stays locked by the increment until this sets the lockout its count gives.
            try await connection.query(
                "UPDATE iam_users SET locked_until = \(lockUntil(Int(count))) WHERE name = \(user)", logger: logger)
        }
    }

    public func completeSignIn(_ attempt: SignInAttempt) async throws -> SignInOutcome {
        let logger = self.logger
        return try await database.transaction { connection in
            // The row stays locked until the token is in: a password change, an MFA reset, a disable or another
            // sign-in with the same code on any node waits for this one, or this one sees theirs.
            let record = try await Self.signInRecord(user: attempt.user, locking: true, connection, logger: logger)
            let outcome = attempt.verdict(on: record)
            guard outcome == .signedIn else { return outcome }
            try await connection.query(
                """
                UPDATE iam_users SET mfa_last_step = COALESCE(\(attempt.step), mfa_last_step), failures = 0,
                    locked_until = 0
                WHERE name = \(attempt.user)
                """, logger: logger)
            try await Self.insert(attempt.token, connection, logger: logger)
            return .signedIn
        }
    }

    public func anySealedMFASecret() async throws -> (user: String, sealed: String)? {
        let logger = self.logger
        return try await database.run { connection in
            for try await (user, sealed) in try await connection.query(
                "SELECT name, mfa_secret FROM iam_users WHERE mfa_secret IS NOT NULL LIMIT 1", logger: logger
            ).decode((String, String).self) {
                return (user, sealed)
            }
            return nil
        }
    }

    public func enrolMFA(user: String, sealedSecret: String) async throws -> Bool {
        let logger = self.logger
        return try await database.run { connection in
            try await Self.touched(
                connection.query(
                    """
                    UPDATE iam_users SET mfa_secret = \(sealedSecret), mfa_last_step = NULL
                    WHERE name = \(user) AND NOT mfa_enabled RETURNING 1
                    """, logger: logger)) == 1
        }
    }

    public func confirmMFA(user: String, sealedSecret: String, step: Int64) async throws -> Bool {
        try await change { connection, logger in
            try await Self.touched(
                connection.query(
                    """
                    UPDATE iam_users SET mfa_enabled = true, mfa_last_step = \(step)
                    WHERE name = \(user) AND NOT mfa_enabled AND mfa_secret = \(sealedSecret) RETURNING 1
                    """, logger: logger)) == 1
        }
    }

    public func resetMFA(user: String) async throws {
        try await change { connection, logger in
            let changed = try await Self.touched(
                connection.query(
                    """
                    UPDATE iam_users SET mfa_secret = NULL, mfa_enabled = false, mfa_last_step = NULL
                    WHERE name = \(user) RETURNING 1
                    """, logger: logger))
            guard changed == 1 else { throw PlumbError.noSuchEntity("user", user) }
            try await connection.query("DELETE FROM iam_tokens WHERE usr = \(user) AND mfa", logger: logger)
        }
    }
}
