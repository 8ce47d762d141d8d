import Foundation
import PlumbServer
import PlumbServerTesting
import PlumbTesting
import Testing
import Yams

/// `docs/openapi.yaml` is the contract: it and the router agree route for route (the plugins' `/apps/…` routes
/// aside), and answers of a real server validate against its schemas.
@Suite("OpenAPI document")
struct OpenAPITests {
    /// "METHOD /path" of every operation in the document.
    static func documented() throws -> Set<String> {
        let text = try String(contentsOfFile: Checkout.root + "/docs/openapi.yaml", encoding: .utf8)
        let root = try #require(try Yams.load(yaml: text) as? [String: Any])
        let paths = try #require(root["paths"] as? [String: Any])
        var out: Set<String> = []
        for (path, item) in paths {
            for method in (item as? [String: Any] ?? [:]).keys
            where ["get", "post", "put", "patch", "delete"].contains(method) {
                out.insert("\(method.uppercased()) \(path)")
            }
        }
        return out
    }

    @Test("the document and the router agree route for route (plugins' /apps routes aside)")
    func routesAgree() async throws {
        let documented = try Self.documented()
        let configure: (inout ServerConfig) -> Void = { $0.plugins["accounts"] = ["scrypt_n": "1024"] }
        try await withTestServer(
            plugins: RouteAccessTests.shipped, configure: configure
        ) { server, _ in
            let routed = Set(
                server.makeRouter().routes.map { "\($0.method.rawValue) \($0.path.description)" }.filter {
                    !$0.contains(" /apps/")
                })
            let undocumented = routed.subtracting(documented)
            let unrouted = documented.subtracting(routed)
            #expect(undocumented.isEmpty, "routes the document lacks: \(undocumented.sorted())")
            #expect(unrouted.isEmpty, "documented routes the router lacks: \(unrouted.sorted())")
            print("openapi: \(documented.count) operations documented, \(routed.count) routes")
        }
    }
}

// MARK: - Answers of a real server against the document

extension OpenAPITests {
    /// One answer of a real server: the route as the document names it, and what came back.
    struct Answer {
        let route: String
        let status: Int
        let contentType: String
        let body: [UInt8]
    }

    @Test(
        "answers of a real `plumb serve` validate against the document's schema of their status, and every route answered 2xx once"
    )
    func answersMatchTheDocument() async throws {
        let root = TemporaryDirectory("plumb-openapi")
        defer { root.remove() }
        let server = try ServerProcess(dataDirectory: root.path + "/data")
        defer { if server.process.isRunning { server.kill(signal: SIGKILL) } }
        try await server.waitReady()
        var answers: [Answer] = []
        answers += try await Self.observabilityAnswers(server)
        let problems = try await Self.validate(answers, in: root.path + "/answers")
        #expect(problems.isEmpty, "answers the document does not describe:\n\(problems.joined(separator: "\n"))")
        let succeeded = Set(answers.filter { (200..<300).contains($0.status) }.map(\.route))
        let routes = Self.observabilityRoutes
        #expect(
            routes.subtracting(succeeded).isEmpty,
            "routes never answered 2xx: \(routes.subtracting(succeeded).sorted())")
        print("openapi: \(answers.count) answers of \(Set(answers.map(\.route)).count) routes validated")
    }

    /// Sends a valid request (a fuzz seed, `{{now}}` placeholders rendered, path parameters percent-encoded).
    static func send(
        _ seed: FuzzTests.Seed, to server: ServerProcess, headers: [String: String] = [:]
    ) async throws -> Answer {
        func encode(_ value: String) -> String {
            FuzzTests.render(value).addingPercentEncoding(
                withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? value
        }
        var path = seed.path
        for (name, value) in seed.params { path = path.replacingOccurrences(of: "{\(name)}", with: encode(value)) }
        if !seed.query.isEmpty {
            path +=
                "?" + seed.query.keys.sorted().map { "\(encode($0))=\(encode(seed.query[$0]!))" }.joined(separator: "&")
        }
        var sent = headers
        var body: [UInt8]?
        if let json = seed.json { (sent["Content-Type"], body) = ("application/json", try FuzzTests.seedBody(json)) }
        if let (type, text) = seed.raw { (sent["Content-Type"], body) = (type, seed.bytes(FuzzTests.render(text))) }
        if let encoding = seed.encoding { sent["Content-Encoding"] = encoding }
        let answer = try await HTTP.exchange(
            seed.method, server.baseURL + path, body: body, token: server.token, headers: sent)
        return Answer(
            route: seed.key, status: answer.status, contentType: answer.headers["content-type"] ?? "", body: answer.body
        )
    }

    /// Validates the answers with `Tests/peers/openapi_validate.py` (openapi-schema-validator); the problems found.
    static func validate(_ answers: [Answer], in directory: String) async throws -> [String] {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var samples: [[String: Any]] = []
        for (i, answer) in answers.enumerated() {
            let file = directory + "/\(i).body"
            try Data(answer.body).write(to: URL(fileURLWithPath: file))
            let parts = answer.route.split(separator: " ", maxSplits: 1).map(String.init)
            samples.append([
                "method": parts[0], "path": parts[1], "status": answer.status, "contentType": answer.contentType,
                "file": file,
            ])
        }
        let list = directory + "/samples.json"
        try JSONSerialization.data(withJSONObject: samples).write(to: URL(fileURLWithPath: list))
        let run = try await Python.run(
            Checkout.root + "/Tests/peers/openapi_validate.py",
            [Checkout.root + "/docs/openapi.yaml", "--samples", list])
        let lines = String(decoding: run.output, as: UTF8.self).split(separator: "\n").map(String.init)
        #expect(
            lines.count == answers.count,
            "the validator reported \(lines.count) of \(answers.count) answers: \(run.errors)")
        return lines.filter { !$0.hasPrefix("ok ") }
            + (run.status == 0 || lines.contains { $0.hasPrefix("FAIL") }
                ? [] : ["validator exit \(run.status): \(run.errors)"])
    }
}

