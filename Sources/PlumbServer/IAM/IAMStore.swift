import Crypto
import Foundation
import GRDB
import PlumbAPI
import PlumbAuth
import PlumbStore
import Synchronization

/// Users, groups, policies and API tokens for the platform API (`iam.sqlite`). A token is shown once; only its
/// SHA-256 is stored (tokens are 256 random bits, so a fast hash is enough). A user's TOTP secret is stored sealed
/// (`SecretBox`); one stored in clear by an older version (a BLOB) is sealed when the store opens.
public final class IAMStore: Sendable {
    let database: DatabasePool
    /// Seals TOTP secrets.
    let secrets: SecretBox
    /// How many TOTP secrets in clear were sealed when the store opened.
    public let sealedAtOpen: Int
    /// Principals by token hash: every API call of a user needs one (the access check, then the audit's actor), and
    /// their policies are parsed once. Any change to users, groups, policies or tokens empties it.
    private let principals = Mutex<(cache: [String: Principal?], generation: Int)>(([:], 0))

    func write<T>(_ updates: (Database) throws -> T) throws -> T {
        defer {
            principals.withLock { p in
                p.cache.removeAll()
                p.generation += 1
            }
        }
        return try database.write(updates)
    }

    public struct Principal: Sendable {
        public var user: String
        public var policies: [Policy]
        /// The groups the user is in.
        public var groups: [String] = []
        /// Whether the token came from a sign-in with a TOTP code.
        public var mfa = false
        /// When the token expires (epoch seconds); nil for a token an admin made, which lives until revoked.
        public var expiresAt: Int64?
    }

