import Foundation
import PlumbAPI
import PlumbTesting
import Testing

/// Three `plumb serve` nodes sharing one PostgreSQL 15: one leader by the lease, every node seen by every other, alarm
/// ticks on the leader only; the leader SIGKILLed is replaced within seconds (measured), shown down, and the new
/// leader ticks; back, it rejoins as a follower.
@Suite("Cluster: nodes, the leader and takeover", .serialized)
struct ClusterTests {
    static func config(_ url: String, node: String) -> String {
        """
        storage:
          logs: postgres
          postgres:
            url: \(url)
            timeout: 3
        cluster:
          node: \(node)
        alerts: \(Checkout.root)/alerts
        """
    }

    /// How many alarm evaluations a node has run (its `Plumb/Alarms/AlarmsEvaluated` counter; 0 before the first).
    static func evaluations(_ server: ServerProcess) async throws -> Double {
        let (_, body) = try await HTTP.request("GET", server.baseURL + "/metrics")
        let line = String(decoding: body, as: UTF8.self).split(separator: "\n").first {
            $0.hasPrefix("plumb_alarms_alarms_evaluated_total ")
        }
        return line.flatMap { Double($0.split(separator: " ").last ?? "") } ?? 0
    }

    static func status(_ server: ServerProcess) async throws -> ClusterStatus? {
        guard
            let (code, body) = try? await HTTP.request(
                "GET", server.baseURL + "/api/v1/cluster", token: server.token),
            code == 200
        else { return nil }
        return try? JSONDecoder().decode(ClusterStatus.self, from: Data(body))
    }

    @Test("one leader among three; SIGKILL it and another leads within 15 s; restarted, it follows")
    func takeover() async throws {
        let root = TemporaryDirectory("plumb-cluster")
        defer { root.remove() }
        let postgres = try await PostgresProcess(directory: root.path + "/pg")
        defer { postgres.stop() }
        let names = ["node-a", "node-b", "node-c"]
        let directories = names.map { TemporaryDirectory("plumb-cluster-\($0)") }
        defer { for directory in directories { directory.remove() } }
        var servers: [String: ServerProcess] = [:]
        for (name, directory) in zip(names, directories) {
            servers[name] = try await ServerProcess.start(
                config: Self.config(postgres.url, node: name), in: directory)
        }
        defer { for server in servers.values { server.kill(signal: SIGKILL) } }

        // Every node sees all three alive and names the same leader.
        let settled = try await waitFor("three nodes alive and one leader", timeout: .seconds(60)) {
            () async throws -> ClusterStatus? in
            var answers: [ClusterStatus] = []
            for name in names {
                guard let status = try await Self.status(servers[name]!) else { return nil }
                answers.append(status)
            }
            let agreed = Set(answers.compactMap(\.leader))
            // Ready comes with the heartbeat after the listener is up (at most 2 s later).
            guard
                answers.allSatisfy({
                    $0.nodes.count == 3 && $0.nodes.allSatisfy { $0.alive && $0.ready } && $0.leader != nil
                }),
                agreed.count == 1
            else { return nil }
            return answers[0]
        }
        #expect(settled.clustered)
        #expect(settled.nodes.filter(\.leader).count == 1)
        #expect(settled.nodes.allSatisfy { $0.version == PlumbVersion.current })
        let leader = try #require(settled.leader)

        // Alarms are evaluated by the leader alone (the shipped alert files, the same on every node): one
        // notification per transition, not one per node.
        try await waitUntil("the leader's first alarm tick", timeout: .seconds(40)) {
            try await Self.evaluations(servers[leader]!) > 0
        }
        for name in names where name != leader {
            #expect(try await Self.evaluations(servers[name]!) == 0, "\(name) evaluated alarms as a follower")
        }

        // The CLI shows the same.
        let cli = try await CLI.run([
            "cluster", "status", "--server", servers[leader]!.baseURL, "--token", servers[leader]!.token,
        ])
        #expect(cli.status == 0, "\(cli.output)")
        #expect(cli.output.contains("3 of 3 nodes alive; leader: \(leader)"), "\(cli.output)")

        // The leader dies without a word.
        let killed = ContinuousClock.now
        servers[leader]!.kill(signal: SIGKILL)
        let survivor = servers[names.first { $0 != leader }!]!
        let next = try await waitFor("a new leader", timeout: .seconds(30), every: .milliseconds(100)) {
            () async throws -> String? in
            guard let status = try await Self.status(survivor), let new = status.leader, new != leader else {
                return nil
            }
            return new
        }
        let takeover = ContinuousClock.now - killed
        print("cluster: \(next) leads \(takeover) after \(leader) was killed")
        #expect(takeover < .seconds(15), "takeover took \(takeover)")
        let afterKill = try await waitFor("the killed node shown down", timeout: .seconds(30)) {
            () async throws -> ClusterStatus? in
            guard let status = try await Self.status(survivor),
                status.nodes.first(where: { $0.name == leader })?.alive == false
            else { return nil }
            return status
        }
        #expect(afterKill.nodes.filter(\.leader).map(\.name) == [next])
        // The new leader took the alarm ticks over.
        try await waitUntil("the new leader's first alarm tick", timeout: .seconds(40)) {
            try await Self.evaluations(servers[next]!) > 0
        }

        // Back on its data directory: it rejoins, alive, and follows.
        let index = names.firstIndex(of: leader)!
        servers[leader] = try await ServerProcess.start(
            config: Self.config(postgres.url, node: leader), in: directories[index])
        let rejoined = try await waitFor("the restarted node alive again", timeout: .seconds(60)) {
            () async throws -> ClusterStatus? in
            guard let status = try await Self.status(servers[leader]!),
                status.nodes.count == 3, status.nodes.allSatisfy(\.alive)
            else { return nil }
            return status
        }
        #expect(rejoined.leader == next, "the lease stays where it is: \(rejoined)")
        #expect(rejoined.nodes.first { $0.name == leader }?.leader == false)
        // The node that never led has ticked no alarm in the whole run (three or more tick boundaries).
        let neverLed = try #require(names.first { $0 != leader && $0 != next })
        #expect(try await Self.evaluations(servers[neverLed]!) == 0, "\(neverLed) evaluated alarms as a follower")
    }

