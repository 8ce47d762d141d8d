import Logging
import PlumbAPI
import PlumbIAM
import PostgresNIO

/// AWS access keys of IAM users in PostgreSQL, shared by every node: a key made on one node signs requests to all.
extension PostgresIAMStore {
    public func addAccessKey(_ key: StoredAccessKey, limit: Int) async throws {
        try await change { connection, logger in
            // The user's row stays locked until the key is in: a concurrent creation waits and counts this one, and
            // a concurrent disable (which deletes every key) cannot slip between the check and the insert.
            guard
                try await Self.exists(
                    connection, "SELECT 1 FROM iam_users WHERE name = \(key.user) AND NOT disabled FOR UPDATE",
                    logger: logger)
            else { throw PlumbError.noSuchEntity("enabled user", key.user) }
            let count =
                try await Self.first(
                    connection.query("SELECT count(*) FROM iam_access_keys WHERE usr = \(key.user)", logger: logger),
                    as: Int64.self) ?? 0
            guard count < limit else { throw PlumbError.accessKeyLimit(key.user, limit) }
            try await connection.query(
                """
                INSERT INTO iam_access_keys (id, usr, secret, created_at)
                VALUES (\(key.id), \(key.user), \(key.sealedSecret), \(key.createdAt))
                """, logger: logger)
        }
    }

    public func accessKeys(user: String) async throws -> [StoredAccessKey] {
        let logger = self.logger
        return try await database.run { connection in
            guard try await Self.exists(connection, "SELECT 1 FROM iam_users WHERE name = \(user)", logger: logger)
            else { throw PlumbError.noSuchEntity("user", user) }
            var keys: [StoredAccessKey] = []
            for try await (id, secret, created) in try await connection.query(
                "SELECT id, secret, created_at FROM iam_access_keys WHERE usr = \(user) ORDER BY created_at, id",
                logger: logger
            ).decode((String, String, Int64).self) {
                keys.append(StoredAccessKey(id: id, user: user, sealedSecret: secret, createdAt: created))
            }
            return keys
        }
    }

    public func deleteAccessKey(user: String, id: String) async throws {
        try await change { connection, logger in
            let deleted = try await Self.touched(
                connection.query(
                    "DELETE FROM iam_access_keys WHERE id = \(id) AND usr = \(user) RETURNING 1", logger: logger))
            guard deleted == 1 else { throw PlumbError.noSuchEntity("access key of \(user)", id) }
        }
    }

    public func accessKeyOwner(id: String) async throws -> (owner: TokenOwner, sealedSecret: String)? {
        let logger = self.logger
        return try await database.transaction { connection in
            // One snapshot for the key, the groups and the policies.
            try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: logger)
            let rows = try await connection.query(
                """
                SELECT u.name, k.secret FROM iam_access_keys k JOIN iam_users u ON u.name = k.usr
                WHERE k.id = \(id) AND NOT u.disabled
                """, logger: logger
            ).decode((String, String).self)
            var found: (String, String)?
            for try await row in rows { found = row }
            guard let (user, secret) = found else { return nil }
            let owner = TokenOwner(
                user: user, mfa: false, expiresAt: nil,
                groups: try await Self.groups(of: user, connection, logger: logger),
                policies: try await Self.policies(of: user, connection, logger: logger))
            return (owner, secret)
        }
    }
}
