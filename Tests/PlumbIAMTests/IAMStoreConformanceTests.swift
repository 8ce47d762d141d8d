import Crypto
import Foundation
import PlumbAPI
import PlumbAuth
import PlumbPostgres
import PlumbStore
import PlumbTesting
import Testing

@testable import PlumbIAM

/// What every IAM store must do the same way, through `IAM`, against the embedded SQLite file and PostgreSQL (a
/// fresh database on the process's shared server): seeds, users, groups, policies, tokens, sign-in with lockout and
/// TOTP; and, on PostgreSQL, several nodes sharing one store.
@Suite("IAM store conformance")
struct IAMStoreConformanceTests {
    struct Backend: Sendable, CustomStringConvertible {
        let name: String
        /// `nodes` stores on one set of data (one for SQLite, which is not shared), and what stops them.
        let open: @Sendable (_ directory: String, _ nodes: Int) async throws -> ([any IAMStoring], @Sendable () -> Void)
        var description: String { name }
    }

    static let sqlite = Backend(
        name: "SQLite",
        open: { directory, _ in
            ([try IAMStore(directory: directory, durability: .full, secrets: box)], {})
        })

    static let postgres = Backend(
        name: "PostgreSQL",
        open: { _, nodes in
            let url = try await SharedPostgres.shared.freshDatabase()
            var pools: [PostgresStore] = []
            var stores: [any IAMStoring] = []
            for _ in 0..<nodes {
                var settings = try PostgresSettings(url: url)
                settings.timeout = .seconds(60)
                let pool = try PostgresStore(settings: settings, maximumConnections: 4)
                pool.start()
                pools.append(pool)
                stores.append(try await PostgresIAMStore.open(database: pool))
            }
            let opened = pools
            return (stores, { for pool in opened { pool.stop() } })
        })

    static let backends = [sqlite, postgres]
    /// One key for every node, as `secrets_key_env` gives a cluster.
    static let box = SecretBox(key: SymmetricKey(size: .bits256))
    static let rules = SignInRules(scryptN: 1 << 10, lockoutAfter: 3, sessionHours: 1)

