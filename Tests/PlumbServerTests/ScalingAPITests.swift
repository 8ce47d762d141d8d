import Foundation
import HummingbirdTesting
import PlumbHost
import PlumbPluginTesting
import PlumbServer
import PlumbServerTesting
import PlumbTesting
import Testing

/// Provisioned concurrency and the autoscaler through the API, the config file, the CLI and `/plumb/scaling`.
@Suite("Scaling API", .serialized)
struct ScalingAPITests {
    static func decode(_ yaml: String) throws -> ServerConfig {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        try yaml.write(toFile: dir.path + "/plumb.yaml", atomically: true, encoding: .utf8)
        return try ServerConfig.load(path: dir.path + "/plumb.yaml")
    }

    @Test("PUT concurrency takes provisioned; its limits and errors; describe shows instances and autoscaler settings")
    func provisionedThroughTheAPI() async throws {
        try await withTestServer(plugins: [ColdProbePlugin.self]) { server, client in
            let path = "/api/v1/functions/coldprobe.work"
            let set = try await client.admin(
                path + "/concurrency", method: .put, body: #"{"provisioned": 3}"#, server: server)
            #expect(set.status == .ok, "\(set.text)")
            #expect(set.json["provisionedConcurrency"] as? Int == 3)
            #expect(set.json["provisionedInstances"] as? Int == 3)
            #expect(set.json["instances"] as? Int == 3)

            let below = try await client.admin(
                path + "/concurrency", method: .put, body: #"{"reserved": 2}"#, server: server)
            #expect(below.status == .badRequest)
            #expect(
                ((below.json["error"] as? [String: Any])?["message"] as? String)?.contains(
                    "below the provisioned concurrency 3") == true, "\(below.text)")
            let both = try await client.admin(
                path + "/concurrency", method: .put, body: #"{"reserved": 5, "provisioned": 5}"#, server: server)
            #expect(both.status == .ok, "\(both.text)")
            #expect(both.json["reservedConcurrency"] as? Int == 5 && both.json["provisionedConcurrency"] as? Int == 5)
            let over = try await client.admin(
                path + "/concurrency", method: .put, body: #"{"provisioned": 6}"#, server: server)
            #expect(over.status == .badRequest, "\(over.text)")
            let lowerBoth = try await client.admin(
                path + "/concurrency", method: .put, body: #"{"reserved": 1, "provisioned": 1}"#, server: server)
            #expect(lowerBoth.status == .ok, "lowering both unprovisions first: \(lowerBoth.text)")
            for body in [
                #"{}"#, #"{"provisioned": -1}"#, #"{"provisioned": "two"}"#, #"{"reserved": 1.5}"#, "not json",
            ] {
                let bad = try await client.admin(path + "/concurrency", method: .put, body: body, server: server)
                #expect(bad.status == .badRequest, "\(body) → \(bad.status)")
            }

            let described = try await client.admin(path, server: server)
            let autoscaling = try #require(described.json["autoscaling"] as? [String: Any])
            #expect(autoscaling["enabled"] as? Bool == true)
            #expect(autoscaling["targetUtilization"] as? Double == 0.7)
            #expect(autoscaling["stableWindowSeconds"] as? Double == 60)
            #expect(autoscaling["panicWindowSeconds"] as? Double == 6)
            #expect(autoscaling["maxScaleUpPer10s"] as? Int == 1_000)
            #expect(autoscaling["minInstances"] as? Int == 1, "the provisioned instance is the floor")
            #expect(autoscaling["maxInstances"] as? Int == 1, "reserved 1")
            #expect(described.json["maxConcurrencyPerInstance"] as? Int == 1)
            #expect(described.json["reportLog"] as? String == "cold-starts")
            #expect(described.json["memoryMB"] as? Int == 128)
        }
    }

    @Test(
        "per-function config: autoscaler parameters, per-instance concurrency, provisioned at start; bad values refused"
    )
    func config() async throws {
        let yaml = """
            functions:
              coldprobe.hold:
                provisioned: 2
                max_concurrency_per_instance: 8
                report_log: all
                memory_mb: 2048
                autoscaling:
                  target_utilization: 0.5
                  stable_window: 30
                  panic_window: 3
                  scale_to_zero_grace: 0
                  min_instances: 1
              coldprobe.work:
                autoscaling: {enabled: false}
            """
        let config = try Self.decode(yaml)
        let configure: (inout ServerConfig) -> Void = { $0.functions = config.functions }
        try await withTestServer(plugins: [ColdProbePlugin.self], configure: configure) {
            server, client in
            let hold = try await client.admin("/api/v1/functions/coldprobe.hold", server: server)
            #expect(
                hold.json["provisionedInstances"] as? Int == 1, "2 provisioned slots at 8 per instance = 1 instance")
            #expect(hold.json["maxConcurrencyPerInstance"] as? Int == 8)
            #expect(hold.json["memoryMB"] as? Int == 2_048)
            #expect(hold.json["reportLog"] as? String == "all")
            let a = try #require(hold.json["autoscaling"] as? [String: Any])
            #expect(a["targetUtilization"] as? Double == 0.5)
            #expect(a["stableWindowSeconds"] as? Double == 30)
            #expect(a["panicWindowSeconds"] as? Double == 3)
            #expect(a["scaleToZeroGraceSeconds"] as? Double == 0)
            let work = try await client.admin("/api/v1/functions/coldprobe.work", server: server)
            #expect((work.json["autoscaling"] as? [String: Any])?["enabled"] as? Bool == false)
        }
        for (bad, says) in [
            ("report_log: sometimes", "report_log must be one of"),
            ("max_concurrency_per_instance: 0", "max_concurrency_per_instance"),
            ("provisioned: -1", "provisioned must be"),
            ("memory_mb: 64", "memory_mb must be from 128 to 10240"),
            ("memory_mb: 10241", "memory_mb must be from 128 to 10240"),
            ("autoscaling: {target_utilization: 1.5}", "target_utilization"),
            ("autoscaling: {stable_window: 10, panic_window: 20}", "panic_window"),
            ("autoscaling: {max_scale_down_factor: 0.5}", "max_scale_down_factor"),
        ] {
            #expect(throws: (any Error).self, "\(bad)") {
                try Self.decode("functions:\n  coldprobe.work:\n    \(bad)\n")
            }
            do { _ = try Self.decode("functions:\n  coldprobe.work:\n    \(bad)\n") } catch {
                #expect("\(error)".contains(says), "\(bad) → \(error)")
            }
        }
    }

    @Test("GET scaling shows the pool and the activities, newest first")
    func scalingActivitiesInTheAPI() async throws {
        let configure: (inout ServerConfig) -> Void = {
            var settings = ServerConfig.FunctionSettings()
            settings.options.scaling.scaleToZeroGrace = 0
            $0.functions["coldprobe.work"] = settings
        }
        try await withTestServer(
            plugins: [ColdProbePlugin.self],
            configure: configure
        ) { server, client in
            // The instance warmed at start has no demand and no grace: the first decision reclaims it.
            var now = Date().timeIntervalSince1970.rounded(.down)
            for _ in 0..<4 {
                now += 1
                server.host.scalingStep(now: now, decide: Int(now) % 2 == 0)
            }
            let scaling = try await client.admin("/api/v1/functions/coldprobe.work/scaling", server: server)
            #expect(scaling.status == .ok, "\(scaling.text)")
            #expect(scaling.json["instances"] as? Int == 0)
            let activities = try #require(scaling.json["activities"] as? [[String: Any]])
            #expect(activities.count == 1)
            #expect(activities.first?["from"] as? Int == 1 && activities.first?["to"] as? Int == 0)
            #expect(
                (activities.first?["reason"] as? String)?.hasPrefix("stable: 0.0 in flight") == true, "\(activities)")
            #expect((activities.first?["time"] as? String)?.hasSuffix("Z") == true)
            #expect(
                try await client.admin("/api/v1/functions/coldprobe.work/scaling?limit=0", server: server).status
                    == .badRequest)
            #expect(try await client.admin("/api/v1/functions/nope.x/scaling", server: server).status.code == 404)
        }
    }

