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
    let host: any HostServices

    static let defaultQuestions = [
        "What was the name of your first school?", "In which city were your parents married?", "What was your first pet's name?",
        "What was the make of your first bicycle?", "What is the name of the street you grew up on?", "What was your childhood nickname?",
    ]

    public init(context: PluginContext) async throws {
        database = context.database
        logger = context.logger
        host = context.host
        issuer = context.settings["issuer"] ?? "http://127.0.0.1:9400/apps/accounts"
        accessLifetime = Int64(context.settings["access_token_seconds"] ?? "") ?? 900
        refreshLifetime = Int64(context.settings["refresh_token_days"] ?? "").map { $0 * 86_400 } ?? 30 * 86_400
        lockoutAfter = Int(context.settings["lockout_after"] ?? "") ?? 5
        parameters = Scrypt.Parameters(
            n: Int(context.settings["scrypt_n"] ?? "") ?? Scrypt.Parameters.default.n,
            r: Int(context.settings["scrypt_r"] ?? "") ?? Scrypt.Parameters.default.r, p: 1)
        guard parameters.valid else { throw FunctionError(status: 500, code: "ConfigurationError", message: "plugins.accounts.scrypt_n must be a power of two") }
        questions = Self.defaultQuestions
        let lifetime = accessLifetime
        let rotation = (Int64(context.settings["signing_key_days"] ?? "") ?? 30) * 86_400
        ring = try Self.rings.get(context.dataDirectory) {
            try KeyRing(
                path: context.dataDirectory + "/signing-keys.json", maxTokenLifetime: lifetime, now: Int64(Date().timeIntervalSince1970),
                rotateAfter: rotation)
        }
        let limit = Int(context.settings["signins_per_minute_per_source"] ?? "") ?? 30
        throttle = Self.throttles.get(context.dataDirectory) { SourceThrottle(limit: limit) }
        _ = PasswordRules.dictionary
    }

    static let rings = SharedInstances<KeyRing>()
    static let throttles = SharedInstances<SourceThrottle>()

    public static let migrations: [PluginMigration] = [
        PluginMigration("accounts-v1") { db in
            try db.execute(sql: """
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
            try db.execute(sql: """
                ALTER TABLE accounts ADD COLUMN mfa_secret TEXT;
                ALTER TABLE accounts ADD COLUMN mfa_pending TEXT;
                ALTER TABLE accounts ADD COLUMN mfa_last_step INTEGER NOT NULL DEFAULT 0;
                CREATE TABLE recovery_codes (account TEXT NOT NULL REFERENCES accounts(id), hash TEXT NOT NULL, used INTEGER NOT NULL DEFAULT 0,
                    PRIMARY KEY (account, hash));
                """)
        },
        // Password resets: a token sent by email (hashed here), 30 minutes, three tries at the answers.
        PluginMigration("accounts-v3-reset") { db in
            try db.execute(sql: """
                CREATE TABLE resets (hash TEXT PRIMARY KEY, account TEXT NOT NULL REFERENCES accounts(id), expires_at REAL NOT NULL,
                    tries INTEGER NOT NULL DEFAULT 0, used INTEGER NOT NULL DEFAULT 0);
                """)
        },
        // Failed sign-ins, known account or not: both write the same row in one transaction, so a failure costs the
        // same I/O whether or not the account exists (and the rate of failures can be watched).
        PluginMigration("accounts-v4-failures") { db in
            try db.execute(sql: """
                CREATE TABLE failed_signins (at REAL NOT NULL, email_hash TEXT NOT NULL, source TEXT NOT NULL);
                CREATE INDEX failed_signins_at ON failed_signins(at);
                """)
        },
        // A row no one can sign in as (its address fails validation), whose failure count an unknown email's
        // failed sign-in updates instead: both paths then change the same number of pages.
        PluginMigration("accounts-v5-decoy") { db in
            try db.execute(
                sql: "INSERT INTO accounts (id, email, password, created_at) VALUES ('~decoy', '~decoy@invalid', 'none', 0)")
        },
    ]

    public static let functions: [Function<AccountsPlugin>] = [
        .http(.get, "/confirm", name: "confirm-email") { s, r, _ in try await s.confirmEmail(r) },
        .http(.post, "/reset/start", name: "reset-start") { s, r, _ in try await s.startReset(r) },
        .http(.post, "/reset/finish", name: "reset-finish") { s, r, _ in try await s.finishReset(r) },
        .http(.post, "/mfa/enrol", name: "mfa-enrol") { s, r, _ in try await s.enrol(r) },
        .http(.post, "/mfa/confirm", name: "mfa-confirm") { s, r, _ in try await s.confirm(r) },
        .http(.get, "/questions", name: "questions") { s, _, _ in Self.json(["questions": s.questions]) },
        .http(.post, "/signup", name: "signup") { s, r, _ in try await s.signUp(r) },
        .http(.post, "/security-questions", name: "security-questions") { s, r, _ in try await s.setQuestions(r) },
        .http(.post, "/signin", name: "signin") { s, r, _ in try await s.signIn(r) },
        .http(.post, "/refresh", name: "refresh") { s, r, _ in try await s.refresh(r) },
        .http(.post, "/signout", name: "signout") { s, r, _ in try await s.signOut(r) },
        .http(.get, "/userinfo", name: "userinfo") { s, r, _ in try await s.userInfo(r) },
        .http(.get, "/.well-known/openid-configuration", name: "openid-configuration") { s, _, _ in s.discovery() },
        .http(.get, "/.well-known/jwks.json", name: "jwks") { s, _, _ in Self.json(try s.ring.jwks(now: Int64(Date().timeIntervalSince1970))) },
    ]

    static func json(_ object: Any, status: Int = 200, headers: [String: String] = [:]) -> FunctionResponse {
        var h = headers
        h["content-type"] = "application/json"
        h["cache-control"] = "no-store"
        return FunctionResponse(status: status, headers: h, body: Array((try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()))
    }

    static func body(_ r: FunctionRequest) throws -> [String: Any] {
        guard r.body.count <= 16_384, let object = (try? JSONSerialization.jsonObject(with: Data(r.body))) as? [String: Any] else {
            throw FunctionError.badRequest("the body must be a JSON object (at most 16 KiB)")
        }
        return object
    }

    /// One audit event (never a password, answer or token): to the platform's audit trail (`/plumb/audit`, action
    /// `accounts:<event>`) and the plugin's log group with `audit=true`.
    func audit(_ event: String, _ fields: [String: String]) {
        var metadata: Logger.Metadata = ["audit": "true", "event": .string(event)]
        for (k, v) in fields { metadata[k] = .string(v) }
        logger.info("\(event)", metadata: metadata)
        let result = event.hasSuffix("failed") || event.hasSuffix("throttled") || event.hasSuffix("locked") || event.hasSuffix("revoked") ? "denied" : "success"
        let account = fields["account"] ?? "unknown"
        host.audit(
            action: "accounts:" + event, actor: account == "unknown" ? "anonymous" : "account:" + account,
            resource: fields["family"].map { "session/" + $0 } ?? "account/" + account, source: fields["source"] ?? "unknown", result: result)
    }

    // MARK: passwords

    /// `scrypt$N$r$p$salt$hash` (base64url), so parameters can be raised later and old hashes still verify.
    func hash(_ secret: String) throws -> String {
        var g = SystemRandomNumberGenerator()
        let salt = (0..<16).map { _ in UInt8.random(in: 0...255, using: &g) }
        let derived = try Scrypt.derive(password: Array(secret.utf8), salt: salt, parameters: parameters)
        return "scrypt$\(parameters.n)$\(parameters.r)$\(parameters.p)$\(Base64URL.encode(salt))$\(Base64URL.encode(derived))"
    }

    static func check(_ secret: String, against stored: String) -> Bool {
        let parts = stored.split(separator: "$").map(String.init)
        guard parts.count == 6, parts[0] == "scrypt", let n = Int(parts[1]), let r = Int(parts[2]), let p = Int(parts[3]),
            let salt = Base64URL.decode(parts[4]), let expected = Base64URL.decode(parts[5]),
            let derived = try? Scrypt.derive(password: Array(secret.utf8), salt: salt, parameters: .init(n: n, r: r, p: p), length: expected.count)
        else { return false }
        return ConstantTime.equal(derived, expected)
    }

    /// What an unknown account is checked against, so that the answer takes as long as for a real one.
    var decoy: String { Self.decoys.withLock { d in
        if let h = d[parameters.n] { return h }
        let h = (try? hash("decoy-\(UUID().uuidString)")) ?? ""
        d[parameters.n] = h
        return h
    } }
    static let decoys = Mutex<[Int: String]>([:])

    static func normalisedEmail(_ text: String) -> String? {
        let email = text.trimmingCharacters(in: .whitespaces).lowercased()
        let parts = email.split(separator: "@")
        guard email.count <= 254, parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), !email.contains(" ") else { return nil }
        return email
    }

    static func normalisedAnswer(_ text: String) -> String {
        text.lowercased().split(whereSeparator: { $0.isWhitespace || $0.isPunctuation }).joined(separator: " ")
    }

    // MARK: sign-up

    func signUp(_ r: FunctionRequest) async throws -> FunctionResponse {
        let body = try Self.body(r)
        guard let email = (body["email"] as? String).flatMap(Self.normalisedEmail) else { throw FunctionError.badRequest("'email' must be an email address") }
        let password = body["password"] as? String ?? ""
        if let problem = PasswordRules.problem(password, email: email) { throw FunctionError(status: 400, code: "WeakPassword", message: problem) }
        let hashed = try hash(password)
        let id = UUID().uuidString.lowercased()
        let created = try await database.write { db -> Bool in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM accounts WHERE email = ?", arguments: [email]) == nil else { return false }
            try db.execute(sql: "INSERT INTO accounts (id, email, password, created_at) VALUES (?, ?, ?, ?)", arguments: [id, email, hashed, Date().timeIntervalSince1970])
            return true
        }
        guard created else { throw FunctionError(status: 409, code: "AccountExists", message: "an account with this email exists; sign in or reset the password") }
        audit("signup", ["account": id])
        let confirmation = await sendConfirmation(account: id, email: email)
        return Self.json(["account": id, "next": "security-questions", "questions": questions, "confirmation": confirmation], status: 201)
    }

    /// The second phase: at least two answers to the configured questions, checked against the password.
    func setQuestions(_ r: FunctionRequest) async throws -> FunctionResponse {
        let body = try Self.body(r)
        let account = try await authenticate(body, source: r.headers["x-plumb-source"] ?? "unknown")
        guard let given = body["answers"] as? [[String: Any]], given.count >= 2 else {
            throw FunctionError.badRequest("'answers' must hold at least two {question, answer}")
        }
        var rows: [(String, String)] = []
        for (i, a) in given.enumerated() {
            guard let q = a["question"] as? String, questions.contains(q) else { throw FunctionError.badRequest("answers[\(i)].question is not one of GET /apps/accounts/questions") }
            let answer = Self.normalisedAnswer(a["answer"] as? String ?? "")
            guard answer.count >= 2 else { throw FunctionError.badRequest("answers[\(i)].answer is too short") }
            rows.append((q, try hash(answer)))
        }
        guard Set(rows.map(\.0)).count == rows.count else { throw FunctionError.badRequest("each question may be answered once") }
        let stored = rows
        try await database.write { db in
            try db.execute(sql: "DELETE FROM answers WHERE account = ?", arguments: [account])
            for (q, h) in stored { try db.execute(sql: "INSERT INTO answers (account, question, hash) VALUES (?, ?, ?)", arguments: [account, q, h]) }
        }
        audit("security-questions-set", ["account": account, "count": String(rows.count)])
        return Self.json(["account": account, "questions": rows.count])
    }

    // MARK: sign-in

    /// The account of a correct email and password; a lockout, a throttle or a wrong pair throw. An unknown email
    /// costs the same scrypt as a known one, and gets the same answer.
    func authenticate(_ body: [String: Any], source: String) async throws -> String {
        guard throttle.allow(source) else {
            audit("signin-throttled", ["source": source])
            throw FunctionError(status: 429, code: "TooManyRequests", message: "too many sign-in attempts from this address; wait a minute", retryAfter: 60)
        }
        let email = (body["email"] as? String).flatMap(Self.normalisedEmail) ?? ""
        let password = body["password"] as? String ?? ""
        let row = try await database.read { db in
            try Row.fetchOne(db, sql: "SELECT id, password, failures, locked_until FROM accounts WHERE email = ?", arguments: [email])
        }
        let now = Date().timeIntervalSince1970
        if let row, (row["locked_until"] as Double) > now {
            let wait = Int((row["locked_until"] as Double) - now) + 1
            audit("signin-locked", ["account": row["id"] as String, "source": source])
            throw FunctionError(status: 429, code: "AccountLocked", message: "too many failed sign-ins; try again in \(wait) s", retryAfter: wait)
        }
        let ok = Self.check(password, against: row?["password"] ?? decoy) && row != nil
        guard let row, ok else {
            let failures = (row?["failures"] as Int? ?? 0) + 1
            let lock = failures >= lockoutAfter ? now + min(3_600, 30 * pow(2, Double(failures - lockoutAfter))) : 0
            let id: String? = row?["id"]
            // The same transaction for a known and an unknown email: one insert, one updated row (the decoy's for
            // an unknown email).
            try await database.write { db in
                try db.execute(sql: "INSERT INTO failed_signins (at, email_hash, source) VALUES (?, ?, ?)", arguments: [now, Self.digest(email), source])
                try db.execute(sql: "DELETE FROM failed_signins WHERE at < ?", arguments: [now - 86_400])
                try db.execute(sql: "UPDATE accounts SET failures = ?, locked_until = ? WHERE id = ?", arguments: [failures, lock, id ?? "~decoy"])
            }
            if let id {
                audit("signin-failed", ["account": id, "source": source, "failures": String(failures)])
            } else {
                audit("signin-failed", ["source": source, "account": "unknown"])
            }
            throw FunctionError(status: 401, code: "InvalidCredentials", message: "wrong email or password")
        }
        let id: String = row["id"]
        if (row["failures"] as Int) > 0 {
            try await database.write { db in try db.execute(sql: "UPDATE accounts SET failures = 0, locked_until = 0 WHERE id = ?", arguments: [id]) }
        }
        return id
    }

    func signIn(_ r: FunctionRequest) async throws -> FunctionResponse {
        let body = try Self.body(r)
        let source = r.headers["x-plumb-source"] ?? "unknown"
        let account = try await authenticate(body, source: source)
        try await secondFactor(account: account, body: body, source: source)
        audit("signin", ["account": account, "source": source])
        return try await issue(account: account, family: UUID().uuidString.lowercased())
    }

    static func digest(_ token: String) -> String { SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined() }

    /// An access token and a new refresh token of `family`.
    func issue(account: String, family: String) async throws -> FunctionResponse {
        let now = Int64(Date().timeIntervalSince1970)
        let email = try await database.read { db in try String.fetchOne(db, sql: "SELECT email FROM accounts WHERE id = ?", arguments: [account]) } ?? ""
        let access = try ring.sign([
            "iss": issuer, "sub": account, "aud": "plumb", "iat": now, "exp": now + accessLifetime, "email": email, "scope": "openid email",
            "jti": UUID().uuidString.lowercased(),
        ])
        var g = SystemRandomNumberGenerator()
        let refresh = "rt_" + Base64URL.encode((0..<32).map { _ in UInt8.random(in: 0...255, using: &g) })
        try await database.write { db in
            try db.execute(
                sql: "INSERT INTO refresh_tokens (hash, account, family, issued_at, expires_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [Self.digest(refresh), account, family, Double(now), Double(now + refreshLifetime)])
        }
        audit("token-issued", ["account": account, "family": family])
        return Self.json(["access_token": access, "refresh_token": refresh, "token_type": "Bearer", "expires_in": accessLifetime])
    }

    /// Rotation: a refresh token works once. Presenting a used one again revokes its whole family (the session),
    /// as a stolen token would be.
    func refresh(_ r: FunctionRequest) async throws -> FunctionResponse {
        let token = try Self.body(r)["refresh_token"] as? String ?? ""
        let now = Date().timeIntervalSince1970
        enum Outcome { case rotate(String, String), reused(String, String), invalid }
        let outcome = try await database.write { db -> Outcome in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM refresh_tokens WHERE hash = ?", arguments: [Self.digest(token)]),
                (row["revoked"] as Int) == 0, (row["expires_at"] as Double) > now
            else { return .invalid }
            let (account, family): (String, String) = (row["account"], row["family"])
            if (row["used"] as Int) != 0 {
                try db.execute(sql: "UPDATE refresh_tokens SET revoked = 1 WHERE family = ?", arguments: [family])
                return .reused(account, family)
            }
            try db.execute(sql: "UPDATE refresh_tokens SET used = 1 WHERE hash = ?", arguments: [Self.digest(token)])
            return .rotate(account, family)
        }
        switch outcome {
        case .invalid: throw FunctionError(status: 401, code: "InvalidToken", message: "the refresh token is unknown, expired or revoked")
        case .reused(let account, let family):
            audit("refresh-reuse-revoked", ["account": account, "family": family])
            throw FunctionError(status: 401, code: "TokenReused", message: "this refresh token was already used; the session is revoked, sign in again")
        case .rotate(let account, let family): return try await issue(account: account, family: family)
        }
    }

    func signOut(_ r: FunctionRequest) async throws -> FunctionResponse {
        let token = try Self.body(r)["refresh_token"] as? String ?? ""
        let family = try await database.write { db -> String? in
            guard let family = try String.fetchOne(db, sql: "SELECT family FROM refresh_tokens WHERE hash = ?", arguments: [Self.digest(token)]) else { return nil }
            try db.execute(sql: "UPDATE refresh_tokens SET revoked = 1 WHERE family = ?", arguments: [family])
            return family
        }
        if let family { audit("signout", ["family": family]) }
        return FunctionResponse(status: 204)
    }

    /// The claims of the request's access token.
    func bearer(_ r: FunctionRequest) throws -> [String: Any] {
        guard let header = r.headers["authorization"], header.hasPrefix("Bearer ") else {
            throw FunctionError(status: 401, code: "Unauthorized", message: "missing 'Authorization: Bearer <access token>'")
        }
        do { return try ring.verify(String(header.dropFirst(7)), now: Int64(Date().timeIntervalSince1970), issuer: issuer, audience: "plumb") } catch let e as TokenError {
            throw FunctionError(status: 401, code: "InvalidToken", message: e.reason)
        }
    }

    func userInfo(_ r: FunctionRequest) async throws -> FunctionResponse {
        let claims = try bearer(r)
        return Self.json(["sub": claims["sub"] ?? "", "email": claims["email"] ?? ""])
    }

    // MARK: email confirmation and password reset

    /// A signed link (a day) proving the address: `GET /apps/accounts/confirm?account=&expires=&signature=`.
    func sendConfirmation(account: String, email: String) async -> String {
        let expires = Int64(Date().timeIntervalSince1970) + 86_400
        let signature = host.sign("confirm|\(account)|\(expires)")
        let link = "\(issuer)/confirm?account=\(account)&expires=\(expires)&signature=\(signature)"
        do {
            try await host.sendEmail(to: email, subject: "Confirm your email address", text: """
                Someone (we hope you) created an account with this address.

                Confirm it within 24 hours: \(link)

                If it was not you, ignore this message.
                """)
            return "sent"
        } catch {
            logger.warning("confirmation email for account \(account) not sent: \(error)")
            return "not sent: \(error)"
        }
    }

    func confirmEmail(_ r: FunctionRequest) async throws -> FunctionResponse {
        let account = r.query["account"] ?? "", signature = r.query["signature"] ?? ""
        guard let expires = Int64(r.query["expires"] ?? ""), expires > Int64(Date().timeIntervalSince1970),
            host.verify("confirm|\(account)|\(expires)", signature: signature)
        else { throw FunctionError(status: 403, code: "InvalidLink", message: "the link is wrong or expired; sign in to get a new one") }
        try await database.write { db in try db.execute(sql: "UPDATE accounts SET confirmed = 1 WHERE id = ?", arguments: [account]) }
        audit("email-confirmed", ["account": account])
        return FunctionResponse(status: 200, headers: ["content-type": "text/plain; charset=utf-8"], body: Array("Your email address is confirmed.\n".utf8))
    }

    /// Sends a reset link to a confirmed account's address. The answer is the same (and as fast) whether or not the
    /// account exists: the work happens after it.
    func startReset(_ r: FunctionRequest) async throws -> FunctionResponse {
        let source = r.headers["x-plumb-source"] ?? "unknown"
        guard throttle.allow("reset|" + source) else {
            throw FunctionError(status: 429, code: "TooManyRequests", message: "too many attempts from this address; wait a minute", retryAfter: 60)
        }
        let email = (try Self.body(r)["email"] as? String).flatMap(Self.normalisedEmail) ?? ""
        let plugin = self
        Task {
            guard let account = try? await plugin.database.read({ db in
                try String.fetchOne(db, sql: "SELECT id FROM accounts WHERE email = ? AND confirmed = 1", arguments: [email])
            }) else { return }
            // At most three live resets per account.
            let live = (try? await plugin.database.read { db in
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM resets WHERE account = ? AND used = 0 AND expires_at > ?", arguments: [account, Date().timeIntervalSince1970])
            }) ?? 0
            guard live < 3 else { return plugin.audit("reset-throttled", ["account": account, "source": source]) }
            var g = SystemRandomNumberGenerator()
            let token = "rs_" + Base64URL.encode((0..<32).map { _ in UInt8.random(in: 0...255, using: &g) })
            _ = try? await plugin.database.write { db in
                try db.execute(sql: "INSERT INTO resets (hash, account, expires_at) VALUES (?, ?, ?)", arguments: [Self.digest(token), account, Date().timeIntervalSince1970 + 1_800])
            }
            plugin.audit("reset-started", ["account": account, "source": source])
            do {
                try await plugin.host.sendEmail(to: email, subject: "Reset your password", text: """
                    To choose a new password, send this code with the answers to your security questions to \(plugin.issuer)/reset/finish within 30 minutes:

                    \(token)

                    If you did not ask for this, ignore this message; your password is unchanged.
                    """)
            } catch {
                plugin.logger.warning("reset email for account \(account) not sent: \(error)")
            }
        }
        return Self.json(["status": "if a confirmed account has this address, an email with a reset code is on its way"], status: 202)
    }

    /// The code from the email, the answers to at least two security questions (all must match), a new password:
    /// the password changes and every session is signed out.
    func finishReset(_ r: FunctionRequest) async throws -> FunctionResponse {
        let body = try Self.body(r)
        let token = body["token"] as? String ?? ""
        let now = Date().timeIntervalSince1970
        guard let row = try await database.read({ db in
            try Row.fetchOne(db, sql: "SELECT r.account, r.tries, a.email FROM resets r JOIN accounts a ON a.id = r.account WHERE r.hash = ? AND r.used = 0 AND r.expires_at > ?",
                             arguments: [Self.digest(token), now])
        }), (row["tries"] as Int) < 3 else {
            throw FunctionError(status: 403, code: "InvalidResetCode", message: "the reset code is wrong, used or expired; start again")
        }
        let account: String = row["account"], email: String = row["email"]
        let given = body["answers"] as? [[String: Any]] ?? []
        let stored = try await database.read { db in
            Dictionary(try Row.fetchAll(db, sql: "SELECT question, hash FROM answers WHERE account = ?", arguments: [account]).map { ($0["question"] as String, $0["hash"] as String) }, uniquingKeysWith: { a, _ in a })
        }
        var correct = given.count >= 2
        for a in given {
            // Every answer is checked (the same work whichever is wrong).
            let ok = stored[a["question"] as? String ?? ""].map { Self.check(Self.normalisedAnswer(a["answer"] as? String ?? ""), against: $0) } ?? false
            correct = correct && ok
        }
        guard correct else {
            try await database.write { db in try db.execute(sql: "UPDATE resets SET tries = tries + 1 WHERE hash = ?", arguments: [Self.digest(token)]) }
            audit("reset-failed", ["account": account])
            throw FunctionError(status: 403, code: "WrongAnswers", message: "the answers do not match")
        }
        let password = body["password"] as? String ?? ""
        if let problem = PasswordRules.problem(password, email: email) { throw FunctionError(status: 400, code: "WeakPassword", message: problem) }
        let hashed = try hash(password)
        try await database.write { db in
            try db.execute(sql: "UPDATE accounts SET password = ?, failures = 0, locked_until = 0 WHERE id = ?", arguments: [hashed, account])
            try db.execute(sql: "UPDATE resets SET used = 1 WHERE account = ?", arguments: [account])
            try db.execute(sql: "UPDATE refresh_tokens SET revoked = 1 WHERE account = ?", arguments: [account])
        }
        audit("password-reset", ["account": account])
        return Self.json(["reset": true, "sessions": "signed out"])
    }

    // MARK: MFA

    /// A new TOTP secret, pending until `/mfa/confirm` gets a first code from it: the `otpauth://` URI to scan.
    func enrol(_ r: FunctionRequest) async throws -> FunctionResponse {
        let account = try bearer(r)["sub"] as? String ?? ""
        let totp = TOTP.generate()
        let email = try await database.write { db -> String? in
            try db.execute(sql: "UPDATE accounts SET mfa_pending = ? WHERE id = ?", arguments: [Base32.encode(totp.secret), account])
            return try String.fetchOne(db, sql: "SELECT email FROM accounts WHERE id = ?", arguments: [account])
        }
        guard let email else { throw FunctionError(status: 404, code: "NotFound", message: "no such account") }
        audit("mfa-enrol", ["account": account])
        return Self.json(["otpauth_uri": totp.uri(issuer: "Plumb", account: email), "secret": Base32.encode(totp.secret)])
    }

    /// Turns the pending secret on with a first valid code, and returns ten one-time recovery codes (shown once).
    func confirm(_ r: FunctionRequest) async throws -> FunctionResponse {
        let account = try bearer(r)["sub"] as? String ?? ""
        let code = try Self.body(r)["code"] as? String ?? ""
        guard let pending = try await database.read({ db in try String.fetchOne(db, sql: "SELECT mfa_pending FROM accounts WHERE id = ?", arguments: [account]) }),
            let secret = Base32.decode(pending)
        else { throw FunctionError(status: 409, code: "NotEnrolling", message: "start with POST /apps/accounts/mfa/enrol") }
        guard let step = TOTP(secret: secret).verify(code, at: Int64(Date().timeIntervalSince1970)) else {
            audit("mfa-confirm-failed", ["account": account])
            throw FunctionError(status: 400, code: "InvalidCode", message: "the code does not match; check the device's clock")
        }
        var g = SystemRandomNumberGenerator()
        let alphabet = Array("abcdefghjkmnpqrstuvwxyz23456789")
        let codes = (0..<10).map { _ in String((0..<10).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &g)] }) }
        try await database.write { db in
            try db.execute(sql: "UPDATE accounts SET mfa_secret = mfa_pending, mfa_pending = NULL, mfa_last_step = ? WHERE id = ?", arguments: [step, account])
            try db.execute(sql: "DELETE FROM recovery_codes WHERE account = ?", arguments: [account])
            for c in codes { try db.execute(sql: "INSERT INTO recovery_codes (account, hash) VALUES (?, ?)", arguments: [account, Self.digest(c)]) }
        }
        audit("mfa-enabled", ["account": account])
        return Self.json(["enabled": true, "recovery_codes": codes])
    }

    /// With MFA on, sign-in needs `code` (a TOTP code newer than the last one used) or `recovery_code` (once).
    func secondFactor(account: String, body: [String: Any], source: String) async throws {
        guard let row = try await database.read({ db in
            try Row.fetchOne(db, sql: "SELECT mfa_secret, mfa_last_step FROM accounts WHERE id = ?", arguments: [account])
        }), let stored = row["mfa_secret"] as String?, let secret = Base32.decode(stored) else { return }
        if let recovery = body["recovery_code"] as? String {
            let used = try await database.write { db -> Bool in
                try db.execute(sql: "UPDATE recovery_codes SET used = 1 WHERE account = ? AND hash = ? AND used = 0", arguments: [account, Self.digest(recovery)])
                return db.changesCount == 1
            }
            guard used else {
                audit("mfa-failed", ["account": account, "source": source])
                throw FunctionError(status: 401, code: "InvalidCredentials", message: "wrong or used recovery code")
            }
            audit("mfa-recovery-code-used", ["account": account, "source": source])
            return
        }
        guard let code = body["code"] as? String else {
            throw FunctionError(status: 401, code: "MFARequired", message: "this account needs a one-time code: send \"code\" (or \"recovery_code\")")
        }
        let last: Int64 = row["mfa_last_step"]
        guard let step = TOTP(secret: secret).verify(code, at: Int64(Date().timeIntervalSince1970), lastUsed: last) else {
            audit("mfa-failed", ["account": account, "source": source])
            throw FunctionError(status: 401, code: "InvalidCredentials", message: "wrong or already used one-time code")
        }
        // The step is recorded only if no other sign-in used it meanwhile.
        let fresh = try await database.write { db -> Bool in
            try db.execute(sql: "UPDATE accounts SET mfa_last_step = ? WHERE id = ? AND mfa_last_step < ?", arguments: [step, account, step])
            return db.changesCount == 1
        }
        guard fresh else { throw FunctionError(status: 401, code: "InvalidCredentials", message: "wrong or already used one-time code") }
    }

    func discovery() -> FunctionResponse {
        Self.json([
            "issuer": issuer, "jwks_uri": issuer + "/.well-known/jwks.json", "token_endpoint": issuer + "/signin",
            "userinfo_endpoint": issuer + "/userinfo", "response_types_supported": ["token"], "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["ES256"], "grant_types_supported": ["password", "refresh_token"],
            "scopes_supported": ["openid", "email"], "claims_supported": ["sub", "email", "iss", "aud", "exp", "iat"],
        ])
    }
}

/// Sign-in attempts per source address per minute (a sliding count of the last 60 s).
final class SourceThrottle: Sendable {
    let limit: Int
    private let attempts = Mutex<[String: [Double]]>([:])

    init(limit: Int) { self.limit = limit }

    func allow(_ source: String, now: Double = Date().timeIntervalSince1970) -> Bool {
        attempts.withLock { a in
            var times = (a[source] ?? []).filter { $0 > now - 60 }
            guard times.count < limit else {
                a[source] = times
                return false
            }
            times.append(now)
            a[source] = times
            if a.count > 100_000 { a = a.filter { !$0.value.isEmpty && $0.value.last! > now - 60 } }
            return true
        }
    }
}

/// Password rules: at least 12 characters, not the email, and not a dictionary word or a common password (also
/// with digits or symbols around it).
enum PasswordRules {
    static let common: Set<String> = [
        "password", "passw0rd", "qwerty", "letmein", "welcome", "admin", "iloveyou", "monkey", "dragon", "football", "baseball",
        "sunshine", "princess", "trustno1", "superman", "starwars", "whatever", "shadow", "master", "michael", "abc123", "123456",
        "1234567890", "qwertyuiop", "correcthorsebatterystaple",
    ]

    /// The words of the system dictionary (`/usr/share/dict/words`, Debian's wamerican), lowercased.
    static let dictionary: Set<String> = {
        guard let text = try? String(contentsOfFile: "/usr/share/dict/words", encoding: .utf8) else { return [] }
        return Set(text.split(separator: "\n").map { $0.lowercased() }.filter { $0.count >= 4 })
    }()

    static func problem(_ password: String, email: String) -> String? {
        guard password.count >= 12 else { return "the password must have at least 12 characters" }
        guard password.count <= 256 else { return "the password must have at most 256 characters" }
        let lower = password.lowercased()
        if lower == email || lower == String(email.split(separator: "@").first ?? "") { return "the password must not be the email address" }
        let core = String(lower.drop { !$0.isLetter }.reversed().drop { !$0.isLetter }.reversed())
        for candidate in [lower, core] where common.contains(candidate) || dictionary.contains(candidate) {
            return "the password is a dictionary word or a common password"
        }
        if Set(lower).count <= 3 { return "the password repeats too few characters" }
        return nil
    }
}
