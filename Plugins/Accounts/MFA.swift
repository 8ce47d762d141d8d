import Crypto
import Foundation
import GRDB
import Logging
import PlumbAuth
import PlumbKit
import Synchronization

// TOTP second factor: enrolment, confirmation, recovery codes, the check at sign-in.
extension AccountsPlugin {

    /// A new TOTP secret, pending until `/mfa/confirm` gets a first code from it: the `otpauth://` URI to scan.
    func enrol(_ r: FunctionRequest) async throws -> FunctionResponse {
        let account = try bearer(r)["sub"] as? String ?? ""
        let totp = TOTP.generate()
        let sealed = try host.seal(Base32.encode(totp.secret), context: Self.mfaContext(account))
        let email = try await database.write { db -> String? in
            try db.execute(sql: "UPDATE accounts SET mfa_pending = ? WHERE id = ?", arguments: [sealed, account])
            return try String.fetchOne(db, sql: "SELECT email FROM accounts WHERE id = ?", arguments: [account])
        }
        guard let email else { throw FunctionError(status: 404, code: "NotFound", message: "no such account") }
        await audit("mfa-enrol", ["account": account])
        return Self.json([
            "otpauth_uri": totp.uri(issuer: "Plumb", account: email), "secret": Base32.encode(totp.secret),
        ])
    }