// MARK: - Observability: metrics, logs, metric filters, alarms, silences, the alarm page

extension OpenAPITests {
    static let observabilityRoutes: Set<String> = [
        "POST /api/v1/metrics", "POST /write", "POST /api/v1/write", "GET /api/v1/metrics",
        "POST /api/v1/metrics/query", "GET /api/v1/metrics/statistics", "POST /v1/metrics", "POST /v1/logs",
        "GET /api/v1/targets", "GET /api/v1/logs", "GET /api/v1/logs/{group}", "GET /api/v1/logs/{group}/streams",
        "GET /api/v1/query", "POST /api/v1/query", "GET /api/v1/query_range", "POST /api/v1/query_range",
        "GET /api/v1/series", "POST /api/v1/series", "GET /api/v1/labels", "POST /api/v1/labels",
        "GET /api/v1/label/{name}/values", "POST /api/v1/label/{name}/values", "GET /api/v1/metadata",
        "GET /api/v1/status/buildinfo", "GET /api/v1/rules", "GET /api/v1/alerts",
        "GET /api/v1/logs/{group}/tail", "GET /api/v1/cluster", "GET /api/v1/usage", "GET /api/v1/cost",
        "GET /api/v1/budgets", "PUT /api/v1/budgets/{name}", "DELETE /api/v1/budgets/{name}",
        "PUT /api/v1/logs/{group}/retention", "POST /api/v1/logs/{group}/{stream}", "GET /api/v1/metric-filters",
        "DELETE /api/v1/logs/{group}",
        "PUT /api/v1/metric-filters/{name}", "DELETE /api/v1/metric-filters/{name}", "GET /api/v1/alarms",
        "POST /api/v1/alarms/reload",
        "GET /api/v1/alarms/{name}", "PUT /api/v1/alarms/{name}", "DELETE /api/v1/alarms/{name}",
        "GET /api/v1/alarms/{name}/history",
        "POST /api/v1/alarms/{name}/state", "GET /api/v1/silences", "POST /api/v1/silences",
        "DELETE /api/v1/silences/{id}",
        "GET /alarms/{name}",
    ]

