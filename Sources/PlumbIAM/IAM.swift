import Crypto
import Foundation
import PlumbAPI
import PlumbAuth
import PlumbStore
import Synchronization

/// Users, groups, policies and API tokens for the platform API, over an `IAMStoring` (the data directory's SQLite,
/// or PostgreSQL shared by a cluster). A token is shown once; only its SHA-256 is stored (tokens are 256 random
/// bits, so a fast hash is enough). A user's TOTP secret is stored sealed (`SecretBox`).
///
/// Every API call of a user needs its principal (the access check, then the audit's actor), so principals are
/// cached by token hash with their policies parsed. A change made here empties the cache at once; on a shared store,
/// `refresh()` (every second, PlumbServer's `SharedStoreRefreshService`) empties it when another node changed anything, so a disabled user,
/// a token revoked by a password change or MFA reset, or a changed policy holds on every node within that second.
/// A shared store's cache is used only while its last refresh is under `freshness` old: a node that cannot read the
/// revision reads every principal from the store (or answers 503 with it), never from a cache that could be stale.
public final class IAM: Sendable {
    public let store: any IAMStoring
    /// Seals TOTP secrets.
    let secrets: SecretBox
    let rules: SignInRules
    private let principals = Mutex<Cache>(Cache())

    struct Cache {
        var entries: [String: IAMPrincipal] = [:]
        /// AWS access keys by id: the owner's principal and the key's secret (opened).
        var keys: [String: (principal: IAMPrincipal, secret: String)] = [:]
        /// Grows whenever the entries are dropped: a read that started before must not be kept.
        var generation = 0
        /// The store's revision the entries reflect (shared stores).
        var revision: Int64?
        /// When `revision` was last read (shared stores).
        var refreshed: ContinuousClock.Instant?
    }

    /// How old a shared store's last refresh may be for the cache to be used.
    static let freshness: Duration = .seconds(3)

    /// - Parameters:
    ///   - secrets: seals and opens TOTP secrets; on a shared store every node needs the same key.
    ///   - rules: how users sign in (scrypt cost, lockout, session length).
    public init(store: any IAMStoring, secrets: SecretBox, rules: SignInRules = SignInRules()) async throws {
        self.store = store
        self.secrets = secrets
        self.rules = rules
        let now = Int64(Date().timeIntervalSince1970)
        for (name, document) in Self.seeds {
            _ = try Policy.parse(name: name, json: Array(document.utf8))
        }
        try await store.seed(
            Self.seeds.map { StoredPolicy(name: $0.0, document: $0.1) },
            earlier: Self.earlierSeeds.map { StoredPolicy(name: $0.0, document: $0.1) }, at: now)
        // A node with another key than the one that sealed the stored TOTP seeds would fail every TOTP sign-in.
        if let (user, sealed) = try await store.anySealedMFASecret() {
            do { _ = try secrets.open(sealed, context: Self.mfaContext(user)) } catch {
                throw IAMStartError(
                    "the secrets key does not open the TOTP seeds stored for IAM users; every node needs the key that sealed them (secrets_key_env)"
                )
            }
        }
        if store.isShared { try await refresh() }
    }

    /// `body`, then the cached principals dropped (what it changed may change any of them).
    func changing<T>(_ body: () async throws -> T) async throws -> T {
        defer { forget() }
        return try await body()
    }

    func forget() {
        principals.withLock { cache in
            cache.entries.removeAll()
            cache.keys.removeAll()
            cache.generation += 1
        }
    }

    /// On a shared store: drops the cached principals when another node changed users, groups, policies or tokens
    /// since the last look. Returns whether it did.
    @discardableResult
    public func refresh() async throws -> Bool {
        let revision = try await store.revision()
        let now = ContinuousClock.now
        return principals.withLock { cache in
            cache.refreshed = now
            guard cache.revision != revision else { return false }
            let first = cache.revision == nil
            cache.revision = revision
            cache.entries.removeAll()
            cache.keys.removeAll()
            cache.generation += 1
            return !first
        }
    }

