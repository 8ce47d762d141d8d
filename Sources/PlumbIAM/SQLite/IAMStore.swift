import Foundation
import GRDB
import PlumbAPI
import PlumbStore
import Synchronization

/// The IAM contract in the data directory (`iam.sqlite`), the default. Its one writer orders every change; the
/// revision counts this process's changes, the only ones there are.
///
/// A user's TOTP secret is stored sealed; one stored in clear by an older version (a BLOB) is sealed when the store
/// opens (`sealedAtOpen`).
public final class IAMStore: IAMStoring, Sendable {
    let database: DatabasePool
    /// How many TOTP secrets in clear were sealed when the store opened.
    public let sealedAtOpen: Int
    private let changes = Atomic<Int64>(0)
    public var isShared: Bool { false }

    /// - Parameter secrets: the server's box, which seals TOTP secrets an older version left in clear.
    public init(directory: String, durability: Durability, secrets: SecretBox) throws {
        let store = try SQLiteStore(
            path: directory + "/iam.sqlite", durability: durability,
            migrations: [
                Migration("iam-1") { db in
                    try db.execute(
                        sql: """
                            CREATE TABLE users (name TEXT PRIMARY KEY, created_at INTEGER NOT NULL, disabled INTEGER NOT NULL DEFAULT 0);
                            CREATE TABLE groups (name TEXT PRIMARY KEY, created_at INTEGER NOT NULL);
                            CREATE TABLE members (grp TEXT NOT NULL REFERENCES groups(name), user TEXT NOT NULL REFERENCES users(name),
                                PRIMARY KEY (grp, user));
                            CREATE TABLE policies (name TEXT PRIMARY KEY, document TEXT NOT NULL, updated_at INTEGER NOT NULL);
                            CREATE TABLE attachments (kind TEXT NOT NULL CHECK (kind IN ('user', 'group')), principal TEXT NOT NULL,
                                policy TEXT NOT NULL REFERENCES policies(name), PRIMARY KEY (kind, principal, policy));
                            CREATE TABLE tokens (hash TEXT PRIMARY KEY, user TEXT NOT NULL REFERENCES users(name), created_at INTEGER NOT NULL);
                            """)
                },
                // Sign-in for platform users: a password (scrypt), a TOTP device, lockout; tokens from a sign-in expire and
                // say whether a second factor was given.
                Migration("iam-2-login") { db in
                    try db.execute(
                        sql: """
                            ALTER TABLE users ADD COLUMN password TEXT;
                            ALTER TABLE users ADD COLUMN mfa_secret BLOB;
                            ALTER TABLE users ADD COLUMN mfa_enabled INTEGER NOT NULL DEFAULT 0;
                            ALTER TABLE users ADD COLUMN mfa_last_step INTEGER;
                            ALTER TABLE users ADD COLUMN failures INTEGER NOT NULL DEFAULT 0;
                            ALTER TABLE users ADD COLUMN locked_until REAL NOT NULL DEFAULT 0;
                            ALTER TABLE tokens ADD COLUMN expires_at INTEGER;
                            ALTER TABLE tokens ADD COLUMN mfa INTEGER NOT NULL DEFAULT 0;
                            """)
                },
                Migration("iam-3-token-owner") { db in
                    try db.execute(sql: "CREATE INDEX IF NOT EXISTS tokens_by_user ON tokens (user)")
                },
                Migration("iam-4-access-keys") { db in
                    try db.execute(
                        sql: """
                            CREATE TABLE access_keys (id TEXT PRIMARY KEY, user TEXT NOT NULL REFERENCES users(name),
                                secret TEXT NOT NULL, created_at INTEGER NOT NULL);
                            CREATE INDEX access_keys_by_user ON access_keys (user);
                            """)
                },
            ])
        database = store.pool
        sealedAtOpen = try Self.sealSecrets(store, with: secrets)
    }

    /// A change that can alter what a token is allowed.
    func change<T: Sendable>(_ updates: @escaping @Sendable (Database) throws -> T) async throws -> T {
        defer { changes.add(1, ordering: .relaxed) }
        return try await database.write(updates)
    }

