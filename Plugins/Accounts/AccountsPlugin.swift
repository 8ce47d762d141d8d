import Crypto
import Foundation
import GRDB
import Logging
import PlumbAuth
import PlumbKit
import Synchronization

/// End-user accounts: sign-up with a checked password and security questions (hashed with scrypt, stored apart
/// from the credentials), sign-in with ES256 access tokens and rotating refresh tokens, OIDC discovery and JWKS,
/// lockout with backoff and a per-source throttle.
public struct AccountsPlugin: Plugin {
    public static let name = "accounts"

    let database: DatabasePool
    let logger: Logger
    let ring: KeyRing
    let issuer: String
    let parameters: Scrypt.Parameters
    let accessLifetime: Int64
    let refreshLifetime: Int64
    let lockoutAfter: Int
    let questions: [String]
    let throttle: SourceThrottle
    /// Sign-ups per source address per hour (`signups_per_hour_per_source`): one address cannot mint accounts, or
    /// confirmation mails to strangers, in bulk.
    let signUpThrottle: SourceThrottle
    let host: any HostServices

    static let defaultQuestions = [
        "What was the name of your first school?", "In which city were your parents married?",
        "What was your first pet's name?",
        "What was the make of your first bicycle?", "What is the name of the street you grew up on?",
        "What was your childhood nickname?",
    ]

    public init(context: PluginContext) async throws {
        database = context.database
        logger = context.logger
        host = context.host
        issuer = Self.issuer(context)
        accessLifetime = Int64(try context.setting("access_token_seconds", default: 900, range: 60...86_400))
        refreshLifetime = Int64(try context.setting("refresh_token_days", default: 30, range: 1...3_650)) * 86_400
        lockoutAfter = try context.setting("lockout_after", default: 5, range: 1...1_000)
        parameters = Scrypt.Parameters(
            n: try context.setting("scrypt_n", default: Scrypt.Parameters.default.n, range: 1_024...16_777_216),
            r: try context.setting("scrypt_r", default: Scrypt.Parameters.default.r, range: 1...32), p: 1)
        guard parameters.valid else {
            throw FunctionError(
                status: 500, code: "ConfigurationError", message: "plugins.accounts.scrypt_n must be a power of two")
        }
        questions = Self.defaultQuestions
        ring = try Self.keyRing(context: context)
        let limit = try context.setting("signins_per_minute_per_source", default: 30, range: 1...1_000_000)
        throttle = Self.throttles.get(context.dataDirectory) { SourceThrottle(limit: limit) }
        let signUps = Int(context.settings["signups_per_hour_per_source"] ?? "") ?? 20
        guard signUps >= 0 else {
            throw FunctionError(
                status: 500, code: "ConfigurationError",
                message: "plugins.accounts.signups_per_hour_per_source must be 0 or more")
        }
        signUpThrottle = Self.signUpThrottles.get(context.dataDirectory) {
            SourceThrottle(limit: signUps, window: 3_600)
        }
        _ = PasswordRules.dictionary
    }

    /// Seals TOTP seeds left in clear by an older version (see `sealSeeds`).
    public static func prepare(context: PluginContext) async throws {
        let sealed = try await sealSeeds(context)
        if sealed > 0 { context.logger.info("sealed \(sealed) TOTP secrets that were stored in clear") }
    }

    static let rings = SharedInstances<KeyRing>()

    /// The OIDC issuer: `plugins.accounts.issuer`, else this plugin under the server's public URL. Links in mail and
    /// the discovery document are built from it, so they open where users reach the server.
    static func issuer(_ context: PluginContext) -> String {
        context.settings["issuer"] ?? context.publicURL + "/apps/" + name
    }

    /// The signing keys of this data directory: one ring shared by every instance (and the host's verifier).
    static func keyRing(context: PluginContext) throws -> KeyRing {
        let lifetime = Int64(try context.setting("access_token_seconds", default: 900, range: 60...86_400))
        let rotation = Int64(try context.setting("signing_key_days", default: 30, range: 1...3_650)) * 86_400
        return try rings.get(context.dataDirectory) {
            try KeyRing(
                path: context.dataDirectory + "/signing-keys.json", maxTokenLifetime: lifetime,
                now: Int64(Date().timeIntervalSince1970),
                rotateAfter: rotation)
        }
    }
    static let throttles = SharedInstances<SourceThrottle>()
    static let signUpThrottles = SharedInstances<SourceThrottle>()

