import Foundation
import GRDB
import PlumbAPI
import PlumbAuth
import PlumbStore

/// Sign-in for platform users (`plumb login`): a password, a TOTP device, and the API token a sign-in gives.
///
/// A token from a sign-in expires (`iam.session_hours`) and records whether a TOTP code was given. Members of the
/// groups in `iam.require_mfa` must give one: their other tokens (without a code, or made by an admin) reach only
/// their own MFA enrolment (`AccessMiddleware`).
extension IAMStore {
    public struct Session: Sendable {
        public var token: String
        public var expiresAt: Int64
        public var mfa: Bool
    }

    public func setPassword(user: String, password: String, settings: ServerConfig.IAMSettings) throws {
        try storePassword(user: user, password: password, settings: settings, revokeSignIns: false)
    }

    /// Checks the rules, hashes, and stores in one transaction (with the user's sign-in tokens revoked, when asked).
    func storePassword(user: String, password: String, settings: ServerConfig.IAMSettings, revokeSignIns: Bool) throws {
        if let problem = PasswordRules.problem(password, email: user) {
            throw PlumbError(status: 400, code: "WeakPassword", problem)
        }
        let stored = try PasswordHash.make(password, parameters: .init(n: settings.scryptN, r: 8, p: 1))
        try write { db in
            try db.execute(
                sql: "UPDATE users SET password = ?, failures = 0, locked_until = 0 WHERE name = ?",
                arguments: [stored, user])
            try require(db.changesCount == 1, 404, "NoSuchEntity", "no user '\(user)'")
            if revokeSignIns {
                try db.execute(sql: "DELETE FROM tokens WHERE user = ? AND expires_at IS NOT NULL", arguments: [user])
            }
        }
    }

    /// A user changes their own password: the current one must be right (a failure counts towards the lockout), the
    /// new one follows the rules, and every token from an earlier sign-in stops working.
    public func changePassword(
        user: String, current: String, new password: String, settings: ServerConfig.IAMSettings
    ) throws {
        let row = try database.read { db in
            try Row.fetchOne(db, sql: "SELECT password, locked_until FROM users WHERE name = ?", arguments: [user])
        }
        guard let row else { throw PlumbError(status: 404, code: "NoSuchEntity", "no user '\(user)'") }
        let now = Date().timeIntervalSince1970
        try Self.refuseIfLocked(row, now: now)
        guard let stored = row["password"] as String?, PasswordHash.verify(current, against: stored) else {
            try recordFailure(user: user, now: now, settings: settings)
            throw PlumbError(status: 403, code: "InvalidCredentials", "the current password is wrong")
        }
        try storePassword(user: user, password: password, settings: settings, revokeSignIns: true)
    }

    static func refuseIfLocked(_ row: Row, now: Double) throws {
        let until: Double = row["locked_until"]
        guard until <= now else {
            throw PlumbError(
                status: 429, code: "UserLocked", "too many failed sign-ins; try again in \(Int(until - now) + 1) s")
        }
    }

    /// Checks the password (and the code, once the user has a TOTP device) and makes a token. An unknown user, a
    /// disabled one and a wrong password get the same answer after the same work; failures lock the user out
    /// with a doubling backoff.
    public func login(
        user: String, password: String, code: String?, settings: ServerConfig.IAMSettings
    ) throws -> Session {
        let now = Date().timeIntervalSince1970
        let parameters = Scrypt.Parameters(n: settings.scryptN, r: 8, p: 1)
        let row = try database.read { db in
            try Row.fetchOne(
                db,
                sql:
                    "SELECT name, password, mfa_secret, mfa_enabled, mfa_last_step, failures, locked_until FROM users WHERE name = ? AND disabled = 0",
                arguments: [user])
        }
        if let row { try Self.refuseIfLocked(row, now: now) }
        let stored: String? = row?["password"]
        let passwordOK =
            PasswordHash.verify(password, against: stored ?? PasswordHash.decoy(parameters: parameters))
            && stored != nil
        guard let row, passwordOK else {
            if let row { try recordFailure(user: row["name"], now: now, settings: settings) }
            throw PlumbError(status: 401, code: "InvalidCredentials", "wrong user name or password")
        }
        var step: Int64?
        if (row["mfa_enabled"] as Int) != 0 {
            guard let code, !code.isEmpty else {
                throw PlumbError(
                    status: 401, code: "MFARequired", "user \(user) has a TOTP device: give the current code")
            }
            let device = TOTP(secret: try mfaSecret(row, user: row["name"]) ?? [])
            step = device.verify(code, at: Int64(now), lastUsed: row["mfa_last_step"])
            if step == nil {
                try recordFailure(user: user, now: now, settings: settings)
                throw PlumbError(status: 401, code: "InvalidMFACode", "the TOTP code is wrong, expired or already used")
            }
        }
        // The code's step is claimed only if no sign-in claimed it (or a later one) meanwhile: two sign-ins racing
        // with one code cannot both pass. The failure count starts again.
        try write { db in
            if let step {
                try db.execute(
                    sql:
                        "UPDATE users SET mfa_last_step = ? WHERE name = ? AND (mfa_last_step IS NULL OR mfa_last_step < ?)",
                    arguments: [step, user, step])
                try require(
                    db.changesCount == 1, 401, "InvalidMFACode", "the TOTP code is wrong, expired or already used")
            }
            try db.execute(
                sql: "UPDATE users SET failures = 0, locked_until = 0 WHERE name = ? AND failures > 0",
                arguments: [user])
        }
        let expiresAt = Int64(now + settings.sessionHours * 3_600)
        let mfa = step != nil
        return Session(
            token: try createToken(user: user, expiresAt: expiresAt, mfa: mfa), expiresAt: expiresAt, mfa: mfa)
    }

