import Logging
import PlumbAPI
import PlumbIAM
import PostgresNIO

/// The IAM contract on PostgreSQL (`storage.state: postgres`): users, groups, policies, attachments, API tokens and
/// sign-in state, shared by every node, so a user made, a policy attached or a token revoked on one node holds on
/// all of them.
///
/// Every change that can alter what a token is allowed first takes the next value of the one-row counter
/// `iam_revision` in its transaction: the row lock orders those writers cluster-wide (a check and the write that
/// depends on it cannot interleave with another node's), and nodes watch the value to drop the principals they
/// cached (`IAM.refresh`). Sign-in bookkeeping (failures, the last TOTP step) and new tokens are single conditional
/// statements that need no order.
public final class PostgresIAMStore: IAMStoring, Sendable {
    public let database: PostgresStore
    let logger: Logger
    public var isShared: Bool { true }

    /// The IAM area's schema, version by version (documented in docs/postgres-schema.md).
    public static let migrations: [PostgresMigration] = [
        PostgresMigration(
            1,
            [
                """
                CREATE TABLE iam_users (name text PRIMARY KEY, created_at bigint NOT NULL,
                    disabled boolean NOT NULL DEFAULT false, password text, mfa_secret text,
                    mfa_enabled boolean NOT NULL DEFAULT false, mfa_last_step bigint,
                    failures integer NOT NULL DEFAULT 0, locked_until double precision NOT NULL DEFAULT 0)
                """,
                "CREATE TABLE iam_groups (name text PRIMARY KEY, created_at bigint NOT NULL)",
                """
                CREATE TABLE iam_members (grp text NOT NULL REFERENCES iam_groups (name),
                    usr text NOT NULL REFERENCES iam_users (name), PRIMARY KEY (grp, usr))
                """,
                "CREATE INDEX iam_members_by_user ON iam_members (usr)",
                "CREATE TABLE iam_policies (name text PRIMARY KEY, document text NOT NULL, updated_at bigint NOT NULL)",
                """
                CREATE TABLE iam_attachments (kind text NOT NULL CHECK (kind IN ('user', 'group')),
                    principal text NOT NULL, policy text NOT NULL REFERENCES iam_policies (name),
                    PRIMARY KEY (kind, principal, policy))
                """,
                "CREATE INDEX iam_attachments_by_policy ON iam_attachments (policy)",
                """
                CREATE TABLE iam_tokens (hash text PRIMARY KEY, usr text NOT NULL REFERENCES iam_users (name),
                    created_at bigint NOT NULL, expires_at bigint, mfa boolean NOT NULL DEFAULT false)
                """,
                "CREATE INDEX iam_tokens_by_user ON iam_tokens (usr)",
                """
                CREATE TABLE iam_revision (only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
                    value bigint NOT NULL)
                """,
                "INSERT INTO iam_revision (value) VALUES (0)",
            ]),
        // AWS access keys of IAM users (the AWS API's SigV4 signers); the secret is stored sealed.
        PostgresMigration(
            2,
            [
                """
                CREATE TABLE iam_access_keys (id text PRIMARY KEY, usr text NOT NULL REFERENCES iam_users (name),
                    secret text NOT NULL, created_at bigint NOT NULL)
                """,
                "CREATE INDEX iam_access_keys_by_user ON iam_access_keys (usr)",
            ]),
    ]

    init(database: PostgresStore, logger: Logger) {
        self.database = database
        self.logger = logger
    }

    /// The store on `database`, its schema migrated to this release's.
    public static func open(
        database: PostgresStore, logger: Logger = Logger(label: "plumb.iam")
    ) async throws -> PostgresIAMStore {
        try await database.migrate(area: "iam", migrations)
        return PostgresIAMStore(database: database, logger: logger)
    }