    /// A new API token: `plb_` and 256 random bits.
    static func newToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return "plb_" + Base64URL.encode((0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    public static func hash(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    public static func validName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 64
            && name.unicodeScalars.allSatisfy {
                CharacterSet.alphanumerics.contains($0) || "-_.@+".unicodeScalars.contains($0)
            }
    }

    static func requireName(_ name: String, _ kind: String) throws {
        guard validName(name) else {
            throw PlumbError(
                status: 400, code: "ValidationError", "a \(kind) name has 1–64 letters, digits or - _ . @ +")
        }
    }

    static var now: Int64 { Int64(Date().timeIntervalSince1970) }

    /// A name the caller gave for an entity that must exist: one that could not be a name is not looked up.
    static func known(_ name: String, _ kind: String) throws {
        guard validName(name) else { throw PlumbError.noSuchEntity(kind, name) }
    }

    /// The user and policies behind an API token, nil for an unknown or expired token or a disabled user.
    public func principal(token: String) async throws -> IAMPrincipal? {
        let key = Self.hash(token)
        let shared = store.isShared
        let (cached, generation, fresh) = principals.withLock { cache in
            let fresh = !shared || cache.refreshed.map { ContinuousClock.now - $0 < Self.freshness } ?? false
            return (cache.entries[key], cache.generation, fresh)
        }
        let now = Self.now
        // A cached principal of a token that has since expired is read again (and found no longer valid).
        if fresh, let cached, cached.expiresAt.map({ $0 > now }) ?? true { return cached }
        let found = try await store.tokenOwner(hash: key, now: now).map { owner in
            IAMPrincipal(
                user: owner.user, policies: try owner.policies.map(Self.parse), groups: owner.groups, mfa: owner.mfa,
                expiresAt: owner.expiresAt)
        }
        // Kept only if nothing changed while it was read (a read from before a change must not outlive it). Unknown
        // tokens are not kept: a flood of made-up ones must not push out the real.
        guard let found else { return nil }
        principals.withLock { cache in
            guard cache.generation == generation else { return }
            if cache.entries.count > 10_000 { cache.entries.removeAll() }
            cache.entries[key] = found
        }
        return found
    }

    static func parse(_ policy: StoredPolicy) throws -> Policy {
        try Policy.parse(name: policy.name, json: Array(policy.document.utf8))
    }

    public func policies(ofUser user: String) async throws -> [Policy] {
        try Self.known(user, "user")
        return try await store.policies(ofUser: user).map(Self.parse)
    }

    public func users() async throws -> [UserDescription] { try await store.users() }
    public func groups() async throws -> [GroupDescription] { try await store.groups() }

    /// Every policy with its document as stored; a document that no longer reads as JSON is shown as `{}`.
    public func policyDescriptions() async throws -> [PolicyDescription] {
        try await store.policies().map { policy in
            let document =
                (try? JSONDecoder().decode(PolicyDocument.self, from: Data(policy.document.utf8)))
                ?? PolicyDocument(json: .object([:]))
            return PolicyDescription(name: policy.name, document: document)
        }
    }

    public func createUser(_ name: String) async throws {
        try Self.requireName(name, "user")
        try await changing { try await store.createUser(name, at: Self.now) }
    }

    public func disableUser(_ name: String) async throws {
        try Self.known(name, "user")
        try await changing { try await store.disableUser(name) }
    }

    /// A new API token for `user`, returned once: without expiry when an admin makes it, with one (and whether a
    /// TOTP code was given) from a sign-in.
    public func createToken(user: String, expiresAt: Int64? = nil, mfa: Bool = false) async throws -> String {
        try Self.known(user, "enabled user")
        let token = Self.newToken()
        try await store.addToken(
            NewToken(hash: Self.hash(token), user: user, createdAt: Self.now, expiresAt: expiresAt, mfa: mfa))
        return token
    }

    /// AWS allows two access keys a user.
    public static let accessKeysPerUser = 2

    /// A new AWS access key for `user`: its id and its secret, the secret returned only here (it is stored sealed,
    /// bound to the key's id).
    public func createAccessKey(user: String) async throws -> (key: StoredAccessKey, secret: String) {
        try Self.known(user, "enabled user")
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        let id = "PKIA" + String((0..<16).map { _ in alphabet[Int.random(in: 0..<32, using: &generator)] })
        let secret = String(
            Data((0..<30).map { _ in UInt8.random(in: 0...255, using: &generator) }).base64EncodedString())
        let key = StoredAccessKey(
            id: id, user: user, sealedSecret: try secrets.seal(secret, context: Self.accessKeyContext(id)),
            createdAt: Self.now)
        try await changing { try await store.addAccessKey(key, limit: Self.accessKeysPerUser) }
        return (key, secret)
    }

    /// A user's access keys (their secrets stay sealed).
    public func accessKeys(user: String) async throws -> [StoredAccessKey] {
        try Self.known(user, "user")
        return try await store.accessKeys(user: user)
    }

    public func deleteAccessKey(user: String, id: String) async throws {
        try Self.known(user, "user")
        try await changing { try await store.deleteAccessKey(user: user, id: id) }
    }

    /// The principal an access key signs for and its secret; nil when the key is unknown or its user disabled.
    /// Cached as tokens' principals are (dropped on any change here, and on another node's within a second).
    public func accessKey(id: String) async throws -> (principal: IAMPrincipal, secret: String)? {
        let shared = store.isShared
        let (cached, generation, fresh) = principals.withLock { cache in
            let fresh = !shared || cache.refreshed.map { ContinuousClock.now - $0 < Self.freshness } ?? false
            return (cache.keys[id], cache.generation, fresh)
        }
        if fresh, let cached { return cached }
        guard let (owner, sealed) = try await store.accessKeyOwner(id: id) else { return nil }
        let found = (
            principal: IAMPrincipal(
                user: owner.user, policies: try owner.policies.map(Self.parse), groups: owner.groups),
            secret: try secrets.openText(sealed, context: Self.accessKeyContext(id))
        )
        principals.withLock { cache in
            guard cache.generation == generation else { return }
            if cache.keys.count > 10_000 { cache.keys.removeAll() }
            cache.keys[id] = found
        }
        return found
    }

    static func accessKeyContext(_ id: String) -> String { "iam access key \(id)" }

    public func createGroup(_ name: String) async throws {
        try Self.requireName(name, "group")
        try await changing { try await store.createGroup(name, at: Self.now) }
    }

    public func addMember(group: String, user: String) async throws {
        try Self.known(group, "group")
        try Self.known(user, "user")
        try await changing { try await store.addMember(group: group, user: user) }
    }

    public func putPolicy(_ name: String, document: [UInt8]) async throws {
        try Self.requireName(name, "policy")
        do { _ = try Policy.parse(name: name, json: document) } catch let e as Policy.Invalid {
            throw PlumbError(status: 400, code: "MalformedPolicyDocument", e.message)
        }
        let policy = StoredPolicy(name: name, document: String(decoding: document, as: UTF8.self))
        try await changing { try await store.putPolicy(policy, at: Self.now) }
    }

    public func deletePolicy(_ name: String) async throws {
        try Self.known(name, "policy")
        try await changing { try await store.deletePolicy(name) }
    }

    public func attach(policy: String, to holder: PolicyHolder) async throws {
        try Self.known(policy, "policy")
        try Self.known(holder.name, holder.kind)
        try await changing { try await store.attach(policy: policy, to: holder) }
    }
}

/// IAM cannot start as configured (the reason says what to change).
public struct IAMStartError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// A platform user as an API call sees them: who, their policies (parsed), their groups, and their token's kind.
public struct IAMPrincipal: Sendable {
    public var user: String
    public var policies: [Policy]
    /// The groups the user is in.
    public var groups: [String] = []
    /// Whether the token came from a sign-in with a TOTP code.
    public var mfa = false
    /// When the token expires (epoch seconds); nil for a token an admin made, which lives until revoked.
    public var expiresAt: Int64?

    public init(user: String, policies: [Policy], groups: [String] = [], mfa: Bool = false, expiresAt: Int64? = nil) {
        self.user = user
        self.policies = policies
        self.groups = groups
        self.mfa = mfa
        self.expiresAt = expiresAt
    }
}

/// How platform users sign in: the `iam:` section's scrypt cost, lockout threshold and session length.
public struct SignInRules: Sendable {
    /// scrypt cost of passwords (N; r = 8, p = 1).
    public var scryptN: Int
    /// Failed sign-ins before a user is locked out (30 s, doubling with each further failure, at most an hour).
    public var lockoutAfter: Int
    /// Hours a token from a sign-in lives.
    public var sessionHours: Double

    public init(scryptN: Int = 1 << 15, lockoutAfter: Int = 5, sessionHours: Double = 12) {
        self.scryptN = scryptN
        self.lockoutAfter = lockoutAfter
        self.sessionHours = sessionHours
    }
}
