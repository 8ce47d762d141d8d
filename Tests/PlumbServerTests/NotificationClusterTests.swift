import Foundation
import PlumbAPI
import PlumbTesting
import Synchronization
import Testing

/// Alarms and notifications across three `plumb serve` nodes behind nginx (the shipped `deploy/cluster/nginx.conf`),
/// sharing VictoriaMetrics (metrics) and PostgreSQL (`storage.state` and `storage.logs`), with a real webhook
/// receiver and a real SMTP server (aiosmtpd). An alarm from the alert files and one made through the balancer both
/// breach on samples written through the balancer; the leader is SIGKILLed while they are in ALARM; the new leader
/// keeps their state and notifies only their next change. Every transition reaches the webhook and the mailbox once,
/// under the message id the alarm's history recorded.
@Suite("Alarms and notifications across a cluster", .serialized)
struct NotificationClusterTests {
    static let token = "cluster-admin-" + UUID().uuidString.lowercased()
    static let hookSecret = "cluster-hook-secret-0123456789"
    /// One secrets key for every node, as a cluster needs (a webhook secret sealed by one node opens on the others).
    static let secretsKey = Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()

    static func config(
        postgres: String, victoriaMetrics: String, node: String, port: Int, alerts: String, smtp: Int
    ) -> String {
        """
        admin_token_env: PLUMB_TEST_CLUSTER_TOKEN
        secrets_key_env: PLUMB_TEST_SECRETS_KEY
        storage:
          metrics: victoriametrics
          victoriametrics:
            url: \(victoriaMetrics)
          logs: postgres
          state: postgres
          postgres:
            url: \(postgres)
            timeout: 5
        cluster:
          node: \(node)
          url: http://127.0.0.1:\(port)
        alerts: \(alerts)
        smtp: {host: 127.0.0.1, port: \(smtp), starttls: never, from: plumb@example.com}
        """
    }

    static let environment = [
        "PLUMB_TEST_CLUSTER_TOKEN": token, "PLUMB_TEST_SECRETS_KEY": secretsKey, "CLUSTER_HOOK_SECRET": hookSecret,
    ]

    /// An alarm's state through `base`, or nil.
    static func state(_ base: String, _ alarm: String) async -> String? {
        guard let (code, body) = try? await HTTP.request("GET", base + "/api/v1/alarms/\(alarm)", token: token),
            code == 200
        else { return nil }
        return json(body)["state"] as? String
    }

    static func status(_ base: String) async -> ClusterStatus? {
        guard let (code, body) = try? await HTTP.request("GET", base + "/api/v1/cluster", token: token), code == 200
        else { return nil }
        return try? JSONDecoder().decode(ClusterStatus.self, from: Data(body))
    }

    /// Writes the breaching sample (`Hits` 10 at this second) through the balancer every second while `on`.
    final class Breach: Sendable {
        let on = Atomic<Bool>(true)
        let acknowledged = Atomic<Int>(0)
    }

