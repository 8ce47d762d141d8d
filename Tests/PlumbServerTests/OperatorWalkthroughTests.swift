import Foundation
import PlumbTesting
import Testing

/// A new operator's day through the CLI alone, on a server at a port of its own with a `public_url` that differs from
/// its listen address: every task of "The operator's day" that used to need curl and JSON, each effect checked.
@Suite("Operator walk-through", .serialized)
struct OperatorWalkthroughTests {
    @Test(
        "alarms, logs, audit, sensors registry, topics and silences from the CLI; links and times as an operator types them"
    )
    func walkthrough() async throws {
        let root = TemporaryDirectory("plumb-operator")
        defer { root.remove() }
        try FileManager.default.createDirectory(atPath: root.path + "/alerts", withIntermediateDirectories: true)
        let port = ServerProcess.freePort()
        // Links must name the public address (localhost), not the listen address (127.0.0.1).
        let publicURL = "http://localhost:\(port)"
        let server = try await ServerProcess.start(
            config: "public_url: \(publicURL)\nalerts: \(root.path)/alerts\nplugins:\n  accounts: {scrypt_n: 1024}\n",
            in: root, port: port)
        defer { server.kill(signal: SIGKILL) }
        let common = ["--server", server.baseURL, "--token", server.token]
        func plumb(_ arguments: [String], stdin: String? = nil) async throws -> String {
            let run: (status: Int32, output: String)
            if let stdin {
                try stdin.write(toFile: root.path + "/stdin", atomically: true, encoding: .utf8)
                run = try await CLI.runProgram(
                    "/bin/sh",
                    ["-c", "exec \"$0\" \"$@\" < \(root.path)/stdin", Checkout.plumbBinary] + arguments + common)
            } else {
                run = try await CLI.run(arguments + common)
            }
            #expect(run.status == 0, "plumb \(arguments.joined(separator: " ")): \(run.output)")
            return run.output
        }

        // The sensors' findings topic exists on a fresh install.
        #expect(try await plumb(["topics"]).contains("sensors-findings"))

        // Alarms: put with flags, describe, metric math from a file, delete; a reload that fails says where.
        _ = try await plumb(["topics", "create", "ops"])
        #expect(
            try await plumb([
                "alarms", "put", "api-latency", "--namespace", "App", "--metric", "Latency", "--dimension",
                "Function=f", "--statistic", "p99",
                "--period", "60", "--evaluation-periods", "3", "--comparison", "GreaterThanThreshold", "--threshold",
                "250", "--alarm-action", "ops",
            ]).contains("created alarm api-latency"))
        try """
        metrics:
          - {id: e, metric: {namespace: App, name: Errors}, stat: Sum, return: false}
          - {id: i, metric: {namespace: App, name: Requests}, stat: Sum, return: false}
          - {id: rate, expression: "100 * e / i", return: true}
        period: 60
        evaluation_periods: 2
        comparison: GreaterThanThreshold
        threshold: 5
        """.write(toFile: root.path + "/rate.yaml", atomically: true, encoding: .utf8)
        #expect(
            try await plumb(["alarms", "put", "error-rate", "--file", root.path + "/rate.yaml"]).contains("created"))
        let described = try await plumb(["alarms", "describe", "error-rate"])
        #expect(
            described.contains("rate: 100 * e / i (returned)") && described.contains("e: App/Errors Sum"),
            "\(described)")
        #expect(try await plumb(["alarms"]).contains("api-latency"))
        _ = try await plumb(["alarms", "delete", "api-latency"])
        #expect(!(try await plumb(["alarms"])).contains("api-latency"))
        try "alarms:\n  - name: broken\n    namespace: App\n    metric: M\n    statistic: Sum\n    period: 45\n"
            .write(toFile: root.path + "/alerts/broken.yaml", atomically: true, encoding: .utf8)
        let reload = try await CLI.run(["alarms", "reload"] + common)
        #expect(
            reload.status != 0 && reload.output.contains("broken.yaml:") && reload.output.contains("period"),
            "\(reload.output)")
        try FileManager.default.removeItem(atPath: root.path + "/alerts/broken.yaml")

        // Silences: held, listed, expired.
        let silenced = try await plumb([
            "silence", "add", "--alarm", "error-rate", "--for", "2h", "--comment", "deploying",
        ])
        #expect(try await plumb(["silence", "list"]).contains("error-rate"), "\(silenced)")
        #expect(try await plumb(["alarms", "describe", "error-rate"]).contains("silenced until"))

        // Logs: put from stdin (text and JSON lines), groups, retention, search with an exclusion and no quotes or --.
        let put = try await plumb(
            ["logs", "put", "/shop/web", "web-1"],
            stdin: "ERROR database gone\nINFO all good\n{\"message\": \"ERROR INFO both\"}\n")
        #expect(put.contains("sent 3 events"), "\(put)")
        #expect(try await plumb(["logs", "retention", "/shop/web", "30"]).contains("30 days"))
        #expect(try await plumb(["logs", "groups"]).contains("30 days"))
        let search = try await plumb(["logs", "search", "ERROR", "-INFO", "--since", "-1h"])
        #expect(
            search.contains("database gone") && !search.contains("all good") && !search.contains("both"), "\(search)")
        // A form-encoded filter, as Python requests and curl --data-urlencode send it: + is a space.
        let (_, found) = try await HTTP.request(
            "GET", server.baseURL + "/api/v1/logs/%2Fshop%2Fweb?filter=database+gone", token: server.token)
        #expect(String(decoding: found, as: UTF8.self).contains("database gone"))

        // The audit trail: the changes above, by the forms an operator types.
        for since in ["24h", "-24h", "now-1h"] {
            let audit = try await plumb(["audit", "--since", since])
            #expect(
                audit.contains("PUT /api/v1/alarms/{name}") && audit.contains("DELETE /api/v1/alarms/{name}"),
                "--since \(since): \(audit)")
        }

        // The sensor registry: add, move, correct, delete.
        _ = try await plumb(["sensors", "projects", "add", "muon", "--name", "Muon survey"])
        _ = try await plumb([
            "sensors", "sites", "add", "roof", "--project", "muon", "--latitude", "-33.9", "--longitude", "151.2",
        ])
        _ = try await plumb(["sensors", "sites", "add", "cellar", "--project", "muon"])
        _ = try await plumb(["sensors", "detectors", "add", "D-1", "--site", "roof"])
        _ = try await plumb(["sensors", "deploy", "D-1", "--status", "deployed", "--site", "cellar", "--note", "moved"])
        _ = try await plumb(["sensors", "deployments", "note", "D-1", "2", "moved to the cellar"])
        var shown = try await plumb(["sensors", "detectors", "show", "D-1"])
        #expect(shown.contains("deployed at cellar") && shown.contains("moved to the cellar"), "\(shown)")
        _ = try await plumb(["sensors", "deployments", "undo", "D-1", "2"])
        shown = try await plumb(["sensors", "detectors", "show", "D-1"])
        #expect(shown.contains("planned at roof"), "\(shown)")
        _ = try await plumb(["sensors", "projects", "rename", "muon", "Muons"])
        _ = try await plumb(["sensors", "sites", "update", "roof", "--name", "Roof east"])
        let inUse = try await CLI.run(["sensors", "sites", "delete", "roof"] + common)
        #expect(inUse.status != 0 && inUse.output.contains("409"), "\(inUse.output)")
        _ = try await plumb(["sensors", "detectors", "delete", "D-1"])
        _ = try await plumb(["sensors", "sites", "delete", "roof"])
        #expect(!(try await plumb(["sensors", "sites"])).contains("Roof east"))
        #expect(try await plumb(["sensors", "projects"]).contains("Muons"))

        // Addresses follow public_url: the accounts' discovery names it.
        let (_, discovery) = try await HTTP.request(
            "GET", server.baseURL + "/apps/accounts/.well-known/openid-configuration")
        let document = (try? JSONSerialization.jsonObject(with: Data(discovery))) as? [String: Any] ?? [:]
        #expect(document["issuer"] as? String == publicURL + "/apps/accounts", "\(document)")
        #expect(document["jwks_uri"] as? String == publicURL + "/apps/accounts/.well-known/jwks.json")

        // Expire the silence; it is listed as expired.
        // "silence ID: … silenced until …"
        let id = silenced.split(separator: " ").dropFirst().first.map { String($0.dropLast()) } ?? ""
        let expire = try await CLI.run(["silence", "expire", id] + common)
        #expect(expire.status == 0, "silence id from '\(silenced)': \(expire.output)")
        #expect(try await plumb(["silence", "list"]).contains("expired"))
    }
}
