import Foundation
import PlumbServerTesting
import PlumbTesting
import Testing

/// The examples in `examples/lambda/`, as a user runs them: the repository's own config, handlers, topics and
/// roles script, against a real `plumb serve` and the real `awslambdaric`, boto3 and aws CLI. Only the schedule
/// is quickened (`rate(1 minute)` for `rate(3 minutes)`) and webhooks added to the topics, to see what arrives.
@Suite("The Lambda examples")
struct LambdaExamplesTests {
    static let examples = Checkout.root + "/examples/lambda"

    @Test("the comment API over HTTP and the aws CLI, the scheduled digest, the findings handler and its failures")
    func examplesRun() async throws {
        let root = TemporaryDirectory("plumb-lambda-examples")
        defer { root.remove() }
        let hookLog = root.path + "/hook.jsonl"
        let hook = try await PeerProcess(
            script: "webhook_receiver.py", arguments: ["--log", hookLog], logDirectory: root.path)
        defer { hook.stop() }

        // The examples' own files, their paths made absolute; a webhook on each topic the handlers publish to.
        let config = try String(contentsOfFile: Self.examples + "/plumb.yaml", encoding: .utf8)
            .replacingOccurrences(of: "examples/lambda/alerts", with: root.path + "/alerts")
            .replacingOccurrences(of: "examples/lambda/", with: Self.examples + "/")
            .replacingOccurrences(of: "rate(3 minutes)", with: "rate(1 minute)")
        #expect(config.contains("rate(1 minute)") && config.contains(Self.examples + "/comments"))
        try config.write(toFile: root.path + "/plumb.yaml", atomically: true, encoding: .utf8)
        var topics = try String(contentsOfFile: Self.examples + "/alerts/topics.yaml", encoding: .utf8)
        for topic in ["comment-digest", "sensor-alerts", "findings-failed"] {
            let declared = "  - name: \(topic)\n"
            #expect(topics.contains(declared), "the examples declare \(topic)")
            topics = topics.replacingOccurrences(
                of: declared,
                with: declared
                    + "    subscriptions:\n      - {protocol: webhook, endpoint: \"http://127.0.0.1:\(hook.port)/\(topic)\"}\n"
            )
        }
        try FileManager.default.createDirectory(atPath: root.path + "/alerts", withIntermediateDirectories: true)
        try topics.write(toFile: root.path + "/alerts/topics.yaml", atomically: true, encoding: .utf8)

        let server = try ServerProcess(
            dataDirectory: root.path + "/data", extraArguments: ["--config", root.path + "/plumb.yaml"])
        defer { server.kill(signal: SIGKILL) }
        try await server.waitReady()
        let roles = try await CLI.runProgram(
            "/bin/bash",
            [Self.examples + "/roles.sh", "--server", server.baseURL, "--data", server.dataDirectory],
            environment: ["PLUMB": Checkout.plumbBinary])
        #expect(roles.status == 0, "\(roles.output)")
        let again = try await CLI.runProgram(
            "/bin/bash",
            [Self.examples + "/roles.sh", "--server", server.baseURL, "--data", server.dataDirectory],
            environment: ["PLUMB": Checkout.plumbBinary])
        #expect(again.status == 0 && again.output.contains("already there"), "run twice: \(again.output)")

        // The comment API over HTTP: scored by VADER, stored, listed; bad input answered in the handler's terms.
        var created: [[String: Any]] = []
        for text in ["I love this, great work!", "This is terrible and broken.", "The meeting is at noon."] {
            let (status, body) = try await HTTP.request(
                "POST", server.baseURL + "/apps/lambda/comments",
                body: Array(try JSONSerialization.data(withJSONObject: ["content": text])))
            #expect(status == 201, "\(String(decoding: body, as: UTF8.self)) \(server.log.suffix(1_500))")
            created.append((try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any]) ?? [:])
        }
        #expect(created.map { $0["label"] as? String } == ["Positive", "Negative", "Neutral"], "\(created)")
        let (badStatus, _) = try await HTTP.request(
            "POST", server.baseURL + "/apps/lambda/comments", body: Array(#"{"text": "no content"}"#.utf8))
        #expect(badStatus == 400)
        let (pageStatus, pageBody) = try await HTTP.request("GET", server.baseURL + "/apps/lambda/comments?limit=2")
        let page = (try? JSONSerialization.jsonObject(with: Data(pageBody)) as? [String: Any]) ?? [:]
        #expect(pageStatus == 200)
        #expect(
            (page["items"] as? [[String: Any]])?.map { $0["content"] as? String } == [
                "I love this, great work!", "This is terrible and broken.",
            ])
        #expect(page["next"] as? Int == created[1]["id"] as? Int, "\(page)")

        // The aws CLI's lambda invoke: the same functions with API Gateway's events, and an async event.
        let data = server.dataDirectory
        let cli = try await Python.peer(
            "lambda_examples.py", [server.baseURL, data + "/aws.credentials", data + "/aws.config"])
        func part(_ name: String) -> [String: Any] { cli[name] as? [String: Any] ?? [:] }
        #expect(part("create")["status"] as? Int == 0, "\(part("create"))")
        let viaCLI = part("create")["payload"] as? [String: Any] ?? [:]
        #expect(viaCLI["statusCode"] as? Int == 201, "\(viaCLI)")
        let listed = part("list")["payload"] as? [String: Any] ?? [:]
        let items =
            (try? JSONSerialization.jsonObject(with: Data((listed["body"] as? String ?? "").utf8))) as? [String: Any]
        #expect((items?["items"] as? [Any])?.count == 4, "three over HTTP, one through the CLI: \(listed)")
        #expect((part("event")["answer"] as? [String: Any])?["StatusCode"] as? Int == 202, "\(part("event"))")

        // The findings handler, subscribed to sensors-findings: a finding (as the sensors plugin publishes it)
        // becomes a CloudWatch datum through boto3 and, with z >= 4, an alert on sensor-alerts.
        let finding =
            #"{"detector": "pump-7", "kind": "rate-anomaly", "rate": 12.5, "z": 6.1, "findingId": 3, "#
            + #""windowStart": "2026-12-07T10:00:00Z", "windowEnd": "2026-12-07T10:01:00Z"}"#
        let (published, _) = try await HTTP.request(
            "POST", server.baseURL + "/api/v1/topics/sensors-findings/publish",
            body: Array(try JSONSerialization.data(withJSONObject: ["subject": "finding", "message": finding])),
            token: server.token)
        #expect(published == 200)

        func received() -> [[String: Any]] {
            let text = (try? String(contentsOfFile: hookLog, encoding: .utf8)) ?? ""
            return text.split(separator: "\n").compactMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }
        }
        func bodies(at path: String) -> [[String: Any]] {
            received().filter { $0["path"] as? String == path }.compactMap { $0["body"] as? [String: Any] }
        }
        let alert = try await waitFor("the alert on sensor-alerts", timeout: .seconds(60)) {
            bodies(at: "/sensor-alerts").first
        }
        #expect(alert["subject"] as? String == "Sensor pump-7: rate-anomaly", "\(alert)")
        #expect((alert["message"] as? String ?? "").contains("z = 6.1"), "\(alert)")
        try await waitUntil("the finding's datum in Sensors/Findings", timeout: .seconds(30)) {
            let (_, body) = try await HTTP.request(
                "GET", server.baseURL + "/api/v1/metrics?namespace=Sensors/Findings", token: server.token)
            return String(decoding: body, as: UTF8.self).contains("pump-7")
        }

