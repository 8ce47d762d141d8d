import PlumbAPI

/// Where the platform's users, groups, policies, API tokens and sign-in state are kept: the embedded SQLite file
/// (`IAMStore`) or PostgreSQL, shared by every node of a cluster (`PostgresIAMStore`). `IAM` holds the rules
/// (names, hashing, sealing, lockout, TOTP); a store keeps rows and makes each operation atomic.
///
/// Refusals are thrown as the API answers them, through the helpers below so that both backends say the same.
public protocol IAMStoring: Sendable {
    /// Whether other nodes write to this store too: then `IAM` watches `revision()` to drop principals it cached.
    var isShared: Bool { get }

    /// A number that grows with every change to users, groups, members, policies, attachments or tokens that can
    /// change what a token is allowed (not with sign-in bookkeeping or a new token).
    func revision() async throws -> Int64

    /// Puts `policies` in place, each with a group of its name (every group but `read-only` also attached to
    /// `read-only`), when the store has no policy at all; and replaces every policy still exactly as `earlier`
    /// has it by the current document of that name. Nodes starting together seed once.
    func seed(_ policies: [StoredPolicy], earlier: [StoredPolicy], at now: Int64) async throws

    /// The owner of a token by its hash: nil when the token is unknown, expired at `now`, or its user disabled.
    func tokenOwner(hash: String, now: Int64) async throws -> TokenOwner?
    /// The policies attached to a user directly or through a group, by name. No user: `NoSuchEntity`.
    func policies(ofUser user: String) async throws -> [StoredPolicy]

    func users() async throws -> [UserDescription]
    func groups() async throws -> [GroupDescription]
    /// Every policy as stored, by name.
    func policies() async throws -> [StoredPolicy]

    /// A user exists already: `EntityAlreadyExists`.
    func createUser(_ name: String, at now: Int64) async throws
    /// Disables a user and revokes every token of theirs. No user: `NoSuchEntity`.
    func disableUser(_ name: String) async throws
    /// Keeps a token's hash (and forgets the user's sign-in tokens that have expired). No enabled user:
    /// `NoSuchEntity`.
    func addToken(_ token: NewToken) async throws
    /// A group exists already: `EntityAlreadyExists`.
    func createGroup(_ name: String, at now: Int64) async throws
    /// Idempotent. No group or no user: `NoSuchEntity`.
    func addMember(group: String, user: String) async throws
    /// Creates or replaces a policy's document.
    func putPolicy(_ policy: StoredPolicy, at now: Int64) async throws
    /// Still attached: `DeleteConflict`. No policy: `NoSuchEntity`.
    func deletePolicy(_ name: String) async throws
    /// Idempotent. No policy, or no such user or group: `NoSuchEntity`.
    func attach(policy: String, to holder: PolicyHolder) async throws

    /// What a sign-in needs of a user; nil when there is no such user.
    func signInRecord(user: String) async throws -> SignInRecord?
    /// Stores a password hash, clears the failure count and lockout, and, when asked, revokes the user's tokens
    /// from sign-ins. No user: `NoSuchEntity`.
    func setPassword(user: String, hash: String, revokingSignIns: Bool) async throws
    /// Counts one more failed sign-in, atomically (concurrent failures on any node all count), and sets the lockout
    /// `lockUntil` gives for the new count (0: none).
    func recordFailure(user: String, lockUntil: @escaping @Sendable (Int) -> Double) async throws
    /// A sign-in whose password (and code) checked out: in one atomic step, with the user's row locked, decides by
    /// `attempt.verdict(on:)` whether what was checked still holds, and if so claims the TOTP step, clears the
    /// failure count and keeps the token. A password changed, a device reset or a lockout since the check all refuse.
    func completeSignIn(_ attempt: SignInAttempt) async throws -> SignInOutcome
    /// Some user's sealed TOTP secret, if any user has one: checked at start to open with this node's key.
    func anySealedMFASecret() async throws -> (user: String, sealed: String)?
    /// Keeps a new, not yet confirmed TOTP secret (sealed). False when the user already has a device in force, or
    /// no such user.
    func enrolMFA(user: String, sealedSecret: String) async throws -> Bool
    /// Puts the enrolled device in force with its first step, if the secret enrolled is still `sealedSecret` (the
    /// one the code was checked against). False when a device is in force already, or another was enrolled since.
    func confirmMFA(user: String, sealedSecret: String, step: Int64) async throws -> Bool
    /// Removes a user's device and revokes the tokens given with a code. No user: `NoSuchEntity`.
    func resetMFA(user: String) async throws

    /// Keeps a new AWS access key (its secret sealed). No enabled user: `NoSuchEntity`; `limit` keys already:
    /// `LimitExceeded` (checked with the user's row locked, so concurrent creations on any node cannot pass it).
    func addAccessKey(_ key: StoredAccessKey, limit: Int) async throws
    /// A user's access keys, oldest first. No user: `NoSuchEntity`.
    func accessKeys(user: String) async throws -> [StoredAccessKey]
    /// No such key of that user: `NoSuchEntity`.
    func deleteAccessKey(user: String, id: String) async throws
    /// The owner of an access key (groups and policies as for a token) and the key's sealed secret: nil when the key
    /// is unknown or its user disabled.
    func accessKeyOwner(id: String) async throws -> (owner: TokenOwner, sealedSecret: String)?
}

/// An AWS access key of an IAM user, as stored: the id is public (it is in every signed request), the secret only
/// sealed (SigV4 needs it whole to check a signature, so it cannot be hashed).
public struct StoredAccessKey: Sendable, Equatable {
    public var id: String
    public var user: String
    public var sealedSecret: String
    public var createdAt: Int64

