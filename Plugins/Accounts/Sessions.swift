import Crypto
import Foundation
import GRDB
import Logging
import PlumbAuth
import PlumbKit
import Synchronization

// Sign-in, tokens, rotation, sign-out, userinfo and discovery.
extension AccountsPlugin {

    /// The account of a correct email and password; a lockout, a throttle or a wrong pair throw. An unknown email
    /// costs the same scrypt as a known one, and gets the same answer.
    func authenticate(_ body: [String: Any], source: String) async throws -> String {
        guard throttle.allow(source) else {
            await audit("signin-throttled", ["source": source])
            throw FunctionError(
                status: 429, code: "TooManyRequests",
                message: "too many sign-in attempts from this address; wait a minute", retryAfter: 60)
        }
        let email = (body["email"] as? String).flatMap(Self.normalisedEmail) ?? ""
        let password = body["password"] as? String ?? ""
        let row = try await database.read { db in
            try Row.fetchOne(
                db, sql: "SELECT id, password, failures, locked_until FROM accounts WHERE email = ?", arguments: [email]
            )
        }
        let now = Date().timeIntervalSince1970
        if let row, (row["locked_until"] as Double) > now {
            let wait = Int((row["locked_until"] as Double) - now) + 1
            await audit("signin-locked", ["account": row["id"] as String, "source": source])
            throw FunctionError(
                status: 429, code: "AccountLocked", message: "too many failed sign-ins; try again in \(wait) s",
                retryAfter: wait)
        }
        let ok = Self.check(password, against: row?["password"] ?? decoy) && row != nil
        guard let row, ok else {
            let id: String? = row?["id"]
            let lockoutAfter = self.lockoutAfter
            // The same transaction for a known and an unknown email: one insert, one updated row (the decoy's for
            // an unknown email). The count is read inside it, so concurrent wrong guesses cannot overwrite each other's.
            let failures = try await database.write { db -> Int in
                try db.execute(
                    sql: "INSERT INTO failed_signins (at, email_hash, source) VALUES (?, ?, ?)",
                    arguments: [now, Self.digest(email), source])
                try db.execute(sql: "DELETE FROM failed_signins WHERE at < ?", arguments: [now - 86_400])
                let failures =
                    (try Int.fetchOne(
                        db, sql: "SELECT failures FROM accounts WHERE id = ?", arguments: [id ?? "~decoy"]) ?? 0) + 1
                let lock = failures >= lockoutAfter ? now + min(3_600, 30 * pow(2, Double(failures - lockoutAfter))) : 0
                try db.execute(
                    sql: "UPDATE accounts SET failures = ?, locked_until = ? WHERE id = ?",
                    arguments: [failures, lock, id ?? "~decoy"])
                return failures
            }
            if let id {
                await audit("signin-failed", ["account": id, "source": source, "failures": String(failures)])
            } else {
                await audit("signin-failed", ["source": source, "account": "unknown"])
            }
            throw FunctionError(status: 401, code: "InvalidCredentials", message: "wrong email or password")
        }
        let id: String = row["id"]
        if (row["failures"] as Int) > 0 {
            try await database.write { db in
                try db.execute(sql: "UPDATE accounts SET failures = 0, locked_until = 0 WHERE id = ?", arguments: [id])
            }
        }
        return id
    }