        // The async event the CLI sent failed (no retries in the example's config) and reached findings-failed.
        let failed = try await waitFor("the failed event on findings-failed", timeout: .seconds(60)) {
            bodies(at: "/findings-failed").first
        }
        #expect((failed["message"] as? String ?? "").contains("not a finding"), "\(failed)")
        let (_, eventsBody) = try await HTTP.request(
            "GET", server.baseURL + "/api/v1/functions/findings/events?status=failed", token: server.token)
        #expect(String(decoding: eventsBody, as: UTF8.self).contains("ValueError"))

        // The digest, on its (quickened) schedule: CloudWatch read and SNS published through boto3 as the role
        // lambda-digest, counting the calls made above (four comments and a refused one) once their minute is in its window.
        let digest = try await waitFor("a digest counting the comments", timeout: .seconds(190)) {
            bodies(at: "/comment-digest").first {
                ($0["message"] as? String ?? "").contains("comments-create: 5 calls")
            }
        }
        #expect(digest["subject"] as? String == "Comment API digest", "\(digest)")
        #expect(
            (digest["attributes"] as? [String: Any])?["rule"] as? String
                == "arn:aws:events:us-east-1:000000000000:rule/plumb.digest", "\(digest)")
        #expect((digest["message"] as? String ?? "").contains("comments-list: 2 calls, 0 errors"), "\(digest)")
    }
}