    public init(id: String, user: String, sealedSecret: String, createdAt: Int64) {
        self.id = id
        self.user = user
        self.sealedSecret = sealedSecret
        self.createdAt = createdAt
    }
}

/// A policy as stored: its name and its document as the caller wrote it.
public struct StoredPolicy: Sendable, Equatable {
    public var name: String
    public var document: String

    public init(name: String, document: String) {
        self.name = name
        self.document = document
    }
}

/// Who a policy is attached to.
public enum PolicyHolder: Sendable, Equatable {
    case user(String)
    case group(String)

    public var kind: String {
        switch self {
        case .user: "user"
        case .group: "group"
        }
    }

    public var name: String {
        switch self {
        case .user(let name), .group(let name): name
        }
    }
}

/// The user behind a valid token, with what decides their access.
public struct TokenOwner: Sendable, Equatable {
    public var user: String
    /// Whether the token came from a sign-in with a TOTP code.
    public var mfa: Bool
    /// Epoch seconds; nil for a token an admin made.
    public var expiresAt: Int64?
    /// The user's groups, by name.
    public var groups: [String]
    /// Attached directly or through a group, by name.
    public var policies: [StoredPolicy]

    public init(user: String, mfa: Bool, expiresAt: Int64?, groups: [String], policies: [StoredPolicy]) {
        self.user = user
        self.mfa = mfa
        self.expiresAt = expiresAt
        self.groups = groups
        self.policies = policies
    }
}

/// A token to keep: only its SHA-256 is stored.
public struct NewToken: Sendable {
    public var hash: String
    public var user: String
    public var createdAt: Int64
    public var expiresAt: Int64?
    public var mfa: Bool

    public init(hash: String, user: String, createdAt: Int64, expiresAt: Int64?, mfa: Bool) {
        self.hash = hash
        self.user = user
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.mfa = mfa
    }
}

/// A user's sign-in state.
public struct SignInRecord: Sendable, Equatable {
    public var name: String
    public var disabled: Bool
    /// The scrypt hash (`PasswordHash`); nil until a password is set.
    public var password: String?
    /// The TOTP seed sealed with the server's `SecretBox` (context `IAM.mfaContext(user)`).
    public var sealedMFASecret: String?
    public var mfaEnabled: Bool
    /// The last TOTP step a sign-in used (a code is good once).
    public var mfaLastStep: Int64?
    public var failures: Int
    /// Epoch seconds; 0 when not locked.
    public var lockedUntil: Double

    public init(
        name: String, disabled: Bool, password: String?, sealedMFASecret: String?, mfaEnabled: Bool,
        mfaLastStep: Int64?, failures: Int, lockedUntil: Double
    ) {
        self.name = name
        self.disabled = disabled
        self.password = password
        self.sealedMFASecret = sealedMFASecret
        self.mfaEnabled = mfaEnabled
        self.mfaLastStep = mfaLastStep
        self.failures = failures
        self.lockedUntil = lockedUntil
    }
}

/// A sign-in that passed its checks, to complete (`IAMStoring.completeSignIn`).
public struct SignInAttempt: Sendable {
    public var user: String
    /// The stored password hash the password was checked against.
    public var passwordHash: String
    /// With a code: the sealed secret it was checked against, and its step.
    public var sealedSecret: String?
    public var step: Int64?
    /// Epoch seconds.
    public var now: Double
    /// The token to keep when the sign-in completes.
    public var token: NewToken

    public init(
        user: String, passwordHash: String, sealedSecret: String?, step: Int64?, now: Double, token: NewToken
    ) {
        self.user = user
        self.passwordHash = passwordHash
        self.sealedSecret = sealedSecret
        self.step = step
        self.now = now
        self.token = token
    }

    /// Whether the checks made on an earlier read still hold on the user's row as it is now.
    public func verdict(on record: SignInRecord?) -> SignInOutcome {
        guard let record, !record.disabled, record.password == passwordHash else { return .stale }
        if record.lockedUntil > now { return .locked(until: record.lockedUntil) }
        if let step {
            guard record.mfaEnabled, record.sealedMFASecret == sealedSecret, (record.mfaLastStep ?? .min) < step
            else { return .stale }
        } else if record.mfaEnabled {
            return .stale
        }
        return .signedIn
    }
}

/// How completing a sign-in ended.
public enum SignInOutcome: Sendable, Equatable {
    case signedIn
    /// Locked out meanwhile (by failures on this or another node).
    case locked(until: Double)
    /// What was checked no longer holds: the password or device changed, the user was disabled, or the TOTP step
    /// was spent by another sign-in.
    case stale
}

/// The refusals every IAM store answers the same way.
extension PlumbError {
    public static func noSuchEntity(_ kind: String, _ name: String) -> PlumbError {
        PlumbError(status: 404, code: "NoSuchEntity", "no \(kind) '\(name)'")
    }

    public static func entityExists(_ kind: String, _ name: String) -> PlumbError {
        PlumbError(status: 409, code: "EntityAlreadyExists", "\(kind) '\(name)' exists")
    }

    public static func accessKeyLimit(_ user: String, _ limit: Int) -> PlumbError {
        PlumbError(
            status: 409, code: "LimitExceeded", "user '\(user)' has \(limit) access keys already (at most \(limit))")
    }

    public static func policyAttached(_ name: String) -> PlumbError {
        PlumbError(status: 409, code: "DeleteConflict", "policy '\(name)' is attached; detach it first")
    }
}