    static func exists(_ db: Database, _ table: String, _ name: String) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT 1 FROM \(table) WHERE name = ?", arguments: [name]) ?? false
    }

    public func revision() async throws -> Int64 { changes.load(ordering: .relaxed) }

    public func seed(_ policies: [StoredPolicy], earlier: [StoredPolicy], at now: Int64) async throws {
        let current = Dictionary(policies.map { ($0.name, $0.document) }, uniquingKeysWith: { a, _ in a })
        try await change { db in
            if try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM policies") == 0 {
                for policy in policies {
                    try db.execute(
                        sql: "INSERT INTO policies (name, document, updated_at) VALUES (?, ?, ?)",
                        arguments: [policy.name, policy.document, now])
                    try db.execute(
                        sql: "INSERT INTO groups (name, created_at) VALUES (?, ?)", arguments: [policy.name, now])
                    try db.execute(
                        sql: "INSERT INTO attachments (kind, principal, policy) VALUES ('group', ?, ?)",
                        arguments: [policy.name, policy.name])
                    if policy.name != "read-only" {
                        try db.execute(
                            sql: "INSERT INTO attachments (kind, principal, policy) VALUES ('group', ?, 'read-only')",
                            arguments: [policy.name])
                    }
                }
            }
            for old in earlier {
                guard let document = current[old.name] else { continue }
                try db.execute(
                    sql: "UPDATE policies SET document = ?, updated_at = ? WHERE name = ? AND document = ?",
                    arguments: [document, now, old.name, old.document])
            }
        }
    }

    public func tokenOwner(hash: String, now: Int64) async throws -> TokenOwner? {
        try await database.read { db -> TokenOwner? in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT u.name, t.mfa, t.expires_at FROM tokens t JOIN users u ON u.name = t.user
                        WHERE t.hash = ? AND u.disabled = 0 AND (t.expires_at IS NULL OR t.expires_at > ?)
                        """, arguments: [hash, now])
            else { return nil }
            let user: String = row["name"]
            return TokenOwner(
                user: user, mfa: (row["mfa"] as Int) != 0, expiresAt: row["expires_at"],
                groups: try String.fetchAll(
                    db, sql: "SELECT grp FROM members WHERE user = ? ORDER BY grp", arguments: [user]),
                policies: try Self.policies(of: user, db))
        }
    }

    static func policies(of user: String, _ db: Database) throws -> [StoredPolicy] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT DISTINCT p.name, p.document FROM attachments a JOIN policies p ON p.name = a.policy
                WHERE (a.kind = 'user' AND a.principal = ?1) OR (a.kind = 'group' AND a.principal IN (SELECT grp FROM members WHERE user = ?1))
                ORDER BY p.name
                """, arguments: [user]
        ).map { StoredPolicy(name: $0["name"], document: $0["document"]) }
    }

    public func policies(ofUser user: String) async throws -> [StoredPolicy] {
        try await database.read { db in
            guard try Self.exists(db, "users", user) else { throw PlumbError.noSuchEntity("user", user) }
            return try Self.policies(of: user, db)
        }
    }

    public func createUser(_ name: String, at now: Int64) async throws {
        try await change { db in
            guard try !Self.exists(db, "users", name) else { throw PlumbError.entityExists("user", name) }
            try db.execute(sql: "INSERT INTO users (name, created_at) VALUES (?, ?)", arguments: [name, now])
        }
    }

    public func disableUser(_ name: String) async throws {
        try await change { db in
            try db.execute(sql: "UPDATE users SET disabled = 1 WHERE name = ?", arguments: [name])
            guard db.changesCount == 1 else { throw PlumbError.noSuchEntity("user", name) }
            try db.execute(sql: "DELETE FROM tokens WHERE user = ?", arguments: [name])
            try db.execute(sql: "DELETE FROM access_keys WHERE user = ?", arguments: [name])
        }
    }

    public func addToken(_ token: NewToken) async throws {
        try await database.write { db in
            guard
                try Bool.fetchOne(
                    db, sql: "SELECT 1 FROM users WHERE name = ? AND disabled = 0", arguments: [token.user]) ?? false
            else { throw PlumbError.noSuchEntity("enabled user", token.user) }
            try Self.insert(token, db)
        }
    }

    /// Keeps a token, and forgets the user's sign-in tokens that have expired.
    static func insert(_ token: NewToken, _ db: Database) throws {
        try db.execute(
            sql: "DELETE FROM tokens WHERE user = ? AND expires_at IS NOT NULL AND expires_at <= ?",
            arguments: [token.user, token.createdAt])
        try db.execute(
            sql: "INSERT INTO tokens (hash, user, created_at, expires_at, mfa) VALUES (?, ?, ?, ?, ?)",
            arguments: [token.hash, token.user, token.createdAt, token.expiresAt, token.mfa])
    }

    public func createGroup(_ name: String, at now: Int64) async throws {
        try await change { db in
            guard try !Self.exists(db, "groups", name) else { throw PlumbError.entityExists("group", name) }
            try db.execute(sql: "INSERT INTO groups (name, created_at) VALUES (?, ?)", arguments: [name, now])
        }
    }

    public func addMember(group: String, user: String) async throws {
        try await change { db in
            guard try Self.exists(db, "groups", group) else { throw PlumbError.noSuchEntity("group", group) }
            guard try Self.exists(db, "users", user) else { throw PlumbError.noSuchEntity("user", user) }
            try db.execute(sql: "INSERT OR IGNORE INTO members (grp, user) VALUES (?, ?)", arguments: [group, user])
        }
    }

    public func putPolicy(_ policy: StoredPolicy, at now: Int64) async throws {
        try await change { db in
            try db.execute(
                sql: """
                    INSERT INTO policies (name, document, updated_at) VALUES (?, ?, ?)
                    ON CONFLICT (name) DO UPDATE SET document = excluded.document, updated_at = excluded.updated_at
                    """,
                arguments: [policy.name, policy.document, now])
        }
    }

    public func deletePolicy(_ name: String) async throws {
        try await change { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM attachments WHERE policy = ?", arguments: [name]) == nil
            else { throw PlumbError.policyAttached(name) }
            try db.execute(sql: "DELETE FROM policies WHERE name = ?", arguments: [name])
            guard db.changesCount == 1 else { throw PlumbError.noSuchEntity("policy", name) }
        }
    }

    public func attach(policy: String, to holder: PolicyHolder) async throws {
        try await change { db in
            guard try Self.exists(db, "policies", policy) else { throw PlumbError.noSuchEntity("policy", policy) }
            guard try Self.exists(db, holder.kind == "user" ? "users" : "groups", holder.name) else {
                throw PlumbError.noSuchEntity(holder.kind, holder.name)
            }
            try db.execute(
                sql: "INSERT OR IGNORE INTO attachments (kind, principal, policy) VALUES (?, ?, ?)",
                arguments: [holder.kind, holder.name, policy])
        }
    }

    // MARK: - AWS access keys

    public func addAccessKey(_ key: StoredAccessKey, limit: Int) async throws {
        try await change { db in
            guard
                try Bool.fetchOne(
                    db, sql: "SELECT 1 FROM users WHERE name = ? AND disabled = 0", arguments: [key.user]) ?? false
            else { throw PlumbError.noSuchEntity("enabled user", key.user) }
            let count =
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM access_keys WHERE user = ?", arguments: [key.user]) ?? 0
            guard count < limit else { throw PlumbError.accessKeyLimit(key.user, limit) }
            try db.execute(
                sql: "INSERT INTO access_keys (id, user, secret, created_at) VALUES (?, ?, ?, ?)",
                arguments: [key.id, key.user, key.sealedSecret, key.createdAt])
        }
    }

    public func accessKeys(user: String) async throws -> [StoredAccessKey] {
        try await database.read { db in
            guard try Self.exists(db, "users", user) else { throw PlumbError.noSuchEntity("user", user) }
            return try Row.fetchAll(
                db, sql: "SELECT id, secret, created_at FROM access_keys WHERE user = ? ORDER BY created_at, id",
                arguments: [user]
            ).map { StoredAccessKey(id: $0["id"], user: user, sealedSecret: $0["secret"], createdAt: $0["created_at"]) }
        }
    }

    public func deleteAccessKey(user: String, id: String) async throws {
        try await change { db in
            try db.execute(sql: "DELETE FROM access_keys WHERE id = ? AND user = ?", arguments: [id, user])
            guard db.changesCount == 1 else { throw PlumbError.noSuchEntity("access key of \(user)", id) }
        }
    }

    public func accessKeyOwner(id: String) async throws -> (owner: TokenOwner, sealedSecret: String)? {
        try await database.read { db -> (owner: TokenOwner, sealedSecret: String)? in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT u.name, k.secret FROM access_keys k JOIN users u ON u.name = k.user
                        WHERE k.id = ? AND u.disabled = 0
                        """, arguments: [id])
            else { return nil }
            let user: String = row["name"]
            let owner = TokenOwner(
                user: user, mfa: false, expiresAt: nil,
                groups: try String.fetchAll(
                    db, sql: "SELECT grp FROM members WHERE user = ? ORDER BY grp", arguments: [user]),
                policies: try Self.policies(of: user, db))
            return (owner, row["secret"])
        }
    }
}
