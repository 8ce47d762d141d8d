import Foundation
import PlumbAPI
import PlumbAuth
import PlumbStore

/// Sign-in for platform users (`plumb login`): a password, a TOTP device, and the API token a sign-in gives.
///
/// A token from a sign-in expires (`rules.sessionHours`) and records whether a TOTP code was given. Members of the
/// groups in `iam.require_mfa` must give one: their other tokens (without a code, or made by an admin) reach only
/// their own MFA enrolment (PlumbServer's `AccessMiddleware`).
extension IAM {
    public struct Session: Sendable {
        public var token: String
        public var expiresAt: Int64
        public var mfa: Bool
    }

    /// The context a user's TOTP secret is sealed under (bound to the user's name).
    public static func mfaContext(_ user: String) -> String { "iam.users.mfa_secret/" + user }

    public func setPassword(user: String, password: String) async throws {
        try Self.known(user, "user")
        try await storePassword(user: user, password: password, revokeSignIns: false)
    }

    /// Checks the rules, hashes, and stores (with the user's sign-in tokens revoked, when asked).
    func storePassword(user: String, password: String, revokeSignIns: Bool) async throws {
        if let problem = PasswordRules.problem(password, email: user) {
            throw PlumbError(status: 400, code: "WeakPassword", problem)
        }
        let stored = try PasswordHash.make(password, parameters: .init(n: rules.scryptN, r: 8, p: 1))
        try await changing { try await store.setPassword(user: user, hash: stored, revokingSignIns: revokeSignIns) }
    }

    /// A user changes their own password: the current one must be right (a failure counts towards the lockout), the
    /// new one follows the rules, and every token from an earlier sign-in stops working.
    public func changePassword(user: String, current: String, new password: String) async throws {
        guard let record = try await store.signInRecord(user: user) else {
            throw PlumbError.noSuchEntity("user", user)
        }
        let now = Date().timeIntervalSince1970
        try Self.refuseIfLocked(record, now: now)
        guard let stored = record.password, PasswordHash.verify(current, against: stored) else {
            try await recordFailure(user: user, now: now)
            throw PlumbError(status: 403, code: "InvalidCredentials", "the current password is wrong")
        }
        try await storePassword(user: user, password: password, revokeSignIns: true)
    }

    static func refuseIfLocked(_ record: SignInRecord, now: Double) throws {
        // `>` rather than `<=`: a value that is not a number locks nobody.
        if record.lockedUntil > now { throw locked(until: record.lockedUntil, now: now) }
    }

    static func locked(until: Double, now: Double) -> PlumbError {
        // The stored time is read back from a database: clamped before it becomes an integer (a lockout is an hour at
        // most; a day covers any clock skew between nodes).
        let gap = until - now
        let wait = gap > 0 ? Int(min(gap, 86_400)) + 1 : 1
        return PlumbError(status: 429, code: "UserLocked", "too many failed sign-ins; try again in \(wait) s")
    }

    /// Checks the password (and the code, once the user has a TOTP device) and makes a token. An unknown user, a
    /// disabled one, a locked one and a wrong password cost the same work (one scrypt, one failure statement) before
    /// their answer; failures lock the user out with a doubling backoff. The sign-in completes only if, when its
    /// token is stored, what it checked still holds (`IAMStoring.completeSignIn`): parallel guesses cannot outrun
    /// the lockout, and a password change or MFA reset on any node refuses a sign-in still under way.
    public func login(user: String, password: String, code: String?) async throws -> Session {
        let now = Date().timeIntervalSince1970
        let parameters = Scrypt.Parameters(n: rules.scryptN, r: 8, p: 1)
        let named = Self.validName(user)
        let record = named ? try await store.signInRecord(user: user).flatMap { $0.disabled ? nil : $0 } : nil
        let stored = record?.password
        let passwordOK =
            PasswordHash.verify(password, against: stored ?? PasswordHash.decoy(parameters: parameters))
            && stored != nil
        if let record { try Self.refuseIfLocked(record, now: now) }
        guard let record, let stored, passwordOK else {
            // For an unknown user too (it changes no row), so that the answer takes as long.
            if named { try await recordFailure(user: user, now: now) }
            throw PlumbError(status: 401, code: "InvalidCredentials", "wrong user name or password")
        }
        var step: Int64?
        if record.mfaEnabled {
            guard let code, !code.isEmpty else {
                throw PlumbError(
                    status: 401, code: "MFARequired", "user \(user) has a TOTP device: give the current code")
            }
            let device = TOTP(secret: try mfaSecret(record) ?? [])
            step = device.verify(code, at: Int64(now), lastUsed: record.mfaLastStep)
            if step == nil {
                try await recordFailure(user: user, now: now)
                throw PlumbError(status: 401, code: "InvalidMFACode", "the TOTP code is wrong, expired or already used")
            }
        }
        // The code's step is claimed only if no sign-in claimed it (or a later one) meanwhile, on any node: two
        // sign-ins racing with one code cannot both pass. The failure count starts again.
        let expiresAt = Int64(now + rules.sessionHours * 3_600)
        let mfa = step != nil
        let token = Self.newToken()
        let attempt = SignInAttempt(
            user: user, passwordHash: stored, sealedSecret: mfa ? record.sealedMFASecret : nil, step: step, now: now,
            token: NewToken(hash: Self.hash(token), user: user, createdAt: Int64(now), expiresAt: expiresAt, mfa: mfa))
        switch try await store.completeSignIn(attempt) {
        case .signedIn:
            return Session(token: token, expiresAt: expiresAt, mfa: mfa)
        case .locked(let until):
            throw Self.locked(until: until, now: now)
        case .stale where mfa:
            throw PlumbError(status: 401, code: "InvalidMFACode", "the TOTP code is wrong, expired or already used")
        case .stale:
            throw PlumbError(status: 401, code: "InvalidCredentials", "wrong user name or password")
        }
    }