    /// One more failure, counted inside the write (concurrent wrong guesses cannot overwrite each other's count);
    /// from `lockoutAfter` on, a lockout of 30 s doubling with each further failure, at most an hour.
    func recordFailure(user: String, now: Double, settings: ServerConfig.IAMSettings) throws {
        try write { db in
            let count =
                (try Int.fetchOne(db, sql: "SELECT failures FROM users WHERE name = ?", arguments: [user]) ?? 0) + 1
            let lock =
                count >= settings.lockoutAfter
                ? now + min(3_600, 30 * pow(2, Double(count - settings.lockoutAfter))) : 0
            try db.execute(
                sql: "UPDATE users SET failures = ?, locked_until = ? WHERE name = ?", arguments: [count, lock, user])
        }
    }

    /// A new TOTP secret for the user, not in force until confirmed with a code; the `otpauth://` URI to scan.
    public func enrolMFA(user: String, issuer: String = "Plumb") throws -> (secret: String, uri: String) {
        let device = TOTP.generate()
        try write { db in
            try require(
                try Int.fetchOne(db, sql: "SELECT mfa_enabled FROM users WHERE name = ?", arguments: [user]) == 0, 409,
                "MFAAlreadyEnabled",
                "user \(user) already has a TOTP device; an admin removes it with DELETE /api/v1/iam/users/\(user)/mfa")
            try db.execute(
                sql: "UPDATE users SET mfa_secret = ?, mfa_last_step = NULL WHERE name = ?",
                arguments: [try secrets.seal(device.secret, context: Self.mfaContext(user)), user])
        }
        return (Base32.encode(device.secret), device.uri(issuer: issuer, account: user))
    }

    /// Puts the enrolled device in force once a code from it is right.
    public func confirmMFA(user: String, code: String) throws {
        let now = Int64(Date().timeIntervalSince1970)
        try write { db in
            guard
                let row = try Row.fetchOne(
                    db, sql: "SELECT mfa_secret, mfa_enabled FROM users WHERE name = ?", arguments: [user]),
                let secret = try mfaSecret(row, user: user)
            else { throw PlumbError(status: 409, code: "NoMFADevice", "enrol first: POST /api/v1/iam/mfa/enrol") }
            try require(
                (row["mfa_enabled"] as Int) == 0, 409, "MFAAlreadyEnabled", "user \(user) already has a TOTP device")
            guard let step = TOTP(secret: secret).verify(code, at: now) else {
                throw PlumbError(
                    status: 400, code: "InvalidMFACode",
                    "the code does not match the enrolled secret (check the device's clock)")
            }
            try db.execute(
                sql: "UPDATE users SET mfa_enabled = 1, mfa_last_step = ? WHERE name = ?", arguments: [step, user])
        }
    }

    /// Removes a user's device (a lost phone) and the tokens that were given with it.
    public func resetMFA(user: String) throws {
        try write { db in
            try db.execute(
                sql: "UPDATE users SET mfa_secret = NULL, mfa_enabled = 0, mfa_last_step = NULL WHERE name = ?",
                arguments: [user])
            try require(db.changesCount == 1, 404, "NoSuchEntity", "no user '\(user)'")
            try db.execute(sql: "DELETE FROM tokens WHERE user = ? AND mfa = 1", arguments: [user])
        }
    }

    /// Whether the user has a TOTP device in force.
    public func mfaEnabled(user: String) throws -> Bool {
        try database.read { db in
            try Int.fetchOne(db, sql: "SELECT mfa_enabled FROM users WHERE name = ?", arguments: [user]) ?? 0
        } != 0
    }

    /// Whether the config requires this principal to have signed in with a code.
    public static func mfaRequired(_ principal: Principal, settings: ServerConfig.IAMSettings) -> Bool {
        settings.requireMFA.contains("*") || principal.groups.contains { settings.requireMFA.contains($0) }
    }
}