    /// Every observability route with the fuzz seeds' valid requests, in an order where each finds what it needs (the
    /// alarm exists before it is read, silenced, paged and deleted), plus refusals whose `ErrorBody` is validated too.
    static func observabilityAnswers(_ server: ServerProcess) async throws -> [Answer] {
        let seeds = Dictionary(FuzzTests.seeds.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        var answers: [Answer] = []
        func send(
            _ key: String, _ change: (inout FuzzTests.Seed) -> Void = { _ in }, headers: [String: String] = [:]
        ) async throws -> Answer {
            var seed = try #require(seeds[key], "no fuzz seed for \(key)")
            change(&seed)
            let answer = try await Self.send(seed, to: server, headers: headers)
            answers.append(answer)
            return answer
        }
        for key in [
            "POST /api/v1/metrics", "POST /write", "POST /api/v1/write", "GET /api/v1/metrics",
            "POST /api/v1/metrics/query", "GET /api/v1/metrics/statistics", "GET /api/v1/cluster",
            "GET /api/v1/usage", "GET /api/v1/cost", "GET /api/v1/budgets",
            "POST /v1/metrics", "POST /v1/logs", "GET /api/v1/targets",
            "GET /api/v1/query", "POST /api/v1/query", "GET /api/v1/query_range", "POST /api/v1/query_range",
            "GET /api/v1/series", "POST /api/v1/series", "GET /api/v1/labels", "POST /api/v1/labels",
            "GET /api/v1/label/{name}/values", "POST /api/v1/label/{name}/values", "GET /api/v1/metadata",
            "GET /api/v1/status/buildinfo", "GET /api/v1/rules", "GET /api/v1/alerts",
        ] {
            _ = try await send(key)
        }
        _ = try await send("GET /api/v1/metrics/statistics") { $0.query["namespace"] = nil }
        _ = try await send("GET /api/v1/query") { $0.query["query"] = "sum(" }
        _ = try await send("GET /api/v1/usage") { $0.query["by"] = "colour" }
        _ = try await send("GET /api/v1/query_range") { $0.query["step"] = "0" }
        // Logs: a tail that sees the events posted while it follows.
        let tailSeed = FuzzTests.Seed(
            "GET", "/api/v1/logs/{group}/tail", params: ["group": "fuzz-app"], query: ["seconds": "2"])
        async let tail = Self.send(tailSeed, to: server)
        try await Task.sleep(for: .milliseconds(500))
        for key in [
            "POST /api/v1/logs/{group}/{stream}", "GET /api/v1/logs", "GET /api/v1/logs/{group}",
            "GET /api/v1/logs/{group}/streams",
            "PUT /api/v1/logs/{group}/retention", "PUT /api/v1/metric-filters/{name}", "GET /api/v1/metric-filters",
            "DELETE /api/v1/metric-filters/{name}", "PUT /api/v1/alarms/{name}", "PUT /api/v1/alarms/{name}",
            "GET /api/v1/alarms",
            "POST /api/v1/alarms/{name}/state", "GET /api/v1/alarms/{name}/history", "POST /api/v1/silences",
        ] {
            _ = try await send(key)
        }
        answers.append(try await tail)
        _ = try await send("GET /api/v1/logs/{group}") { $0.query["order"] = "sideways" }
        let deletedGroup = try await send("DELETE /api/v1/logs/{group}")
        #expect(deletedGroup.status == 204)
        #expect(try await send("DELETE /api/v1/logs/{group}").status == 404)
        let audit = try await send("DELETE /api/v1/logs/{group}") { $0.params["group"] = "/plumb/audit" }
        #expect(audit.status == 403, "the audit trail is never deleted, even by the admin")
        // The alarm with its silence, then the silence expired.
        let listed = try await send("GET /api/v1/silences")
        _ = try await send("GET /api/v1/alarms/{name}")
        let silence = try #require(
            try JSONDecoder().decode(SilenceList.self, from: Data(listed.body)).silences.first?.id)
        _ = try await send("DELETE /api/v1/silences/{id}") { $0.params["id"] = silence }
        _ = try await send("POST /api/v1/alarms/reload")
        // The alarm page: a signed link, then a forged one (as JSON and as a browser's HTML page).
        let exp = String(Int(Date().timeIntervalSince1970) + 3_600)
        let signed = try await Python.run(
            Checkout.root + "/Tests/peers/alarm_link.py",
            [
                "--key", server.dataDirectory + "/alarm-links.key", "--name", "fuzz-alarm", "--exp", exp,
            ])
        let sig = try #require(
            (try JSONSerialization.jsonObject(with: signed.output) as? [String: Any])?["sig"] as? String)
        let page = try await send("GET /alarms/{name}") { $0.query = ["exp": exp, "sig": sig] }
        #expect(page.status == 200 && page.contentType.hasPrefix("text/html"), "\(page.status) \(page.contentType)")
        _ = try await send("GET /alarms/{name}")
        _ = try await send("GET /alarms/{name}", headers: ["Accept": "text/html"])
        _ = try await send("DELETE /api/v1/alarms/{name}")
        let gone = try await send("GET /api/v1/alarms/{name}")
        #expect(gone.status == 404)
        // A budget made, listed, refused with a mistake, and deleted.
        let made = try await send("PUT /api/v1/budgets/{name}")
        #expect(made.status == 201, "\(String(decoding: made.body, as: UTF8.self))")
        _ = try await send("GET /api/v1/budgets")
        _ = try await send("PUT /api/v1/budgets/{name}") { $0.json = ["amount": -1] }
        let deleted = try await send("DELETE /api/v1/budgets/{name}")
        #expect(deleted.status == 204)
        _ = try await send("DELETE /api/v1/budgets/{name}")
        return answers
    }

    /// Just what the test reads of `GET /api/v1/silences`.
    struct SilenceList: Decodable {
        struct Item: Decodable { let id: String }
        let silences: [Item]
    }
}