    /// One more failure, counted by the store (concurrent wrong guesses cannot overwrite each other's count); from
    /// `lockoutAfter` on, a lockout of 30 s doubling with each further failure, at most an hour.
    func recordFailure(user: String, now: Double) async throws {
        let after = rules.lockoutAfter
        try await store.recordFailure(user: user) { count in
            count >= after ? now + min(3_600, 30 * pow(2, Double(count - after))) : 0
        }
    }

    /// The TOTP seed of a user, opened.
    func mfaSecret(_ record: SignInRecord) throws -> [UInt8]? {
        guard let sealed = record.sealedMFASecret else { return nil }
        return try secrets.open(sealed, context: Self.mfaContext(record.name))
    }

    /// A new TOTP secret for the user, not in force until confirmed with a code; the `otpauth://` URI to scan.
    public func enrolMFA(user: String, issuer: String = "Plumb") async throws -> (secret: String, uri: String) {
        let device = TOTP.generate()
        let sealed = try secrets.seal(device.secret, context: Self.mfaContext(user))
        guard try await store.enrolMFA(user: user, sealedSecret: sealed) else {
            throw PlumbError(
                status: 409, code: "MFAAlreadyEnabled",
                "user \(user) already has a TOTP device; an admin removes it with DELETE /api/v1/iam/users/\(user)/mfa")
        }
        return (Base32.encode(device.secret), device.uri(issuer: issuer, account: user))
    }

    /// Puts the enrolled device in force once a code from it is right.
    public func confirmMFA(user: String, code: String) async throws {
        let now = Int64(Date().timeIntervalSince1970)
        guard let record = try await store.signInRecord(user: user), let sealed = record.sealedMFASecret,
            let secret = try mfaSecret(record)
        else {
            throw PlumbError(status: 409, code: "NoMFADevice", "enrol first: POST /api/v1/iam/mfa/enrol")
        }
        let enabled = PlumbError(
            status: 409, code: "MFAAlreadyEnabled", "user \(user) already has a TOTP device")
        guard !record.mfaEnabled else { throw enabled }
        guard let step = TOTP(secret: secret).verify(code, at: now) else {
            throw PlumbError(
                status: 400, code: "InvalidMFACode",
                "the code does not match the enrolled secret (check the device's clock)")
        }
        guard try await changing({ try await store.confirmMFA(user: user, sealedSecret: sealed, step: step) }) else {
            if try await mfaEnabled(user: user) { throw enabled }
            throw PlumbError(
                status: 409, code: "NoMFADevice",
                "another device was enrolled meanwhile: confirm with a code from the newest enrolment")
        }
    }

    /// Removes a user's device (a lost phone) and the tokens that were given with it.
    public func resetMFA(user: String) async throws {
        try Self.known(user, "user")
        try await changing { try await store.resetMFA(user: user) }
    }

    /// Whether the user has a TOTP device in force.
    public func mfaEnabled(user: String) async throws -> Bool {
        try await store.signInRecord(user: user)?.mfaEnabled ?? false
    }
}