    public static let migrations: [PluginMigration] = [
        PluginMigration("accounts-v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE accounts (id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE, password TEXT NOT NULL, created_at REAL NOT NULL,
                        confirmed INTEGER NOT NULL DEFAULT 0, failures INTEGER NOT NULL DEFAULT 0, locked_until REAL NOT NULL DEFAULT 0);
                    CREATE TABLE answers (account TEXT NOT NULL REFERENCES accounts(id), question TEXT NOT NULL, hash TEXT NOT NULL,
                        PRIMARY KEY (account, question));
                    CREATE TABLE refresh_tokens (hash TEXT PRIMARY KEY, account TEXT NOT NULL REFERENCES accounts(id), family TEXT NOT NULL,
                        issued_at REAL NOT NULL, expires_at REAL NOT NULL, used INTEGER NOT NULL DEFAULT 0, revoked INTEGER NOT NULL DEFAULT 0);
                    CREATE INDEX refresh_family ON refresh_tokens(family);
                    """)
        },
        // TOTP MFA: the secret (pending until a first code confirms it), the last step used (replays are refused), and
        // one-time recovery codes (hashed).
        PluginMigration("accounts-v2-mfa") { db in
            try db.execute(
                sql: """
                    ALTER TABLE accounts ADD COLUMN mfa_secret TEXT;
                    ALTER TABLE accounts ADD COLUMN mfa_pending TEXT;
                    ALTER TABLE accounts ADD COLUMN mfa_last_step INTEGER NOT NULL DEFAULT 0;
                    CREATE TABLE recovery_codes (account TEXT NOT NULL REFERENCES accounts(id), hash TEXT NOT NULL, used INTEGER NOT NULL DEFAULT 0,
                        PRIMARY KEY (account, hash));
                    """)
        },
        // Password resets: a token sent by email (hashed here), 30 minutes, three tries at the answers.
        PluginMigration("accounts-v3-reset") { db in
            try db.execute(
                sql: """
                    CREATE TABLE resets (hash TEXT PRIMARY KEY, account TEXT NOT NULL REFERENCES accounts(id), expires_at REAL NOT NULL,
                        tries INTEGER NOT NULL DEFAULT 0, used INTEGER NOT NULL DEFAULT 0);
                    """)
        },
        // Failed sign-ins, known account or not: both write the same row in one transaction, so a failure costs the
        // same I/O whether or not the account exists (and the rate of failures can be watched).
        PluginMigration("accounts-v4-failures") { db in
            try db.execute(
                sql: """
                    CREATE TABLE failed_signins (at REAL NOT NULL, email_hash TEXT NOT NULL, source TEXT NOT NULL);
                    CREATE INDEX failed_signins_at ON failed_signins(at);
                    """)
        },
        // A row no one can sign in as (its address fails validation), whose failure count an unknown email's
        // failed sign-in updates instead: both paths then change the same number of pages.
        PluginMigration("accounts-v5-decoy") { db in
            try db.execute(
                sql:
                    "INSERT INTO accounts (id, email, password, created_at) VALUES ('~decoy', '~decoy@invalid', 'none', 0)"
            )
        },
    ]

    public static let functions: [Function<AccountsPlugin>] = [
        .http(.get, "/confirm", name: "confirm-email") { s, r, _ in try await s.confirmEmail(r) },
        .http(.post, "/reset/start", name: "reset-start") { s, r, _ in try await s.startReset(r) },
        .http(.post, "/reset/finish", name: "reset-finish") { s, r, _ in try await s.finishReset(r) },
        .http(.post, "/mfa/enrol", name: "mfa-enrol", access: .user) { s, r, _ in try await s.enrol(r) },
        .http(.post, "/mfa/confirm", name: "mfa-confirm", access: .user) { s, r, _ in try await s.confirm(r) },
        .http(.get, "/questions", name: "questions") { s, _, _ in Self.json(["questions": s.questions]) },
        .http(.post, "/signup", name: "signup") { s, r, _ in try await s.signUp(r) },
        .http(.post, "/security-questions", name: "security-questions") { s, r, _ in try await s.setQuestions(r) },
        .http(.post, "/signin", name: "signin") { s, r, _ in try await s.signIn(r) },
        .http(.post, "/refresh", name: "refresh") { s, r, _ in try await s.refresh(r) },
        .http(.post, "/signout", name: "signout") { s, r, _ in try await s.signOut(r) },
        .http(.get, "/userinfo", name: "userinfo", access: .user) { s, r, _ in try await s.userInfo(r) },
        .http(.get, "/.well-known/openid-configuration", name: "openid-configuration") { s, _, _ in s.discovery() },
        .http(.get, "/.well-known/jwks.json", name: "jwks") { s, _, _ in
            Self.json(try s.ring.jwks(now: Int64(Date().timeIntervalSince1970)))
        },
        // A new signing key now (a suspected leak), besides the scheduled rotation; the old key stays in the JWKS
        // until its tokens have expired.
        .http(.post, "/keys/rotate", name: "rotate-keys", access: .admin) { s, _, _ in
            let now = Int64(Date().timeIntervalSince1970)
            let kid = try s.ring.rotate(now: now)
            await s.audit("keys-rotated", ["kid": kid])
            return Self.json(["kid": kid, "keys": ((try s.ring.jwks(now: now))["keys"] as? [Any])?.count ?? 0])
        },
    ]

    static func json(_ object: Any, status: Int = 200, headers: [String: String] = [:]) -> FunctionResponse {
        var h = headers
        h["content-type"] = "application/json"
        h["cache-control"] = "no-store"
        return FunctionResponse(
            status: status, headers: h,
            body: Array(
                (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
                    ?? Data()))
    }

    static func body(_ r: FunctionRequest) throws -> [String: Any] {
        guard r.body.count <= 16_384 else {
            throw FunctionError(status: 413, code: "RequestEntityTooLarge", message: "the body is larger than 16 KiB")
        }
        guard let object = (try? JSONSerialization.jsonObject(with: Data(r.body))) as? [String: Any] else {
            throw FunctionError.badRequest("the body must be a JSON object")
        }
        return object
    }

    /// One audit event (never a password, answer or token): to the platform's audit trail (`/plumb/audit`, action
    /// `accounts:<event>`) and the plugin's log group with `audit=true`.
    func audit(_ event: String, _ fields: [String: String]) async {
        var metadata: Logger.Metadata = ["audit": "true", "event": .string(event)]
        for (k, v) in fields { metadata[k] = .string(v) }
        logger.info("\(event)", metadata: metadata)
        let result =
            event.hasSuffix("failed") || event.hasSuffix("denied") || event.hasSuffix("throttled")
                || event.hasSuffix("locked") || event.hasSuffix("revoked") ? "denied" : "success"
        let account = fields["account"] ?? "unknown"
        await host.audit(
            action: "accounts:" + event, actor: account == "unknown" ? "anonymous" : "account:" + account,
            resource: fields["family"].map { "session/" + $0 } ?? "account/" + account,
            source: fields["source"] ?? "unknown", result: result)
    }
}