    /// `IAM`s over `nodes` stores sharing one set of data.
    func with(_ backend: Backend, nodes: Int = 1, _ body: ([IAM]) async throws -> Void) async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let (stores, stop) = try await backend.open(dir.path, nodes)
        defer { stop() }
        var iams: [IAM] = []
        for store in stores { iams.append(try await IAM(store: store, secrets: Self.box, rules: Self.rules)) }
        try await body(iams)
    }

    func refusal(_ body: () async throws -> Void) async -> (Int, String)? {
        do {
            try await body()
            return nil
        } catch let error as PlumbError {
            return (error.status, error.code)
        } catch {
            return (0, "\(error)")
        }
    }

    @Test(
        "a new store holds the seed's policies and groups, once, and an earlier seed document is replaced",
        arguments: backends)
    func seeds(_ backend: Backend) async throws {
        try await with(backend) { iams in
            let iam = iams[0]
            let policies = try await iam.policyDescriptions().map(\.name)
            #expect(
                policies == ["backend-writer", "frontend-writer", "monitoring-writer", "read-only", "training-writer"])
            let groups = try await iam.groups()
            #expect(groups.map(\.name) == policies)
            #expect(groups.first { $0.name == "backend-writer" }?.policies == ["backend-writer", "read-only"])
            #expect(groups.first { $0.name == "read-only" }?.policies == ["read-only"])
            // An installation still holding an earlier release's seed gets the current one when it starts again.
            let earlier = try #require(IAMTestSeeds.earlier("training-writer"))
            try await iam.store.putPolicy(StoredPolicy(name: "training-writer", document: earlier), at: 1)
            let again = try await IAM(store: iam.store, secrets: Self.box, rules: Self.rules)
            let stored = try await again.store.policies().first { $0.name == "training-writer" }?.document
            #expect(stored != earlier)
            #expect(stored?.contains("classifier:Train") == true)
            #expect(try await again.groups().count == 5)
        }
    }

    @Test("users, groups, members and attachments, with the API's refusals", arguments: backends)
    func entities(_ backend: Backend) async throws {
        try await with(backend) { iams in
            let iam = iams[0]
            try await iam.createUser("ana@example.com")
            #expect(
                await refusal { try await iam.createUser("ana@example.com") } ?? (0, "") == (409, "EntityAlreadyExists")
            )
            #expect(await refusal { try await iam.createUser("no spaces") } ?? (0, "") == (400, "ValidationError"))
            try await iam.createGroup("ops")
            #expect(await refusal { try await iam.createGroup("ops") } ?? (0, "") == (409, "EntityAlreadyExists"))
            #expect(
                await refusal { try await iam.addMember(group: "nope", user: "ana@example.com") } ?? (0, "") == (
                    404, "NoSuchEntity"
                ))
            #expect(
                await refusal { try await iam.addMember(group: "ops", user: "nobody") } ?? (0, "") == (
                    404, "NoSuchEntity"
                ))
            try await iam.addMember(group: "ops", user: "ana@example.com")
            try await iam.addMember(group: "ops", user: "ana@example.com")
            let document =
                #"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "alarms:*", "Resource": "*"}]}"#
            try await iam.putPolicy("alarms", document: Array(document.utf8))
            #expect(
                await refusal { try await iam.putPolicy("bad", document: Array("{".utf8)) } ?? (0, "") == (
                    400, "MalformedPolicyDocument"
                ))
            #expect(
                await refusal { try await iam.attach(policy: "nope", to: .group("ops")) } ?? (0, "") == (
                    404, "NoSuchEntity"
                ))
            #expect(
                await refusal { try await iam.attach(policy: "alarms", to: .user("nobody")) } ?? (0, "") == (
                    404, "NoSuchEntity"
                ))
            try await iam.attach(policy: "alarms", to: .group("ops"))
            try await iam.attach(policy: "read-only", to: .user("ana@example.com"))
            try await iam.attach(policy: "read-only", to: .user("ana@example.com"))
            #expect(try await iam.policies(ofUser: "ana@example.com").map(\.name) == ["alarms", "read-only"])
            #expect(await refusal { _ = try await iam.policies(ofUser: "nobody") } ?? (0, "") == (404, "NoSuchEntity"))
            let users = try await iam.users()
            #expect(users.map(\.name) == ["ana@example.com"])
            #expect(users.first?.groups == ["ops"])
            #expect(users.first?.policies == ["read-only"])
            let ops = try #require(try await iam.groups().first { $0.name == "ops" })
            #expect(ops.members == ["ana@example.com"])
            #expect(ops.policies == ["alarms"])
            #expect(await refusal { try await iam.deletePolicy("alarms") } ?? (0, "") == (409, "DeleteConflict"))
            #expect(await refusal { try await iam.deletePolicy("nope") } ?? (0, "") == (404, "NoSuchEntity"))
            try await iam.putPolicy("spare", document: Array(document.utf8))
            try await iam.deletePolicy("spare")
            #expect(try await iam.policyDescriptions().contains { $0.name == "spare" } == false)
        }
    }

    @Test(
        "a token finds its user, groups and policies; disabling the user revokes it; an expired one is gone",
        arguments: backends)
    func tokens(_ backend: Backend) async throws {
        try await with(backend) { iams in
            let iam = iams[0]
            try await iam.createUser("bo")
            try await iam.addMember(group: "monitoring-writer", user: "bo")
            let token = try await iam.createToken(user: "bo")
            let principal = try #require(try await iam.principal(token: token))
            #expect(principal.user == "bo")
            #expect(principal.groups == ["monitoring-writer"])
            #expect(principal.policies.map(\.name) == ["monitoring-writer", "read-only"])
            #expect(principal.expiresAt == nil && !principal.mfa)
            #expect(
                PolicyEvaluator.evaluate(principal.policies, action: "alarms:PutMetricAlarm", resource: "alarm/x")
                    .allowed)
            #expect(try await iam.principal(token: "plb_unknown") == nil)
            let expired = try await iam.createToken(user: "bo", expiresAt: Int64(Date().timeIntervalSince1970) - 1)
            #expect(try await iam.principal(token: expired) == nil)
            #expect(await refusal { _ = try await iam.createToken(user: "nobody") } ?? (0, "") == (404, "NoSuchEntity"))
            try await iam.disableUser("bo")
            #expect(try await iam.principal(token: token) == nil)
            #expect(await refusal { _ = try await iam.createToken(user: "bo") } ?? (0, "") == (404, "NoSuchEntity"))
            #expect(await refusal { try await iam.disableUser("nobody") } ?? (0, "") == (404, "NoSuchEntity"))
            #expect(try await iam.users().first?.disabled == true)
        }
    }

    @Test(
        "sign-in: password rules, lockout after failures, a TOTP device, a code good once, reset", arguments: backends)
    func signIn(_ backend: Backend) async throws {
        try await with(backend) { iams in
            let iam = iams[0]
            try await iam.createUser("cy@example.com")
            #expect(
                await refusal { try await iam.setPassword(user: "cy@example.com", password: "short") } ?? (0, "") == (
                    400, "WeakPassword"
                ))
            #expect(
                await refusal { try await iam.setPassword(user: "nobody", password: "a long passphrase 42") } ?? (0, "")
                    == (404, "NoSuchEntity"))
            try await iam.setPassword(user: "cy@example.com", password: "a long passphrase 42")
            let session = try await iam.login(user: "cy@example.com", password: "a long passphrase 42", code: nil)
            #expect(!session.mfa)
            #expect(try await iam.principal(token: session.token)?.expiresAt == session.expiresAt)
            #expect(
                await refusal { _ = try await iam.login(user: "nobody", password: "x", code: nil) } ?? (0, "") == (
                    401, "InvalidCredentials"
                ))
            for _ in 0..<3 {
                #expect(
                    await refusal { _ = try await iam.login(user: "cy@example.com", password: "wrong", code: nil) } ?? (
                        0, ""
                    ) == (401, "InvalidCredentials"))
            }
            #expect(try await iam.store.signInRecord(user: "cy@example.com")?.failures == 3)
            #expect(
                await refusal {
                    _ = try await iam.login(user: "cy@example.com", password: "a long passphrase 42", code: nil)
                } ?? (0, "") == (429, "UserLocked"))
            // An admin setting the password lifts the lockout.
            try await iam.setPassword(user: "cy@example.com", password: "another passphrase 43")
            #expect(try await iam.store.signInRecord(user: "cy@example.com")?.failures == 0)

            let (_, uri) = try await iam.enrolMFA(user: "cy@example.com")
            #expect(uri.hasPrefix("otpauth://totp/"))
            #expect(
                try await iam.store.signInRecord(user: "cy@example.com")?.sealedMFASecret?.hasPrefix(SecretBox.prefix)
                    == true)
            let device = try await iam.device(of: "cy@example.com")
            let now = Int64(Date().timeIntervalSince1970)
            #expect(
                await refusal { try await iam.confirmMFA(user: "cy@example.com", code: "000000") } ?? (0, "") == (
                    400, "InvalidMFACode"
                ))
            try await iam.confirmMFA(user: "cy@example.com", code: device.code(at: now))
            #expect(try await iam.mfaEnabled(user: "cy@example.com"))
            #expect(
                await refusal { _ = try await iam.enrolMFA(user: "cy@example.com") } ?? (0, "") == (
                    409, "MFAAlreadyEnabled"
                ))
            #expect(
                await refusal {
                    _ = try await iam.login(user: "cy@example.com", password: "another passphrase 43", code: nil)
                } ?? (0, "") == (401, "MFARequired"))
            // The confirming code's step is spent; the next step's code signs in, once.
            let next = device.code(at: now + 30)
            let withCode = try await iam.login(user: "cy@example.com", password: "another passphrase 43", code: next)
            #expect(withCode.mfa)
            #expect(
                await refusal {
                    _ = try await iam.login(user: "cy@example.com", password: "another passphrase 43", code: next)
                } ?? (0, "") == (401, "InvalidMFACode"))
            // Changing one's password: the current one must be right; earlier sign-ins stop working.
            #expect(
                await refusal {
                    try await iam.changePassword(user: "cy@example.com", current: "wrong", new: "a third passphrase 44")
                } ?? (0, "") == (403, "InvalidCredentials"))
            try await iam.changePassword(
                user: "cy@example.com", current: "another passphrase 43", new: "a third passphrase 44")
            #expect(try await iam.principal(token: withCode.token) == nil)
            // A lost phone: the device and the tokens given with it go.
            try await iam.resetMFA(user: "cy@example.com")
            #expect(try await !iam.mfaEnabled(user: "cy@example.com"))
            #expect(await refusal { try await iam.resetMFA(user: "nobody") } ?? (0, "") == (404, "NoSuchEntity"))
        }
    }

    @Test(
        "a sign-in completes only if what it checked still holds; a name that cannot be a user is refused like any",
        arguments: backends)
    func completion(_ backend: Backend) async throws {
        try await with(backend) { iams in
            let iam = iams[0]
            try await iam.createUser("gil")
            try await iam.setPassword(user: "gil", password: "a long passphrase 42")
            let record = try #require(try await iam.store.signInRecord(user: "gil"))
            let hash = try #require(record.password)
            let now = Date().timeIntervalSince1970
            func attempt(_ passwordHash: String, step: Int64? = nil, sealed: String? = nil) -> SignInAttempt {
                SignInAttempt(
                    user: "gil", passwordHash: passwordHash, sealedSecret: sealed, step: step, now: now,
                    token: NewToken(
                        hash: IAM.hash(IAM.newToken()), user: "gil", createdAt: Int64(now), expiresAt: Int64(now) + 60,
                        mfa: step != nil))
            }
            // The password changed between the check and the completion: refused, and no token kept.
            let stale = attempt("scrypt$old")
            #expect(try await iam.store.completeSignIn(stale) == .stale)
            #expect(try await iam.store.tokenOwner(hash: stale.token.hash, now: Int64(now)) == nil)
            // Locked out meanwhile by failures elsewhere: refused with the lockout.
            try await iam.store.recordFailure(user: "gil") { _ in now + 60 }
            #expect(try await iam.store.completeSignIn(attempt(hash)) == .locked(until: now + 60))
            try await iam.setPassword(user: "gil", password: "a long passphrase 42")
            let fresh = try #require(try await iam.store.signInRecord(user: "gil")?.password)
            let good = attempt(fresh)
            #expect(try await iam.store.completeSignIn(good) == .signedIn)
            #expect(try await iam.store.tokenOwner(hash: good.token.hash, now: Int64(now))?.user == "gil")
            // A device enrolled and confirmed since the check (which needed no code): refused.
            _ = try await iam.enrolMFA(user: "gil")
            // The code of the moment it is checked: `now` is from the test's start, minutes ago on a loaded machine
            // (two scrypt hashes), beyond the one step of skew a code is allowed.
            let current = Int64(Date().timeIntervalSince1970)
            try await iam.confirmMFA(user: "gil", code: try await iam.device(of: "gil").code(at: current))
            #expect(try await iam.store.completeSignIn(attempt(fresh)) == .stale)
            // A NUL or an over-long name is not looked up: the same 401 as an unknown user, never a 500.
            for name in ["gil\u{0}", String(repeating: "g", count: 65), "\u{0}"] {
                #expect(
                    await refusal { _ = try await iam.login(user: name, password: "x", code: nil) } ?? (0, "") == (
                        401, "InvalidCredentials"
                    ))
                #expect(await refusal { try await iam.disableUser(name) } ?? (0, "") == (404, "NoSuchEntity"))
            }
        }
    }

    @Test("two nodes: a node that cannot refresh stops trusting its cache")
    func staleCache() async throws {
        try await with(Self.postgres, nodes: 2) { iams in
            let (a, b) = (iams[0], iams[1])
            try await a.createUser("hy")
            let token = try await a.createToken(user: "hy")
            try await b.refresh()
            #expect(try await b.principal(token: token) != nil)
            try await a.disableUser("hy")
            // b does not refresh: once its last refresh is older than the freshness, it reads the store again.
            try await Task.sleep(for: IAM.freshness + .milliseconds(200))
            #expect(try await b.principal(token: token) == nil)
        }
    }

    @Test("the revision moves with every change that can alter a token's access")
    func revision() async throws {
        for backend in Self.backends {
            try await with(backend) { iams in
                let iam = iams[0]
                var last = try await iam.store.revision()
                func moved() async throws -> Bool {
                    let now = try await iam.store.revision()
                    defer { last = now }
                    return now > last
                }
                try await iam.createUser("di")
                #expect(try await moved(), "\(backend)")
                _ = try await iam.createToken(user: "di")
                try await iam.attach(policy: "read-only", to: .user("di"))
                #expect(try await moved(), "\(backend)")
                try await iam.disableUser("di")
                #expect(try await moved(), "\(backend)")
            }
        }
    }

    @Test("two nodes: a change on one reaches the other's cached principals at its next refresh")
    func sharedCache() async throws {
        try await with(Self.postgres, nodes: 2) { iams in
            let (a, b) = (iams[0], iams[1])
            try await a.createUser("ed")
            let token = try await a.createToken(user: "ed")
            try await b.refresh()
            #expect(try await b.principal(token: token)?.policies.isEmpty == true)
            try await a.attach(policy: "read-only", to: .user("ed"))
            // b's cached principal stands until b looks at the revision.
            #expect(try await b.principal(token: token)?.policies.isEmpty == true)
            #expect(try await b.refresh())
            #expect(try await b.principal(token: token)?.policies.map(\.name) == ["read-only"])
            try await a.disableUser("ed")
            #expect(try await b.refresh())
            #expect(try await b.principal(token: token) == nil)
            #expect(try await !b.refresh())
        }
    }

    @Test(
        "AWS access keys: made with a sealed secret, two a user, listed, deleted, gone with a disabled user",
        arguments: backends)
    func accessKeys(_ backend: Backend) async throws {
        try await with(backend) { iams in
            let iam = iams[0]
            try await iam.createUser("kim")
            try await iam.addMember(group: "read-only", user: "kim")
            let (first, secret) = try await iam.createAccessKey(user: "kim")
            #expect(first.id.count == 20 && first.id.hasPrefix("PKIA"))
            #expect(secret.count == 40)
            // Stored sealed, never in clear.
            #expect(SecretBox.isSealed(first.sealedSecret))
            #expect(!first.sealedSecret.contains(secret))
            let found = try #require(try await iam.accessKey(id: first.id))
            #expect(found.secret == secret)
            #expect(found.principal.user == "kim")
            #expect(found.principal.groups == ["read-only"])
            #expect(found.principal.policies.map(\.name) == ["read-only"])
            #expect(try await iam.accessKey(id: "PKIANOSUCHKEY0000000") == nil)
            // Two a user, as AWS.
            let (second, _) = try await iam.createAccessKey(user: "kim")
            #expect(await refusal { _ = try await iam.createAccessKey(user: "kim") }?.1 == "LimitExceeded")
            #expect(Set(try await iam.accessKeys(user: "kim").map(\.id)) == [first.id, second.id])
            #expect(await refusal { _ = try await iam.createAccessKey(user: "nobody") }?.1 == "NoSuchEntity")
            #expect(await refusal { _ = try await iam.accessKeys(user: "nobody") }?.1 == "NoSuchEntity")
            // Deleted: refused at once (the cache is dropped).
            try await iam.deleteAccessKey(user: "kim", id: first.id)
            #expect(try await iam.accessKey(id: first.id) == nil)
            #expect(await refusal { try await iam.deleteAccessKey(user: "kim", id: first.id) }?.1 == "NoSuchEntity")
            #expect(try await iam.accessKeys(user: "kim").map(\.id) == [second.id])
            // A disabled user's keys are gone.
            #expect(try await iam.accessKey(id: second.id) != nil)
            try await iam.disableUser("kim")
            #expect(try await iam.accessKey(id: second.id) == nil)
            #expect(try await iam.accessKeys(user: "kim").isEmpty)
        }
    }

    @Test("two nodes at once: one name created once, every failed sign-in counted, a TOTP code spent once")
    func concurrentNodes() async throws {
        try await with(Self.postgres, nodes: 2) { iams in
            let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
                for iam in iams + iams {
                    group.addTask { (try? await iam.createUser("fay@example.com")) != nil }
                }
                return try await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 }.count == 1)
            let iam = iams[0]
            try await iam.setPassword(user: "fay@example.com", password: "a long passphrase 42")
            await withTaskGroup(of: Void.self) { group in
                for node in iams + iams {
                    group.addTask { _ = try? await node.login(user: "fay@example.com", password: "wrong", code: nil) }
                }
            }
            #expect(try await iam.store.signInRecord(user: "fay@example.com")?.failures == 4)
            try await iam.setPassword(user: "fay@example.com", password: "a long passphrase 42")
            _ = try await iam.enrolMFA(user: "fay@example.com")
            let device = try await iam.device(of: "fay@example.com")
            let now = Int64(Date().timeIntervalSince1970)
            try await iam.confirmMFA(user: "fay@example.com", code: device.code(at: now))
            let code = device.code(at: now + 30)
            let signIns = await withTaskGroup(of: Bool.self) { group in
                for node in iams + iams {
                    group.addTask {
                        (try? await node.login(user: "fay@example.com", password: "a long passphrase 42", code: code))
                            != nil
                    }
                }
                return await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(signIns.filter { $0 }.count == 1)
        }
    }
}

/// The earlier seed documents, as the store's upgrade path meets them.
enum IAMTestSeeds {
    static func earlier(_ name: String) -> String? {
        IAM.earlierSeeds.first { $0.0 == name }?.1
    }
}

extension IAM {
    /// The user's enrolled TOTP device, as their phone has it.
    func device(of user: String) async throws -> TOTP {
        let record = try await store.signInRecord(user: user)
        let sealed = try #require(record?.sealedMFASecret)
        return TOTP(secret: try IAMStoreConformanceTests.box.open(sealed, context: IAM.mfaContext(user)))
    }
}