    func signIn(_ r: FunctionRequest) async throws -> FunctionResponse {
        let body = try Self.body(r)
        let source = r.headers["x-plumb-source"] ?? "unknown"
        let account = try await authenticate(body, source: source)
        // Sign-up has two phases; the second (security questions, what a password reset asks) completes the account.
        // Until then it cannot sign in: an account without answers could never recover its password.
        let answers = try await database.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM answers WHERE account = ?", arguments: [account]) ?? 0
        }
        guard answers >= 2 else {
            await audit("signin-incomplete-denied", ["account": account, "source": source])
            throw FunctionError(
                status: 403, code: "SignUpIncomplete",
                message:
                    "finish signing up first: POST /apps/accounts/security-questions with your email, password and two answers"
            )
        }
        try await secondFactor(account: account, body: body, source: source)
        await audit("signin", ["account": account, "source": source])
        return try await issue(account: account, family: UUID().uuidString.lowercased())
    }

    static func digest(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// An access token and a new refresh token of `family`.
    func issue(account: String, family: String) async throws -> FunctionResponse {
        let now = Int64(Date().timeIntervalSince1970)
        let email =
            try await database.read { db in
                try String.fetchOne(db, sql: "SELECT email FROM accounts WHERE id = ?", arguments: [account])
            } ?? ""
        let access = try ring.sign([
            "iss": issuer, "sub": account, "aud": "plumb", "iat": now, "exp": now + accessLifetime, "email": email,
            "scope": "openid email",
            "jti": UUID().uuidString.lowercased(),
        ])
        var g = SystemRandomNumberGenerator()
        let refresh = "rt_" + Base64URL.encode((0..<32).map { _ in UInt8.random(in: 0...255, using: &g) })
        try await database.write { db in
            try db.execute(
                sql: "INSERT INTO refresh_tokens (hash, account, family, issued_at, expires_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [Self.digest(refresh), account, family, Double(now), Double(now + refreshLifetime)])
        }
        await audit("token-issued", ["account": account, "family": family])
        return Self.json([
            "access_token": access, "refresh_token": refresh, "token_type": "Bearer", "expires_in": accessLifetime,
        ])
    }

    /// Rotation: a refresh token works once. Presenting a used one again revokes its whole family (the session),
    /// as a stolen token would be.
    func refresh(_ r: FunctionRequest) async throws -> FunctionResponse {
        let token = try Self.body(r)["refresh_token"] as? String ?? ""
        let now = Date().timeIntervalSince1970
        enum Outcome {
            case rotate(String, String)
            case reused(String, String)
            case invalid
        }
        let outcome = try await database.write { db -> Outcome in
            guard
                let row = try Row.fetchOne(
                    db, sql: "SELECT * FROM refresh_tokens WHERE hash = ?", arguments: [Self.digest(token)]),
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
        case .invalid:
            throw FunctionError(
                status: 401, code: "InvalidToken", message: "the refresh token is unknown, expired or revoked")
        case .reused(let account, let family):
            await audit("refresh-reuse-revoked", ["account": account, "family": family])
            throw FunctionError(
                status: 401, code: "TokenReused",
                message: "this refresh token was already used; the session is revoked, sign in again")
        case .rotate(let account, let family): return try await issue(account: account, family: family)
        }
    }

    func signOut(_ r: FunctionRequest) async throws -> FunctionResponse {
        let token = try Self.body(r)["refresh_token"] as? String ?? ""
        let family = try await database.write { db -> String? in
            guard
                let family = try String.fetchOne(
                    db, sql: "SELECT family FROM refresh_tokens WHERE hash = ?", arguments: [Self.digest(token)])
            else { return nil }
            try db.execute(sql: "UPDATE refresh_tokens SET revoked = 1 WHERE family = ?", arguments: [family])
            return family
        }
        if let family { await audit("signout", ["family": family]) }
        return FunctionResponse(status: 204)
    }

    /// The claims of the request's access token.
    func bearer(_ r: FunctionRequest) throws -> [String: Any] {
        guard let header = r.headers["authorization"], header.hasPrefix("Bearer ") else {
            throw FunctionError(
                status: 401, code: "Unauthorized", message: "missing 'Authorization: Bearer <access token>'")
        }
        do {
            return try ring.verify(
                String(header.dropFirst(7)), now: Int64(Date().timeIntervalSince1970), issuer: issuer, audience: "plumb"
            )
        } catch let e as TokenError {
            throw FunctionError(status: 401, code: "InvalidToken", message: e.reason)
        }
    }

    func userInfo(_ r: FunctionRequest) async throws -> FunctionResponse {
        let claims = try bearer(r)
        return Self.json(["sub": claims["sub"] ?? "", "email": claims["email"] ?? ""])
    }
}