    @Test("a real server writes its scaling activities to /plumb/scaling; plumb functions scaling shows them")
    func scalingLogGroupAndCLI() async throws {
        let root = TemporaryDirectory("plumb-scaling")
        defer { root.remove() }
        let config = root.path + "/plumb.yaml"
        try "functions:\n  sentiment.list:\n    autoscaling: {scale_to_zero_grace: 0}\n".write(
            toFile: config, atomically: true, encoding: .utf8)
        let server = try ServerProcess(dataDirectory: root.path + "/data", extraArguments: ["--config", config])
        defer { server.kill(signal: SIGKILL) }
        try await server.waitReady()
        var found = ""
        for _ in 0..<50 {
            let (_, body) = try await HTTP.request(
                "GET", server.baseURL + "/api/v1/logs/%2Fplumb%2Fscaling?limit=10", token: server.token)
            found = String(decoding: body, as: UTF8.self)
            if found.contains("sentiment.list: 1 → 0 instances") { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(found.contains("sentiment.list: 1 → 0 instances"), "\(found)\n\(server.log.suffix(2_000))")
        #expect(found.contains(#"\"function\":\"sentiment.list\""#), "metadata for filter patterns: \(found)")

        let cli = try await CLI.run([
            "functions", "scaling", "sentiment.list", "--server", server.baseURL, "--token", server.token,
        ])
        #expect(cli.status == 0, "\(cli.output)")
        #expect(cli.output.contains("sentiment.list: 0 instances"), "\(cli.output)")
        #expect(cli.output.contains("stable: 0.0 in flight"), "\(cli.output)")
        let set = try await CLI.run([
            "functions", "set-concurrency", "sentiment.classify", "--provisioned", "2", "--server", server.baseURL,
            "--token", server.token,
        ])
        #expect(set.output.contains("provisioned concurrency 2 (2 instances warm)"), "\(set.output)")
        let describe = try await CLI.run([
            "functions", "describe", "sentiment.classify", "--server", server.baseURL, "--token", server.token,
        ])
        #expect(describe.output.contains("targetUtilization"), "\(describe.output)")
    }
}