    @Test("each transition notifies once by webhook and mail, across the leader's SIGKILL and its return")
    func alarmsAcrossTakeover() async throws {
        let root = TemporaryDirectory("plumb-notify-cluster")
        defer { root.remove() }
        let postgres = try await PostgresProcess(directory: root.path + "/pg")
        defer { postgres.stop() }
        let victoriaMetrics = try await VictoriaMetricsProcess(directory: root.path + "/vm")
        defer { victoriaMetrics.stop() }
        let smtp = try await PeerProcess(
            script: "smtp_sink.py", arguments: ["--outdir", root.path + "/mail"], logDirectory: root.path)
        defer { smtp.stop() }
        let hookLog = root.path + "/hook.jsonl"
        let hook = try await PeerProcess(
            script: "webhook_receiver.py", arguments: ["--log", hookLog, "--secret", Self.hookSecret],
            logDirectory: root.path)
        defer { hook.stop() }
        // The same alert files on every node, as the README asks of a cluster.
        try AlarmNotificationTests.write(
            """
            topics:
              - name: ops
                subscriptions:
                  - {protocol: email, endpoint: oncall@example.com}
                  - {protocol: webhook, endpoint: "http://127.0.0.1:\(hook.port)/hook", secret_env: CLUSTER_HOOK_SECRET}
            alarms:
              - name: file-hits
                namespace: App
                metric: Hits
                dimensions: {Host: lb}
                statistic: Maximum
                period: 10
                evaluation_periods: 1
                comparison: GreaterThanThreshold
                threshold: 5
                treat_missing_data: notBreaching
                alarm_actions: [ops]
                ok_actions: [ops]
            """, to: root.path + "/alerts/cluster.yaml")

        let names = ["web-1", "web-2", "web-3"]
        let directories = names.map { TemporaryDirectory("plumb-notify-\($0)") }
        defer { for directory in directories { directory.remove() } }
        let ports = names.map { _ in ServerProcess.freePort() }
        func start(_ i: Int) async throws -> ServerProcess {
            try await ServerProcess.start(
                config: Self.config(
                    postgres: postgres.url, victoriaMetrics: victoriaMetrics.baseURL, node: names[i], port: ports[i],
                    alerts: root.path + "/alerts", smtp: smtp.port),
                in: directories[i], port: ports[i], environment: Self.environment)
        }
        var nodes: [ServerProcess] = []
        defer { for node in nodes where node.process.isRunning { node.kill(signal: SIGKILL) } }
        for i in 0..<3 { nodes.append(try await start(i)) }
        let nginx = try await NginxProcess(
            configuration: String(contentsOfFile: Checkout.root + "/deploy/cluster/nginx.conf", encoding: .utf8),
            upstreams: ports.map { "127.0.0.1:\($0)" }, directory: root.path + "/nginx")
        defer { nginx.stop() }
        let base = nginx.baseURL
        let settled = try await waitFor("three nodes alive and one leader", timeout: .seconds(60)) {
            () async throws -> ClusterStatus? in
            guard let status = await Self.status(base), status.nodes.filter(\.alive).count == 3, status.leader != nil
            else { return nil }
            return status
        }
        let leader = try #require(settled.leader)
        print("notification cluster: settled, leader \(leader)")

        // An alarm made through the balancer, on whichever node nginx picks, shows on every node.
        let document =
            #"{"namespace": "App", "metric": "Hits", "dimensions": {"Host": "lb"}, "statistic": "Maximum", "period": 10, "evaluation_periods": 1, "comparison": "GreaterThanThreshold", "threshold": 3, "treat_missing_data": "notBreaching", "alarm_actions": ["ops"], "ok_actions": ["ops"]}"#
        let (created, createdBody) = try await HTTP.request(
            "PUT", base + "/api/v1/alarms/api-hits", body: Array(document.utf8), token: Self.token)
        #expect(created == 201, "\(String(decoding: createdBody, as: UTF8.self))")
        try await waitUntil("api-hits on every node", timeout: .seconds(10), every: .milliseconds(100)) {
            for node in nodes where await Self.state(node.baseURL, "api-hits") == nil { return false }
            return true
        }
        let alarms = ["file-hits", "api-hits"]
        print("notification cluster: api-hits everywhere")

        // Breaching samples through the balancer, every second.
        let breach = Breach()
        // On a socket of its own: swift-corelibs-foundation's URLSession crashes when requests from two tasks overlap.
        let balancerPort = nginx.port
        let writer = Task {
            while breach.on.load(ordering: .relaxed) {
                let now = Int64(Date().timeIntervalSince1970)
                let body = "App,Host=lb Hits=10 \(now)"
                let request =
                    "POST /write?precision=s&resolution=1 HTTP/1.1\r\nHost: plumb\r\nAuthorization: Bearer \(Self.token)\r\n"
                    + "Content-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
                let status = try? await offThePool("breach writer") { () -> Int? in
                    let connection = try RawConnection(port: balancerPort)
                    defer { connection.close() }
                    guard connection.send(request) else { return nil }
                    return connection.readResponse(timeout: .seconds(10))?.status
                }
                if status == 204 { breach.acknowledged.add(1, ordering: .relaxed) }
                try? await Task.sleep(for: .seconds(1))
            }
        }
        defer { writer.cancel() }
        do {
            try await waitUntil("both alarms in ALARM", timeout: .seconds(60), every: .milliseconds(250)) {
                for alarm in alarms where await Self.state(base, alarm) != "ALARM" { return false }
                return true
            }
        } catch {
            for alarm in alarms {
                let answer = try? await HTTP.request("GET", base + "/api/v1/alarms/\(alarm)", token: Self.token)
                print("\(alarm): \(String(decoding: answer?.1 ?? [], as: UTF8.self))")
            }
            print("acknowledged writes: \(breach.acknowledged.load(ordering: .relaxed))")
            print(nodes[0].log.suffix(3_000))
            throw error
        }

        print("notification cluster: both in ALARM")
        // Their notifications out first (a delivery claimed by a node that dies is sent again once its claim
        // lapses, after 2 minutes, under the same message id: the receiver's de-duplication case, not this test's).
        try await waitUntil("the ALARM notifications delivered", timeout: .seconds(30), every: .milliseconds(250)) {
            let hooks = PeerRecords.jsonLines(hookLog)
            let mails = PeerRecords.jsonFiles(root.path + "/mail")
            return hooks.count >= 2 && mails.count >= 2
        }
        // The leader dies without a word while both alarms are in ALARM.
        let leaderIndex = try #require(names.firstIndex(of: leader))
        let killed = ContinuousClock.now
        nodes[leaderIndex].kill(signal: SIGKILL)
        let survivor = nodes[(leaderIndex + 1) % 3]
        let next = try await waitFor("a new leader", timeout: .seconds(30), every: .milliseconds(100)) {
            () async throws -> String? in
            guard let status = await Self.status(survivor.baseURL), let new = status.leader, new != leader else {
                return nil
            }
            return new
        }
        let takeover = ContinuousClock.now - killed
        print("notification cluster: \(next) leads \(takeover) after \(leader) was killed")
        #expect(takeover < .seconds(15), "takeover took \(takeover)")
        // Two more tick boundaries under the new leader with the breach going on: the state stays, nothing is sent.
        try await Task.sleep(for: .seconds(22))
        for alarm in alarms { #expect(await Self.state(base, alarm) == "ALARM", "\(alarm) after the takeover") }

        // The breach ends: the new leader moves both alarms to OK, once.
        breach.on.store(false, ordering: .relaxed)
        await writer.value
        try await waitUntil("both alarms back to OK", timeout: .seconds(60), every: .milliseconds(250)) {
            for alarm in alarms where await Self.state(base, alarm) != "OK" { return false }
            return true
        }

        // Back on its data directory, the killed node rejoins and follows.
        nodes[leaderIndex] = try await start(leaderIndex)
        let rejoined = try await waitFor("the restarted node alive again", timeout: .seconds(60)) {
            () async throws -> ClusterStatus? in
            guard let status = await Self.status(nodes[leaderIndex].baseURL),
                status.nodes.filter(\.alive).count == 3
            else { return nil }
            return status
        }
        #expect(rejoined.leader == next && rejoined.nodes.first { $0.name == leader }?.leader == false)
        #expect(await Self.state(nodes[leaderIndex].baseURL, "api-hits") == "OK", "the restarted node reads the states")

        // What each alarm's history says it published, and what arrived.
        var published: [String: (alarm: String, state: String)] = [:]
        var sequence: [String: [String]] = [:]
        for alarm in alarms {
            let (_, body) = try await HTTP.request(
                "GET", base + "/api/v1/alarms/\(alarm)/history?limit=1000", token: Self.token)
            let history = try JSONDecoder().decode(AlarmHistoryResponse.self, from: Data(body)).history.reversed()
            for item in history where item.type == "StateUpdate" {
                let state = item.summary.components(separatedBy: " to ").last ?? ""
                sequence[alarm, default: []].append(state)
            }
            for item in history where item.type == "Action" {
                #expect(item.summary.hasPrefix("Successfully executed action ops"), "\(item.summary)")
                let id = try #require(item.data.flatMap { json($0)["messageId"] as? String })
                published[id] = (alarm, "")
            }
        }
        for alarm in alarms {
            // INSUFFICIENT_DATA → (OK →) ALARM → OK: ALARM once, OK last, no state twice in a row.
            let states = sequence[alarm] ?? []
            #expect(states.filter { $0 == "ALARM" }.count == 1 && states.last == "OK", "\(alarm): \(states)")
            #expect(zip(states, states.dropFirst()).allSatisfy { $0 != $1 }, "\(alarm): \(states)")
        }
        let expected = Set(published.keys)
        let transitions = sequence.values.reduce(0) { $0 + $1.count }
        #expect(expected.count == transitions, "one notification per transition: \(expected.count) for \(transitions)")
        try await waitUntil("every notification at the webhook and in the mailbox", timeout: .seconds(150)) {
            let hooks = Set(PeerRecords.jsonLines(hookLog).compactMap { $0["header_message_id"] as? String })
            let mails = Set(
                PeerRecords.jsonFiles(root.path + "/mail").compactMap { $0["x_plumb_message_id"] as? String })
            return hooks.isSuperset(of: expected) && mails.isSuperset(of: expected)
        }
        let hooks = PeerRecords.jsonLines(hookLog)
        let hookIDs = hooks.compactMap { $0["header_message_id"] as? String }
        let mailIDs = PeerRecords.jsonFiles(root.path + "/mail").compactMap { $0["x_plumb_message_id"] as? String }
        #expect(hookIDs.sorted() == expected.sorted(), "webhook: each message once, nothing else")
        #expect(mailIDs.sorted() == expected.sorted(), "mail: each message once, nothing else")
        #expect(hooks.allSatisfy { $0["signature_valid"] as? Bool == true }, "signed with the shared secret")
        print(
            "notification cluster: \(breach.acknowledged.load(ordering: .relaxed)) breaching writes, \(transitions) transitions, \(expected.count) notifications, each once by webhook and once by mail"
        )
    }
}
