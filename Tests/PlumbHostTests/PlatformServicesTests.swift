import Foundation
import PlumbHost
import PlumbKit
import PlumbMetrics
import PlumbStore
import PlumbTesting
import Synchronization
import Testing

/// The platform a host is built with is what its plugins publish, audit, mail and seal through, and where async
/// events that fail for good are published.
@Suite struct PlatformServicesTests {
    /// Records what reaches the platform; `mail` and `publish` to `missing` fail as a server's would.
    final class RecordingPlatform: PlatformServices {
        struct Published: Equatable {
            var topic, subject, message: String
            var attributes: [String: String]
        }

        let published = Mutex<[Published]>([])
        let audited = Mutex<[AuditEvent]>([])
        let mailed = Mutex<[String]>([])
        let secrets = SecretBox(key: .init(size: .bits256))

        func publish(topic: String, subject: String, message: String, attributes: [String: String]) throws -> String {
            guard topic != "missing" else {
                throw FunctionError(status: 404, code: "NotFound", message: "no topic named '\(topic)'")
            }
            return published.withLock {
                $0.append(Published(topic: topic, subject: subject, message: message, attributes: attributes))
                return "m-\($0.count)"
            }
        }

        func audit(_ event: AuditEvent) { audited.withLock { $0.append(event) } }

        func sendEmail(to: String, subject: String, text: String) async throws {
            mailed.withLock { $0.append("\(to): \(subject)") }
        }

        func seal(_ text: String, context: String) throws -> String { try secrets.seal(text, context: context) }

        func unseal(_ sealed: String, context: String) throws -> String {
            try secrets.openText(sealed, context: context)
        }
    }

    /// Calls each host service once per invocation.
    struct PlatformProbe: Plugin {
        static let name = "platformprobe"

        init(context: PluginContext) async throws {}

        static let functions: [Function<PlatformProbe>] = [
            .http(.post, "/use", name: "use") { _, _, ctx in
                let host = ctx.plugin.host
                let id = try await host.publish(topic: "findings", subject: "s", message: "m", attributes: ["k": "v"])
                await host.audit(
                    action: "probe:Use", actor: "tester", resource: "r", source: "127.0.0.1", result: "success")
                try await host.sendEmail(to: "a@example.com", subject: "hello", text: "t")
                let sealed = try host.seal("seed", context: "totp")
                return try .json(["id": id, "sealed": sealed, "opened": try host.unseal(sealed, context: "totp")])
            },
            .http(.post, "/fail", name: "fail") { _, _, _ in FunctionResponse(status: 500, body: Array("down".utf8)) },
        ]
    }

    @Test func aPluginsHostServicesReachThePlatformTheHostWasBuiltWith() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let platform = RecordingPlatform()
        let host = PluginHost(dataDirectory: dir.path, factory: PlumbMetricsFactory(), platform: platform)
        try await host.load(PlatformProbe.self)
        let response = try await host.invoke(
            try #require(host.function(named: "platformprobe.use")), FunctionRequest(method: .post))
        let body = try #require(try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: String])
        #expect(body["id"] == "m-1")
        #expect(body["opened"] == "seed")
        #expect(body["sealed"]?.hasPrefix("enc:v1:") == true)
        // The host scopes sealed values to the plugin: they open under the plugin's context only.
        #expect(try platform.unseal(try #require(body["sealed"]), context: "plugins/platformprobe/totp") == "seed")
        #expect(
            platform.published.withLock { $0 } == [
                .init(topic: "findings", subject: "s", message: "m", attributes: ["k": "v"])
            ])
        #expect(
            platform.audited.withLock { $0 } == [
                AuditEvent(action: "probe:Use", actor: "tester", resource: "r", source: "127.0.0.1", result: "success")
            ])
        #expect(platform.mailed.withLock { $0 } == ["a@example.com: hello"])
    }

    @Test func anAsyncEventThatFailsForGoodIsPublishedToTheFunctionsOnFailureTopic() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let platform = RecordingPlatform()
        let host = PluginHost(dataDirectory: dir.path, factory: PlumbMetricsFactory(), platform: platform)
        try await host.load(PlatformProbe.self)
        let queue = try AsyncEventQueue(directory: dir.path, durability: .normal)
        let configs = [
            "platformprobe.fail": AsyncInvocationConfig(
                retry: .init(maximumRetryAttempts: 0), onFailure: "dead-letters")
        ]
        let dispatcher = AsyncDispatcher(
            queue: queue, host: host, configs: configs,
            failures: AsyncFailureDestination(platform: platform, configs: configs))
        let id = try queue.enqueue(function: "platformprobe.fail", payload: Array(#"{"n":1}"#.utf8), now: 0)
        try await dispatcher.runDue(now: 0)

        let published = try #require(platform.published.withLock { $0 }.first)
        #expect(published.topic == "dead-letters")
        #expect(published.subject == "Async event failed: platformprobe.fail")
        #expect(published.attributes == ["event": "async-failure"])
        let message = try #require(
            try JSONSerialization.jsonObject(with: Data(published.message.utf8)) as? [String: Any])
        #expect(message["eventId"] as? Int == Int(id))
        #expect(message["attempts"] as? Int == 1)
        #expect(message["payload"] as? String == #"{"n":1}"#)
        #expect((message["reason"] as? String)?.contains("status 500: down") == true)
    }
}