    /// - Parameter secrets: the server's box; by default the key in `<directory>/secrets.key`.
    public init(directory: String, durability: Durability, secrets: SecretBox? = nil) throws {
        let box = try secrets ?? SecretBox.load(dataDirectory: directory)
        self.secrets = box
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
            ])
        database = store.pool
        sealedAtOpen = try Self.sealSecrets(store, with: box)
        try seed()
        try updateSeeds()
    }

    /// The seed's groups: a policy and a group of the same name for each, every writer group also reading. Least
    /// privilege: an admin function needs its own action (`sensors:Share`, `classifier:Train`), which `functions:*`
    /// does not grant; the audit trail's retention and filters, and the `Plumb/` namespaces, are the admin token's.
    static let seeds: [(String, String)] = [
        (
            "read-only",
            #"{"Version": "2012-10-17", "Statement": [{"Sid": "ReadEverything", "Effect": "Allow", "Action": ["*:Get*", "*:List*"], "Resource": "*"}]}"#
        ),
        (
            "frontend-writer",
            #"{"Version": "2012-10-17", "Statement": [{"Sid": "FrontendFunctions", "Effect": "Allow", "Action": "functions:*", "Resource": ["function/chat.*", "function/sentiment.*", "function/support.*"]}, {"Sid": "Connections", "Effect": "Allow", "Action": "connections:*", "Resource": "connection/*"}]}"#
        ),
        (
            "backend-writer",
            #"{"Version": "2012-10-17", "Statement": [{"Sid": "BackendFunctions", "Effect": "Allow", "Action": "functions:*", "Resource": ["function/sensors.*", "function/classifier.*"]}, {"Sid": "SensorRegistry", "Effect": "Allow", "Action": ["sensors:CreateProject", "sensors:CreateSite", "sensors:CreateDetector", "sensors:Deploy", "sensors:DeliverNow", "sensors:ScoreNow"], "Resource": "function/sensors.*"}, {"Sid": "NotTraining", "Effect": "Deny", "Action": "functions:*", "Resource": ["function/classifier.train", "function/classifier.upload-dataset", "function/classifier.promote", "function/classifier.rollback"]}]}"#
        ),
        (
            "monitoring-writer",
            #"{"Version": "2012-10-17", "Statement": [{"Sid": "Alarms", "Effect": "Allow", "Action": "alarms:*", "Resource": "alarm/*"}, {"Sid": "Topics", "Effect": "Allow", "Action": "topics:*", "Resource": ["topic/*", "subscription/*", "delivery/*"]}, {"Sid": "Metrics", "Effect": "Allow", "Action": "metrics:PutMetricData", "Resource": "metric/*"}, {"Sid": "Filters", "Effect": "Allow", "Action": ["logs:PutMetricFilter", "logs:DeleteMetricFilter"], "Resource": "metric-filter/*"}, {"Sid": "Retention", "Effect": "Allow", "Action": "logs:PutRetentionPolicy", "Resource": "log-group/*"}]}"#
        ),
        (
            "training-writer",
            #"{"Version": "2012-10-17", "Statement": [{"Sid": "Training", "Effect": "Allow", "Action": ["functions:InvokeFunction", "classifier:Train", "classifier:UploadDataset", "classifier:Promote", "classifier:Rollback"], "Resource": ["function/classifier.train", "function/classifier.upload-dataset", "function/classifier.promote", "function/classifier.rollback"]}]}"#
        ),
    ]

    /// Seed documents of earlier releases, replaced by the current seed when an installation still has them unchanged.
    static let earlierSeeds: [(String, String)] = [
        (
            "backend-writer",
            #"{"Version": "2012-10-17", "Statement": [{"Sid": "BackendFunctions", "Effect": "Allow", "Action": "functions:*", "Resource": ["function/sensors.*", "function/classifier.*"]}, {"Sid": "NotTraining", "Effect": "Deny", "Action": "functions:*", "Resource": ["function/classifier.train", "function/classifier.upload-dataset", "function/classifier.promote", "function/classifier.rollback"]}]}"#
        ),
        (
            "monitoring-writer",
            #"{"Version": "2012-10-17", "Statement": [{"Sid": "Alarms", "Effect": "Allow", "Action": "alarms:*", "Resource": "alarm/*"}, {"Sid": "Topics", "Effect": "Allow", "Action": "topics:*", "Resource": ["topic/*", "subscription/*", "delivery/*"]}, {"Sid": "MetricsAndFilters", "Effect": "Allow", "Action": ["metrics:PutMetricData", "logs:PutMetricFilter", "logs:DeleteMetricFilter", "logs:PutRetentionPolicy"], "Resource": "*"}]}"#
        ),
        (
            "training-writer",
            #"{"Version": "2012-10-17", "Statement": [{"Sid": "Training", "Effect": "Allow", "Action": "functions:InvokeFunction", "Resource": ["function/classifier.train", "function/classifier.upload-dataset", "function/classifier.promote", "function/classifier.rollback"]}]}"#
        ),
    ]

    func seed() throws {
        let now = Int64(Date().timeIntervalSince1970)
        try write { db in
            guard try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM policies") == 0 else { return }
            for (name, document) in Self.seeds {
                _ = try Policy.parse(name: name, json: Array(document.utf8))
                try db.execute(
                    sql: "INSERT INTO policies (name, document, updated_at) VALUES (?, ?, ?)",
                    arguments: [name, document, now])
                try db.execute(sql: "INSERT INTO groups (name, created_at) VALUES (?, ?)", arguments: [name, now])
                try db.execute(
                    sql: "INSERT INTO attachments (kind, principal, policy) VALUES ('group', ?, ?)",
                    arguments: [name, name])
                if name != "read-only" {
                    try db.execute(
                        sql: "INSERT INTO attachments (kind, principal, policy) VALUES ('group', ?, 'read-only')",
                        arguments: [name])
                }
            }
        }
    }

    /// Replaces a seed policy an installation still has exactly as an earlier release seeded it.
    func updateSeeds() throws {
        let now = Int64(Date().timeIntervalSince1970)
        let current = Dictionary(uniqueKeysWithValues: Self.seeds)
        try write { db in
            for (name, earlier) in Self.earlierSeeds {
                guard let document = current[name] else { continue }
                try db.execute(
                    sql: "UPDATE policies SET document = ?, updated_at = ? WHERE name = ? AND document = ?",
                    arguments: [document, now, name, earlier])
            }
        }
    }

    static func hash(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    static func validName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 64
            && name.unicodeScalars.allSatisfy {
                CharacterSet.alphanumerics.contains($0) || "-_.@+".unicodeScalars.contains($0)
            }
    }

    func require(_ condition: Bool, _ status: Int, _ code: String, _ message: String) throws {
        if !condition { throw PlumbError(status: status, code: code, message) }
    }

    /// The user and policies behind an API token, nil for an unknown token or a disabled user.
    public func principal(token: String) throws -> Principal? {
        let key = Self.hash(token)
        let (cached, generation) = principals.withLock { ($0.cache[key], $0.generation) }
        let now = Int64(Date().timeIntervalSince1970)
        // A cached principal of a token that has since expired is read again (and found no longer valid).
        if let cached, (cached?.expiresAt).map({ $0 > now }) ?? true { return cached }
        let found = try database.read { db -> Principal? in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT u.name, t.mfa, t.expires_at FROM tokens t JOIN users u ON u.name = t.user
                        WHERE t.hash = ? AND u.disabled = 0 AND (t.expires_at IS NULL OR t.expires_at > ?)
                        """, arguments: [Self.hash(token), now])
            else { return nil }
            let user: String = row["name"]
            return Principal(
                user: user, policies: try Self.policies(of: user, db),
                groups: try String.fetchAll(
                    db, sql: "SELECT grp FROM members WHERE user = ? ORDER BY grp", arguments: [user]),
                mfa: (row["mfa"] as Int) != 0, expiresAt: row["expires_at"])
        }
        // Kept only if nothing changed while it was read (a read from before a change must not outlive it).
        principals.withLock { p in
            guard p.generation == generation else { return }
            if p.cache.count > 10_000 { p.cache.removeAll() }
            p.cache[key] = found
        }
        return found
    }

    static func policies(of user: String, _ db: Database) throws -> [Policy] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT DISTINCT p.name, p.document FROM attachments a JOIN policies p ON p.name = a.policy
                WHERE (a.kind = 'user' AND a.principal = ?1) OR (a.kind = 'group' AND a.principal IN (SELECT grp FROM members WHERE user = ?1))
                ORDER BY p.name
                """, arguments: [user]
        ).map { try Policy.parse(name: $0["name"], json: Array(($0["document"] as String).utf8)) }
    }

    public func policies(ofUser user: String) throws -> [Policy] {
        try database.read { db in
            try require(
                try Bool.fetchOne(db, sql: "SELECT 1 FROM users WHERE name = ?", arguments: [user]) ?? false, 404,
                "NoSuchEntity", "no user '\(user)'")
            return try Self.policies(of: user, db)
        }
    }

    public func createUser(_ name: String) throws {
        try require(Self.validName(name), 400, "ValidationError", "a user name has 1–64 letters, digits or - _ . @ +")
        try write { db in
            try require(
                try Bool.fetchOne(db, sql: "SELECT 1 FROM users WHERE name = ?", arguments: [name]) == nil, 409,
                "EntityAlreadyExists", "user '\(name)' exists")
            try db.execute(
                sql: "INSERT INTO users (name, created_at) VALUES (?, ?)",
                arguments: [name, Int64(Date().timeIntervalSince1970)])
        }
    }

    public func disableUser(_ name: String) throws {
        try write { db in
            try db.execute(sql: "UPDATE users SET disabled = 1 WHERE name = ?", arguments: [name])
            try require(db.changesCount == 1, 404, "NoSuchEntity", "no user '\(name)'")
            try db.execute(sql: "DELETE FROM tokens WHERE user = ?", arguments: [name])
        }
    }

    /// A new API token for `user`, returned once: without expiry when an admin makes it, with one (and whether a
    /// TOTP code was given) from a sign-in.
    public func createToken(user: String, expiresAt: Int64? = nil, mfa: Bool = false) throws -> String {
        var generator = SystemRandomNumberGenerator()
        let token = "plb_" + Base64URL.encode((0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })
        try write { db in
            try require(
                try Bool.fetchOne(db, sql: "SELECT 1 FROM users WHERE name = ? AND disabled = 0", arguments: [user])
                    ?? false, 404, "NoSuchEntity", "no enabled user '\(user)'")
            try db.execute(
                sql: "INSERT INTO tokens (hash, user, created_at, expires_at, mfa) VALUES (?, ?, ?, ?, ?)",
                arguments: [Self.hash(token), user, Int64(Date().timeIntervalSince1970), expiresAt, mfa])
        }
        return token
    }

    public func createGroup(_ name: String) throws {
        try require(Self.validName(name), 400, "ValidationError", "a group name has 1–64 letters, digits or - _ . @ +")
        try write { db in
            try require(
                try Bool.fetchOne(db, sql: "SELECT 1 FROM groups WHERE name = ?", arguments: [name]) == nil, 409,
                "EntityAlreadyExists", "group '\(name)' exists")
            try db.execute(
                sql: "INSERT INTO groups (name, created_at) VALUES (?, ?)",
                arguments: [name, Int64(Date().timeIntervalSince1970)])
        }
    }

    public func addMember(group: String, user: String) throws {
        try write { db in
            try require(
                try Bool.fetchOne(db, sql: "SELECT 1 FROM groups WHERE name = ?", arguments: [group]) ?? false, 404,
                "NoSuchEntity", "no group '\(group)'")
            try require(
                try Bool.fetchOne(db, sql: "SELECT 1 FROM users WHERE name = ?", arguments: [user]) ?? false, 404,
                "NoSuchEntity", "no user '\(user)'")
            try db.execute(sql: "INSERT OR IGNORE INTO members (grp, user) VALUES (?, ?)", arguments: [group, user])
        }
    }

    public func putPolicy(_ name: String, document: [UInt8]) throws {
        try require(Self.validName(name), 400, "ValidationError", "a policy name has 1–64 letters, digits or - _ . @ +")
        do { _ = try Policy.parse(name: name, json: document) } catch let e as Policy.Invalid {
            throw PlumbError(status: 400, code: "MalformedPolicyDocument", e.message)
        }
        try write { db in
            try db.execute(
                sql:
                    "INSERT INTO policies (name, document, updated_at) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET document = excluded.document, updated_at = excluded.updated_at",
                arguments: [name, String(decoding: document, as: UTF8.self), Int64(Date().timeIntervalSince1970)])
        }
    }

    public func deletePolicy(_ name: String) throws {
        try write { db in
            try require(
                try Bool.fetchOne(db, sql: "SELECT 1 FROM attachments WHERE policy = ?", arguments: [name]) == nil, 409,
                "DeleteConflict", "policy '\(name)' is attached; detach it first")
            try db.execute(sql: "DELETE FROM policies WHERE name = ?", arguments: [name])
            try require(db.changesCount == 1, 404, "NoSuchEntity", "no policy '\(name)'")
        }
    }

    public func attach(policy: String, kind: String, principal: String) throws {
        try write { db in
            try require(
                try Bool.fetchOne(db, sql: "SELECT 1 FROM policies WHERE name = ?", arguments: [policy]) ?? false, 404,
                "NoSuchEntity", "no policy '\(policy)'")
            let table = kind == "user" ? "users" : "groups"
            try require(
                try Bool.fetchOne(db, sql: "SELECT 1 FROM \(table) WHERE name = ?", arguments: [principal]) ?? false,
                404, "NoSuchEntity", "no \(kind) '\(principal)'")
            try db.execute(
                sql: "INSERT OR IGNORE INTO attachments (kind, principal, policy) VALUES (?, ?, ?)",
                arguments: [kind, principal, policy])
        }
    }
}