    /// Turns the pending secret on with a first valid code, and returns ten one-time recovery codes (shown once).
    func confirm(_ r: FunctionRequest) async throws -> FunctionResponse {
        let account = try bearer(r)["sub"] as? String ?? ""
        let code = try Self.body(r)["code"] as? String ?? ""
        guard
            let pending = try await database.read({ db in
                try String.fetchOne(db, sql: "SELECT mfa_pending FROM accounts WHERE id = ?", arguments: [account])
            }),
            let secret = Base32.decode(try host.unseal(pending, context: Self.mfaContext(account)))
        else {
            throw FunctionError(status: 409, code: "NotEnrolling", message: "start with POST /apps/accounts/mfa/enrol")
        }
        guard let step = TOTP(secret: secret).verify(code, at: Int64(Date().timeIntervalSince1970)) else {
            await audit("mfa-confirm-failed", ["account": account])
            throw FunctionError(
                status: 400, code: "InvalidCode", message: "the code does not match; check the device's clock")
        }
        var g = SystemRandomNumberGenerator()
        let alphabet = Array("abcdefghjkmnpqrstuvwxyz23456789")
        let codes = (0..<10).map { _ in
            String((0..<10).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &g)] })
        }
        try await database.write { db in
            try db.execute(
                sql: "UPDATE accounts SET mfa_secret = mfa_pending, mfa_pending = NULL, mfa_last_step = ? WHERE id = ?",
                arguments: [step, account])
            try db.execute(sql: "DELETE FROM recovery_codes WHERE account = ?", arguments: [account])
            for c in codes {
                try db.execute(
                    sql: "INSERT INTO recovery_codes (account, hash) VALUES (?, ?)",
                    arguments: [account, Self.digest(c)])
            }
        }
        await audit("mfa-enabled", ["account": account])
        return Self.json(["enabled": true, "recovery_codes": codes])
    }

    /// With MFA on, sign-in needs `code` (a TOTP code newer than the last one used) or `recovery_code` (once).
    func secondFactor(account: String, body: [String: Any], source: String) async throws {
        guard
            let row = try await database.read({ db in
                try Row.fetchOne(
                    db, sql: "SELECT mfa_secret, mfa_last_step FROM accounts WHERE id = ?", arguments: [account])
            }), let stored = row["mfa_secret"] as String?
        else { return }
        guard let secret = Base32.decode(try host.unseal(stored, context: Self.mfaContext(account))) else {
            throw FunctionError(
                status: 500, code: "ServiceException", message: "the stored TOTP secret of this account is unreadable")
        }
        if let recovery = body["recovery_code"] as? String {
            let used = try await database.write { db -> Bool in
                try db.execute(
                    sql: "UPDATE recovery_codes SET used = 1 WHERE account = ? AND hash = ? AND used = 0",
                    arguments: [account, Self.digest(recovery)])
                return db.changesCount == 1
            }
            guard used else {
                await audit("mfa-failed", ["account": account, "source": source])
                throw FunctionError(status: 401, code: "InvalidCredentials", message: "wrong or used recovery code")
            }
            await audit("mfa-recovery-code-used", ["account": account, "source": source])
            return
        }
        guard let code = body["code"] as? String else {
            throw FunctionError(
                status: 401, code: "MFARequired",
                message: "this account needs a one-time code: send \"code\" (or \"recovery_code\")")
        }
        let last: Int64 = row["mfa_last_step"]
        guard let step = TOTP(secret: secret).verify(code, at: Int64(Date().timeIntervalSince1970), lastUsed: last)
        else {
            await audit("mfa-failed", ["account": account, "source": source])
            throw FunctionError(status: 401, code: "InvalidCredentials", message: "wrong or already used one-time code")
        }
        // The step is recorded only if no other sign-in used it meanwhile.
        let fresh = try await database.write { db -> Bool in
            try db.execute(
                sql: "UPDATE accounts SET mfa_last_step = ? WHERE id = ? AND mfa_last_step < ?",
                arguments: [step, account, step])
            return db.changesCount == 1
        }
        guard fresh else {
            throw FunctionError(status: 401, code: "InvalidCredentials", message: "wrong or already used one-time code")
        }
    }

    /// What a TOTP seed is sealed for (`mfa_pending` and `mfa_secret` alike: confirming copies one to the other).
    static func mfaContext(_ account: String) -> String { "accounts.mfa/" + account }

    /// Seals the TOTP seeds an older version stored in clear (base32), and checks the sealed ones open; run once per
    /// server start, before any instance. Conditional updates: a seed changed meanwhile is left to the next start.
    static func sealSeeds(_ context: PluginContext) async throws -> Int {
        let rows = try await context.database.read { db in
            try Row.fetchAll(
                db,
                sql:
                    "SELECT id, mfa_secret, mfa_pending FROM accounts WHERE mfa_secret IS NOT NULL OR mfa_pending IS NOT NULL"
            )
        }
        var updates: [(id: String, column: String, clear: String, sealed: String)] = []
        for row in rows {
            let id: String = row["id"]
            for column in ["mfa_secret", "mfa_pending"] {
                guard let value = row[column] as String? else { continue }
                if context.host.isSealed(value) {
                    _ = try context.host.unseal(value, context: mfaContext(id))
                } else {
                    updates.append((id, column, value, try context.host.seal(value, context: mfaContext(id))))
                }
            }
        }
        guard !updates.isEmpty else { return 0 }
        let rewrites = updates
        // secure_delete on for the rewrite, then the WAL checkpointed and truncated: no copy of a clear seed stays
        // in a freed cell of the database file or in an old frame of the -wal file.
        try await context.database.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA secure_delete = ON")
            defer { try? db.execute(sql: "PRAGMA secure_delete = FAST") }
            try db.inTransaction {
                for u in rewrites {
                    try db.execute(
                        sql: "UPDATE accounts SET \(u.column) = ? WHERE id = ? AND \(u.column) = ?",
                        arguments: [u.sealed, u.id, u.clear])
                }
                return .commit
            }
        }
        try await context.database.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
        return rewrites.count
    }

    func discovery() -> FunctionResponse {
        Self.json([
            "issuer": issuer, "jwks_uri": issuer + "/.well-known/jwks.json", "token_endpoint": issuer + "/signin",
            "userinfo_endpoint": issuer + "/userinfo", "response_types_supported": ["token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["ES256"], "grant_types_supported": ["password", "refresh_token"],
            "scopes_supported": ["openid", "email"], "claims_supported": ["sub", "email", "iss", "aud", "exp", "iat"],
        ])
    }
}