    /// `body` in a transaction that first takes the next revision (and, until it ends, the lock that orders every
    /// such change).
    @discardableResult
    func change<T: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection, Logger) async throws -> T
    ) async throws -> T {
        let logger = self.logger
        return try await database.transaction { connection in
            try await connection.query("UPDATE iam_revision SET value = value + 1", logger: logger)
            return try await body(connection, logger)
        }
    }

    static func first<T: PostgresDecodable & Sendable>(
        _ rows: PostgresRowSequence, as: T.Type
    ) async throws -> T? {
        for try await value in rows.decode(T.self) { return value }
        return nil
    }

    static func exists(_ connection: PostgresConnection, _ query: PostgresQuery, logger: Logger) async throws -> Bool {
        try await first(connection.query(query, logger: logger), as: Int32.self) != nil
    }

    /// How many rows a statement with `RETURNING 1` touched.
    static func touched(_ rows: PostgresRowSequence) async throws -> Int {
        var count = 0
        for try await _ in rows { count += 1 }
        return count
    }

    public func revision() async throws -> Int64 {
        let logger = self.logger
        return try await database.run { connection in
            try await Self.first(connection.query("SELECT value FROM iam_revision", logger: logger), as: Int64.self)
                ?? 0
        }
    }

    /// Under the revision row's lock (nodes starting together seed once), which it moves only when it changed a row:
    /// a node's start does not empty the other nodes' caches.
    public func seed(_ policies: [StoredPolicy], earlier: [StoredPolicy], at now: Int64) async throws {
        let names = policies.map(\.name)
        let documents = policies.map(\.document)
        let readers = names.filter { $0 != "read-only" }
        let logger = self.logger
        try await database.transaction { connection in
            try await connection.query("SELECT value FROM iam_revision FOR UPDATE", logger: logger)
            var changed = 0
            let empty = try await !Self.exists(connection, "SELECT 1 FROM iam_policies LIMIT 1", logger: logger)
            if empty {
                changed += 1
                try await connection.query(
                    """
                    INSERT INTO iam_policies (name, document, updated_at)
                    SELECT n, d, \(now) FROM unnest(\(names)::text[], \(documents)::text[]) AS p (n, d)
                    """, logger: logger)
                try await connection.query(
                    "INSERT INTO iam_groups (name, created_at) SELECT n, \(now) FROM unnest(\(names)::text[]) AS g (n)",
                    logger: logger)
                try await connection.query(
                    """
                    INSERT INTO iam_attachments (kind, principal, policy)
                    SELECT 'group', n, n FROM unnest(\(names)::text[]) AS g (n)
                    UNION ALL SELECT 'group', n, 'read-only' FROM unnest(\(readers)::text[]) AS r (n)
                    WHERE EXISTS (SELECT 1 FROM iam_policies WHERE name = 'read-only')
                    """, logger: logger)
            }
            let current = Dictionary(policies.map { ($0.name, $0.document) }, uniquingKeysWith: { a, _ in a })
            for old in earlier {
                guard let document = current[old.name] else { continue }
                changed += try await Self.touched(
                    connection.query(
                        """
                        UPDATE iam_policies SET document = \(document), updated_at = \(now)
                        WHERE name = \(old.name) AND document = \(old.document) RETURNING 1
                        """, logger: logger))
            }
            if changed > 0 {
                try await connection.query("UPDATE iam_revision SET value = value + 1", logger: logger)
            }
        }
    }

    public func tokenOwner(hash: String, now: Int64) async throws -> TokenOwner? {
        let logger = self.logger
        return try await database.transaction { connection in
            // One snapshot for the token, the groups and the policies.
            try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: logger)
            let rows = try await connection.query(
                """
                SELECT u.name, t.mfa, t.expires_at FROM iam_tokens t JOIN iam_users u ON u.name = t.usr
                WHERE t.hash = \(hash) AND NOT u.disabled AND (t.expires_at IS NULL OR t.expires_at > \(now))
                """, logger: logger
            ).decode((String, Bool, Int64?).self)
            var found: (String, Bool, Int64?)?
            for try await row in rows { found = row }
            guard let (user, mfa, expiresAt) = found else { return nil }
            return TokenOwner(
                user: user, mfa: mfa, expiresAt: expiresAt,
                groups: try await Self.groups(of: user, connection, logger: logger),
                policies: try await Self.policies(of: user, connection, logger: logger))
        }
    }

    static func groups(of user: String, _ connection: PostgresConnection, logger: Logger) async throws -> [String] {
        var groups: [String] = []
        for try await group in try await connection.query(
            "SELECT grp FROM iam_members WHERE usr = \(user) ORDER BY grp", logger: logger
        ).decode(String.self) {
            groups.append(group)
        }
        return groups
    }

    static func policies(
        of user: String, _ connection: PostgresConnection, logger: Logger
    ) async throws -> [StoredPolicy] {
        var policies: [StoredPolicy] = []
        for try await (name, document) in try await connection.query(
            """
            SELECT DISTINCT p.name, p.document FROM iam_attachments a JOIN iam_policies p ON p.name = a.policy
            WHERE (a.kind = 'user' AND a.principal = \(user))
                OR (a.kind = 'group' AND a.principal IN (SELECT grp FROM iam_members WHERE usr = \(user)))
            ORDER BY p.name
            """, logger: logger
        ).decode((String, String).self) {
            policies.append(StoredPolicy(name: name, document: document))
        }
        return policies
    }

    public func policies(ofUser user: String) async throws -> [StoredPolicy] {
        let logger = self.logger
        return try await database.run { connection in
            guard try await Self.exists(connection, "SELECT 1 FROM iam_users WHERE name = \(user)", logger: logger)
            else { throw PlumbError.noSuchEntity("user", user) }
            return try await Self.policies(of: user, connection, logger: logger)
        }
    }

    public func createUser(_ name: String, at now: Int64) async throws {
        try await change { connection, logger in
            let added = try await Self.touched(
                connection.query(
                    """
                    INSERT INTO iam_users (name, created_at) VALUES (\(name), \(now))
                    ON CONFLICT (name) DO NOTHING RETURNING 1
                    """, logger: logger))
            guard added == 1 else { throw PlumbError.entityExists("user", name) }
        }
    }

    public func disableUser(_ name: String) async throws {
        try await change { connection, logger in
            let changed = try await Self.touched(
                connection.query(
                    "UPDATE iam_users SET disabled = true WHERE name = \(name) RETURNING 1", logger: logger))
            guard changed == 1 else { throw PlumbError.noSuchEntity("user", name) }
            try await connection.query("DELETE FROM iam_tokens WHERE usr = \(name)", logger: logger)
            try await connection.query("DELETE FROM iam_access_keys WHERE usr = \(name)", logger: logger)
        }
    }

    public func addToken(_ token: NewToken) async throws {
        let logger = self.logger
        try await database.transaction { connection in
            // The user's row stays locked until the token is in: a concurrent disable (which revokes every token)
            // cannot slip between the check and the insert.
            guard
                try await Self.exists(
                    connection, "SELECT 1 FROM iam_users WHERE name = \(token.user) AND NOT disabled FOR SHARE",
                    logger: logger)
            else { throw PlumbError.noSuchEntity("enabled user", token.user) }
            try await Self.insert(token, connection, logger: logger)
        }
    }

    /// Keeps a token, and forgets the user's sign-in tokens that have expired.
    static func insert(_ token: NewToken, _ connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query(
            """
            DELETE FROM iam_tokens WHERE usr = \(token.user) AND expires_at IS NOT NULL
                AND expires_at <= \(token.createdAt)
            """, logger: logger)
        try await connection.query(
            """
            INSERT INTO iam_tokens (hash, usr, created_at, expires_at, mfa)
            VALUES (\(token.hash), \(token.user), \(token.createdAt), \(token.expiresAt), \(token.mfa))
            """, logger: logger)
    }

    public func createGroup(_ name: String, at now: Int64) async throws {
        try await change { connection, logger in
            let added = try await Self.touched(
                connection.query(
                    """
                    INSERT INTO iam_groups (name, created_at) VALUES (\(name), \(now))
                    ON CONFLICT (name) DO NOTHING RETURNING 1
                    """, logger: logger))
            guard added == 1 else { throw PlumbError.entityExists("group", name) }
        }
    }

    public func addMember(group: String, user: String) async throws {
        try await change { connection, logger in
            guard try await Self.exists(connection, "SELECT 1 FROM iam_groups WHERE name = \(group)", logger: logger)
            else { throw PlumbError.noSuchEntity("group", group) }
            guard try await Self.exists(connection, "SELECT 1 FROM iam_users WHERE name = \(user)", logger: logger)
            else { throw PlumbError.noSuchEntity("user", user) }
            try await connection.query(
                "INSERT INTO iam_members (grp, usr) VALUES (\(group), \(user)) ON CONFLICT DO NOTHING", logger: logger)
        }
    }

    public func putPolicy(_ policy: StoredPolicy, at now: Int64) async throws {
        try await change { connection, logger in
            try await connection.query(
                """
                INSERT INTO iam_policies (name, document, updated_at) VALUES (\(policy.name), \(policy.document), \(now))
                ON CONFLICT (name) DO UPDATE SET document = excluded.document, updated_at = excluded.updated_at
                """, logger: logger)
        }
    }

    public func deletePolicy(_ name: String) async throws {
        try await change { connection, logger in
            guard
                try await !Self.exists(
                    connection, "SELECT 1 FROM iam_attachments WHERE policy = \(name) LIMIT 1", logger: logger)
            else { throw PlumbError.policyAttached(name) }
            let deleted = try await Self.touched(
                connection.query("DELETE FROM iam_policies WHERE name = \(name) RETURNING 1", logger: logger))
            guard deleted == 1 else { throw PlumbError.noSuchEntity("policy", name) }
        }
    }

    public func attach(policy: String, to holder: PolicyHolder) async throws {
        let table = holder.kind == "user" ? "iam_users" : "iam_groups"
        try await change { connection, logger in
            guard
                try await Self.exists(connection, "SELECT 1 FROM iam_policies WHERE name = \(policy)", logger: logger)
            else { throw PlumbError.noSuchEntity("policy", policy) }
            guard
                try await Self.exists(
                    connection, "SELECT 1 FROM \(unescaped: table) WHERE name = \(holder.name)", logger: logger)
            else { throw PlumbError.noSuchEntity(holder.kind, holder.name) }
            try await connection.query(
                """
                INSERT INTO iam_attachments (kind, principal, policy) VALUES (\(holder.kind), \(holder.name), \(policy))
                ON CONFLICT DO NOTHING
                """, logger: logger)
        }
    }
}
