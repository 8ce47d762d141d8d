import Foundation
import PlumbPostgres
import PlumbTesting
import Testing

/// The leader lease against a real PostgreSQL 15 on loopback: one leader among contenders, a leader that loses its
/// session stops leading at once and another takes over, wrong credentials never lead.
@Suite("Leader lease", .serialized)
struct LeaderLeaseClusterTests {
    static func lease(_ postgres: PostgresProcess, node: String, password: String? = nil) throws -> LeaderLease {
        var settings = try PostgresSettings(url: postgres.url, password: password)
        // Generous: a loaded two-core CI machine runs many suites at once (a dead server is still found).
        settings.timeout = .seconds(10)
        return LeaderLease(
            settings: settings, node: node, retryInterval: .milliseconds(200), checkInterval: .milliseconds(200))
    }

    @Test("one of three contenders leads; killing its session hands the lease to another within seconds")
    func takeover() async throws {
        let dir = TemporaryDirectory("plumb-lease")
        defer { dir.remove() }
        let postgres = try await PostgresProcess(directory: dir.path + "/pg")
        defer { postgres.stop() }
        let leases = try ["a", "b", "c"].map { try Self.lease(postgres, node: $0) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for lease in leases { group.addTask { try await lease.run() } }
            defer { group.cancelAll() }
            let first = try await waitFor("a leader", timeout: .seconds(90), every: .milliseconds(50)) {
                leases.first(where: \.isLeader)
            }
            // Stays one: the others keep asking and keep being refused.
            for _ in 0..<20 {
                #expect(leases.filter(\.isLeader).count == 1)
                try await Task.sleep(for: .milliseconds(100))
            }
            // An operator (or a network fault) ends the leader's session.
            let killed = ContinuousClock.now
            let terminated = try await postgres.psql(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_locks WHERE locktype = 'advisory' AND granted")
            #expect(terminated == "1")
            try await waitUntil("the old leader to step down", timeout: .seconds(60), every: .milliseconds(20)) {
                !first.isLeader
            }
            let steppedDown = ContinuousClock.now - killed
            let next = try await waitFor("a new leader", timeout: .seconds(60), every: .milliseconds(20)) {
                leases.first(where: \.isLeader)
            }
            let takeover = ContinuousClock.now - killed
            print(
                "lease: the old leader stepped down \(steppedDown) after its session ended; a new one led after \(takeover)"
            )
            #expect(leases.filter(\.isLeader).count == 1)
            #expect(next.node != first.node || next === first, "\(next.node)")
        }
    }

    @Test("a leader whose PostgreSQL shuts down stops leading; wrong credentials never lead")
    func lostServerAndWrongPassword() async throws {
        let dir = TemporaryDirectory("plumb-lease-lost")
        defer { dir.remove() }
        let postgres = try await PostgresProcess(directory: dir.path + "/pg")
        defer { postgres.stop() }
        let good = try Self.lease(postgres, node: "good")
        let wrong = try Self.lease(postgres, node: "wrong", password: "not-the-password")
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await wrong.run() }
            group.addTask { try await good.run() }
            defer { group.cancelAll() }
            try await waitUntil("the good node to lead", timeout: .seconds(90), every: .milliseconds(50)) {
                good.isLeader
            }
            try await Task.sleep(for: .seconds(1))
            #expect(!wrong.isLeader)
            postgres.stop(signal: SIGINT)  // fast shutdown: every session is ended
            try await waitUntil("the leader to step down", timeout: .seconds(60), every: .milliseconds(20)) {
                !good.isLeader
            }
        }
    }

    @Test("a leader whose session stops answering (its backend frozen) steps down after its check times out")
    func frozenSession() async throws {
        let dir = TemporaryDirectory("plumb-lease-frozen")
        defer { dir.remove() }
        let postgres = try await PostgresProcess(directory: dir.path + "/pg")
        defer { postgres.stop() }
        func lease(_ node: String) throws -> LeaderLease {
            var settings = try PostgresSettings(url: postgres.url)
            settings.timeout = .seconds(3)
            return LeaderLease(
                settings: settings, node: node, retryInterval: .milliseconds(200), checkInterval: .milliseconds(200))
        }
        let leases = try [lease("x"), lease("y")]
        try await withThrowingTaskGroup(of: Void.self) { group in
            for lease in leases { group.addTask { try await lease.run() } }
            defer { group.cancelAll() }
            let leader = try await waitFor("a leader", timeout: .seconds(90), every: .milliseconds(50)) {
                leases.first(where: \.isLeader)
            }
            let backend = try #require(
                Int32(try await postgres.psql("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted")))
            // The session's backend stops answering: its connection stays open, its queries never return.
            kill(backend, SIGSTOP)
            let frozen = ContinuousClock.now
            try await waitUntil("the leader to step down", timeout: .seconds(60), every: .milliseconds(20)) {
                !leader.isLeader
            }
            print(
                "lease: a leader whose session froze stepped down after \(ContinuousClock.now - frozen) (check timeout 3 s)"
            )
            // While the frozen session still holds the lock, nobody leads.
            #expect(leases.allSatisfy { !$0.isLeader })
            kill(backend, SIGCONT)
            _ = try await postgres.psql("SELECT pg_terminate_backend(\(backend))")
            try await waitUntil("one leader again", timeout: .seconds(60), every: .milliseconds(20)) {
                leases.filter(\.isLeader).count == 1
            }
        }
    }

    @Test("settings come from a postgres:// URL; every bad one says what is wrong, never the password")
    func settings() throws {
        let s = try PostgresSettings(url: "postgres://plumb:s%40cret@db.example:6543/plumbdb?sslmode=require")
        #expect(s.host == "db.example" && s.port == 6543 && s.username == "plumb" && s.password == "s@cret")
        #expect(s.database == "plumbdb" && s.sslMode == .require)
        #expect(!s.description.contains("cret"))
        let d = try PostgresSettings(url: "postgresql://me@localhost")
        #expect(d.port == 5432 && d.database == "me" && d.sslMode == .prefer && d.password == nil)
        #expect(try PostgresSettings(url: "postgres://me:x@h/db", password: "env").password == "env")
        for (url, problem) in [
            ("mysql://me@h/db", "postgres://"), ("postgres:///db", "host"), ("postgres://h/db", "user"),
            ("postgres://me@h/db?sslmode=maybe", "sslmode"), ("postgres://me@h/db?pool=3", "unknown URL parameter"),
            ("postgres://me@h:70000/db", "port"),
        ] {
            #expect(throws: PostgresSettingsError.self, "\(url)") { try PostgresSettings(url: url) }
            do { _ = try PostgresSettings(url: url) } catch {
                #expect("\(error)".contains(problem), "\(url): \(error)")
            }
        }
    }
}