    @Test("a second node with the name of a live one is refused at start, naming it")
    func nameTaken() async throws {
        let root = TemporaryDirectory("plumb-cluster-name")
        defer { root.remove() }
        let postgres = try await PostgresProcess(directory: root.path + "/pg")
        defer { postgres.stop() }
        let first = try await ServerProcess.start(
            config: Self.config(postgres.url, node: "same"), in: .scratch("plumb-cluster-same-1"))
        defer { first.kill(signal: SIGKILL) }
        try await waitUntil("the first node's heartbeat", timeout: .seconds(30)) {
            try await Self.status(first)?.nodes.map(\.name) == ["same"]
        }
        let second = try await ServerProcess.start(
            config: Self.config(postgres.url, node: "same"), in: .scratch("plumb-cluster-same-2"), ready: false)
        defer { second.kill(signal: SIGKILL) }
        #expect(try await second.waitExit(timeout: .seconds(60)), "still running")
        #expect(second.log.contains("another node named 'same' is alive"), "\(second.log)")
        #expect(try await Self.status(first)?.nodes.count == 1)
    }

    @Test("a server on the embedded stores is a cluster of one")
    func single() async throws {
        let root = TemporaryDirectory("plumb-cluster-single")
        defer { root.remove() }
        let server = try await ServerProcess.start(config: "alerts: ./no-alerts\n", in: root)
        defer { server.kill(signal: SIGKILL) }
        let status = try #require(try await Self.status(server))
        #expect(!status.clustered && status.nodes.count == 1 && status.leader == status.node)
        let cli = try await CLI.run(["cluster", "status", "--server", server.baseURL, "--token", server.token])
        #expect(cli.output.contains("not clustered"), "\(cli.output)")
    }
}
