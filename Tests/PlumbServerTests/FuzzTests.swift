import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import NIOCore
import PlumbServer
import PlumbServerTesting
import PlumbTesting
import Testing

/// Hostile input on every route the router has (with the plugins Plumb ships): each query parameter, path parameter
/// and JSON field of a valid seed request is replaced, one at a time, by extreme numbers (±1e300, ±9.3e18, 2^63, NaN,
/// ±Inf, -0, huge exponents, 400 digits) and hostile strings (CR/LF, NUL, invalid UTF-8, 100 KB). No answer may be a
/// 5xx (or a crash); a 400 must name the field it refuses; and a refused request must leave every database as it was.
@Suite("Fuzz every route", .serialized)
struct FuzzTests {
    /// One valid request of a route: the values the fuzzer starts from.
    struct Seed {
        let method: String
        /// The router's form, `{param}` for path parameters.
        let path: String
        var params: [String: String]
        var query: [String: String]
        var json: Any?
        var raw: (String, String)?
        /// The raw body's `Content-Encoding`, and how its text becomes the bytes sent (remote write: a snappy
        /// WriteRequest of exposition-like lines); text that no longer encodes is sent as it is, to be refused.
        var encoding: String?
        var encode: (@Sendable (String) -> [UInt8])?
        /// Whose token the requests carry: routes for a platform user's own account or an end user's refuse the admin.
        var caller: Caller

        enum Caller { case admin, platformUser, endUser }

        init(
            _ method: String, _ path: String, params: [String: String] = [:], query: [String: String] = [:],
            json: Any? = nil,
            raw: (String, String)? = nil, as caller: Caller = .admin
        ) {
            self.method = method
            self.path = path
            self.params = params
            self.query = query
            self.json = json
            self.raw = raw
            self.caller = caller
        }

        var key: String { "\(method) \(path)" }
        func bytes(_ text: String) -> [UInt8] { encode?(text) ?? Array(text.utf8) }

        func encoded(_ encoding: String, _ encode: @escaping @Sendable (String) -> [UInt8]) -> Seed {
            var seed = self
            seed.encoding = encoding
            seed.encode = encode
            return seed
        }
        var takesInput: Bool { !params.isEmpty || !query.isEmpty || json != nil || raw != nil }
    }

    /// What is put in place of one value, with what a refusal must name.
    struct Hostile {
        let label: String
        /// Raw JSON text (for a body field).
        let json: [UInt8]
        /// Percent-encoded text (for a query or path parameter).
        let uri: String
        /// Whether the JSON text is not valid JSON at all (the refusal then names the body, not the field).
        var invalidJSON = false
    }

    static let hundredKB = String(repeating: "a", count: 100 * 1_024)
    static let fourHundredDigits = String(repeating: "9", count: 400)

    static let hostile: [Hostile] = {
        var values: [Hostile] = []
        for number in ["1e300", "-1e300", "9.3e18", "-9.3e18", "9223372036854775808", "-9223372036854775809", "-0"] {
            values.append(Hostile(label: number, json: Array(number.utf8), uri: number))
        }
        // Valid JSON numbers that no double holds: Foundation's parser refuses the whole body, which then names the
        // body rather than the field.
        for number in ["1e999999", fourHundredDigits] {
            values.append(
                Hostile(
                    label: number.count > 20 ? "400 digits" : number, json: Array(number.utf8), uri: number,
                    invalidJSON: true))
        }
        for name in ["NaN", "Infinity", "-Infinity"] {
            values.append(Hostile(label: "\"\(name)\"", json: Array("\"\(name)\"".utf8), uri: name))
        }
        values.append(Hostile(label: "NaN (bare)", json: Array("NaN".utf8), uri: "nan", invalidJSON: true))
        values.append(
            Hostile(label: "CR/LF", json: Array(#""a\r\nInjected: yes""#.utf8), uri: "a%0D%0AInjected:%20yes"))
        values.append(Hostile(label: "NUL", json: Array(#""a\u0000b""#.utf8), uri: "a%00b"))
        values.append(
            Hostile(
                label: "invalid UTF-8", json: [0x22, 0x61, 0xFF, 0xFE, 0x62, 0x22], uri: "a%FF%FEb", invalidJSON: true))
        values.append(Hostile(label: "100 KB", json: Array("\"\(hundredKB)\"".utf8), uri: hundredKB))
        return values
    }()

    /// Row counts of every table of every database in the data directory, the audit trail's own rows and the
    /// accounts' record of failed sign-ins left out (a refused call is audited, a failed sign-in is counted: both
    /// by design).
    final class Fingerprint {
        let directory: String

        init(directory: String) { self.directory = directory }

        func take() throws -> [String: Int] {
            var counts: [String: Int] = [:]
            let files = (FileManager.default.enumerator(atPath: directory)?.allObjects as? [String] ?? []).filter {
                $0.hasSuffix(".sqlite")
            }
            for file in files.sorted() {
                // A connection per look, closed after it: a read-only connection kept open for the whole test would
                // watch the server's WAL from outside for minutes.
                var configuration = Configuration()
                configuration.readonly = true
                let queue = try DatabaseQueue(path: directory + "/" + file, configuration: configuration)
                try queue.read { db in
                    for table in try String.fetchAll(
                        db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
                    {
                        let sql: String
                        switch table {
                        case "failed_signins", "log_meta", "log_blocks": continue
                        case "log_events":
                            // Events sealed into blocks meanwhile are still the same events: table and blocks count.
                            let others = "group_id NOT IN (SELECT id FROM log_groups WHERE name = '/plumb/audit')"
                            sql = """
                                SELECT (SELECT COUNT(*) FROM log_events WHERE \(others))
                                    + (SELECT COALESCE(SUM(events), 0) FROM log_blocks WHERE \(others))
                                """
                        case "log_streams":
                            sql =
                                "SELECT COUNT(*) FROM \(table) WHERE group_id NOT IN (SELECT id FROM log_groups WHERE name = '/plumb/audit')"
                        case "log_groups": sql = "SELECT COUNT(*) FROM log_groups WHERE name != '/plumb/audit'"
                        default: sql = "SELECT COUNT(*) FROM \"\(table)\""
                        }
                        counts["\(file):\(table)"] = try Int.fetchOne(db, sql: sql) ?? 0
                    }
                }
            }
            return counts
        }
    }

    static func render(_ text: String) -> String {
        let now = Int64(Date().timeIntervalSince1970)
        return text.replacingOccurrences(of: "{{now}}", with: String(now))
            .replacingOccurrences(of: "{{now_ms}}", with: String(now * 1_000))
            .replacingOccurrences(of: "{{now_ns}}", with: String(now * 1_000_000_000))
            .replacingOccurrences(of: "{{now_rfc3339}}", with: ISO8601DateFormatter().string(from: Date()))
    }

    /// Every leaf (string, number, bool) of a JSON value, as its path.
    static func leaves(_ value: Any, at path: [String] = []) -> [[String]] {
        if let object = value as? [String: Any] {
            return object.keys.sorted().flatMap { leaves(object[$0]!, at: path + [$0]) }
        }
        if let array = value as? [Any] {
            return array.indices.flatMap { leaves(array[$0], at: path + [String($0)]) }
        }
        return [path]
    }

    static let marker = "__plumb_fuzz_marker__"

    /// The seed's JSON with the leaf at `path` replaced by a marker string, and the marker then replaced by raw text.
    static func body(_ json: Any, replacing path: [String], with raw: [UInt8]) throws -> [UInt8] {
        func replace(_ value: Any, _ rest: ArraySlice<String>) -> Any {
            guard let key = rest.first else { return marker }
            if var object = value as? [String: Any] {
                object[key] = replace(object[key]!, rest.dropFirst())
                return object
            }
            if var array = value as? [Any], let i = Int(key) {
                array[i] = replace(array[i], rest.dropFirst())
                return array
            }
            return value
        }
        let text = try JSONSerialization.data(
            withJSONObject: replace(json, path[...]), options: [.sortedKeys, .withoutEscapingSlashes])
        let quoted = Array("\"\(marker)\"".utf8)
        var bytes = Array(text)
        if let range = bytes.firstRange(of: quoted) { bytes.replaceSubrange(range, with: raw) }
        return bytes
    }

    static func seedBody(_ json: Any) throws -> [UInt8] {
        let data = try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys, .withoutEscapingSlashes])
        return Array(render(String(decoding: data, as: UTF8.self)).utf8)
    }

    struct Outcome {
        var requests = 0
        var problems: [String] = []
    }

    @Test("every route × every input set to extremes: no 5xx, refusals name the field, nothing stored for a refusal")
    func everyRoute() async throws {
        let configure: (inout ServerConfig) -> Void = { $0.plugins["accounts"] = ["scrypt_n": "1024"] }
        try await withTestServer(
            plugins: RouteAccessTests.shipped, configure: configure
        ) { server, client in
            let seeds = Dictionary(Self.seeds.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
            let fingerprint = Fingerprint(directory: server.config.dataDirectory)
            let created = try await client.admin(
                "/api/v1/iam/users", method: .post, body: #"{"name": "fuzz-self"}"#, server: server)
            #expect(created.status.code == 201, "\(created.text)")
            let tokens: [Seed.Caller: String] = [
                .admin: server.token,
                .platformUser: try #require(
                    try await client.admin("/api/v1/iam/users/fuzz-self/tokens", method: .post, server: server).json[
                        "token"] as? String),
                .endUser: try await RouteAccessTests.signIn(client),
            ]
            var outcome = Outcome()
            var unseeded: [String] = []
            let router = server.makeRouter()
            for route in router.routes {
                let key = "\(route.method.rawValue) \(route.path.description)"
                guard let seed = seeds[key] else {
                    unseeded.append(key)
                    continue
                }
                let started = ContinuousClock.now
                let before = outcome.requests
                try await Self.fuzz(
                    seed, method: route.method, client: client, token: tokens[seed.caller]!, fingerprint: fingerprint,
                    outcome: &outcome)
                FileHandle.standardError.write(
                    Data(
                        "fuzz: \(key): \(outcome.requests - before) requests in \(ContinuousClock.now - started)\n".utf8
                    ))
            }
            print(
                "fuzz: \(outcome.requests) requests over \(router.routes.count) routes, \(outcome.problems.count) problems"
            )
            if let report = ProcessInfo.processInfo.environment["PLUMB_FUZZ_REPORT"] {
                try outcome.problems.joined(separator: "\n").write(toFile: report, atomically: true, encoding: .utf8)
            }
            let tables = try fingerprint.take()
            #expect(
                tables.count > 30 && tables.values.reduce(0, +) > 100,
                "the fingerprint sees the databases: \(tables.count) tables")
            #expect(unseeded.isEmpty, "routes without a seed request: \(unseeded)")
            #expect(
                outcome.problems.isEmpty,
                "\(outcome.problems.count) problems:\n\(outcome.problems.prefix(80).joined(separator: "\n"))")
            #expect(outcome.requests > 3_000)
        }
    }

    static func fuzz(
        _ seed: Seed, method: HTTPRequest.Method, client: any TestClientProtocol, token: String,
        fingerprint: Fingerprint,
        outcome: inout Outcome
    ) async throws {
        func uri(params: [String: String], query: [String: String]) -> String {
            var path = seed.path
            for (name, value) in params { path = path.replacingOccurrences(of: "{\(name)}", with: value) }
            guard !query.isEmpty else { return path }
            return path + "?" + query.keys.sorted().map { "\($0)=\(query[$0]!)" }.joined(separator: "&")
        }
        func encode(_ value: String) -> String {
            render(value).addingPercentEncoding(
                withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? value
        }
        let params = seed.params.mapValues(encode)
        let query = seed.query.mapValues(encode)
        var body: [UInt8]?
        var contentType = "application/json"
        if let json = seed.json { body = try seedBody(json) }
        if let (type, text) = seed.raw { (contentType, body) = (type, seed.bytes(render(text))) }

        /// Sends one request and holds its answer to the rules; `field` is what a 400 must name.
        func send(_ uri: String, _ body: [UInt8]?, field: String, what: String, invalidJSON: Bool = false) async throws
        {
            if ProcessInfo.processInfo.environment["PLUMB_FUZZ_TRACE"] != nil {
                FileHandle.standardError.write(Data("fuzz: → \(seed.key) \(what.prefix(80))\n".utf8))
            }
            let before = try fingerprint.take()
            // A tail with `seconds=0` follows forever by design; anything else that takes 20 s is hung.
            let limit: Duration = seed.path.hasSuffix("/tail") ? .seconds(3) : .seconds(20)
            var fields: HTTPFields = [.authorization: "Bearer \(token)", .contentType: contentType]
            if let encoding = seed.encoding { fields[.contentEncoding] = encoding }
            let headers = fields
            let answer = try await withThrowingTaskGroup(of: TestResponse?.self) { group in
                group.addTask {
                    try await client.execute(
                        uri: uri, method: method, headers: headers,
                        body: body.map { ByteBuffer(bytes: $0) })
                }
                group.addTask {
                    try await Task.sleep(for: limit)
                    return nil
                }
                let first = try await group.next()!
                group.cancelAll()
                return first
            }
            outcome.requests += 1
            guard let response = answer else {
                if !seed.path.hasSuffix("/tail") {
                    outcome.problems.append("\(seed.key) \(what): no answer within \(limit)")
                }
                return
            }
            let status = Int(response.status.code)
            let place = "\(seed.key) \(what)"
            // /readyz answers 503 until the server runs (it does not, in a router-level test).
            if status == 503 && seed.path == "/readyz" { return }
            if status >= 500 {
                outcome.problems.append("\(place): \(status) \(response.text.prefix(200))")
                return
            }
            guard status >= 400 else { return }
            let message = ((response.json["error"] as? [String: Any])?["message"] as? String) ?? response.text
            // A seed may be refused for what it is (a TOTP code no device made); only a mutated field must be named.
            if status == 400 || status == 422, !field.isEmpty {
                // A batch of readings refuses per reading: its rejections name the line and the reason.
                let perLine = response.json["rejections"] != nil ? ["line"] : []
                let names = (invalidJSON ? ["JSON", "body", "UTF-8", field] : [field]) + perLine
                if !names.contains(where: { message.localizedCaseInsensitiveContains($0) }) {
                    outcome.problems.append("\(place): 400 does not name '\(field)': \(message.prefix(200))")
                }
            }
            let after = try fingerprint.take()
            if after != before {
                let changed = after.keys.filter { after[$0] != before[$0] }.sorted()
                outcome.problems.append("\(place): refused with \(status) but stored: \(changed)")
            }
        }

        // The seed itself (also creates what later seeds refer to).
        try await send(uri(params: params, query: query), body, field: "", what: "seed")
        guard seed.takesInput else { return }
        for hostile in hostile {
            for name in seed.query.keys.sorted() {
                var q = query
                q[name] = hostile.uri
                try await send(uri(params: params, query: q), body, field: name, what: "?\(name)=\(hostile.label)")
            }
            for name in seed.params.keys.sorted() {
                var p = params
                p[name] = hostile.uri
                try await send(uri(params: p, query: query), body, field: name, what: "{\(name)}=\(hostile.label)")
            }
            if let json = seed.json {
                for path in leaves(json) {
                    let mutated = Array(
                        render(
                            String(decoding: try Self.body(json, replacing: path, with: hostile.json), as: UTF8.self)
                        ).utf8)
                    let field = path.last(where: { Int($0) == nil }) ?? "body"
                    try await send(
                        uri(params: params, query: query), mutated, field: field,
                        what: "\(path.joined(separator: "."))=\(hostile.label)",
                        invalidJSON: hostile.invalidJSON)
                }
            }
            if let (_, text) = seed.raw {
                // Raw bodies (line protocol, CSV, readings): each number in turn, and the hostile text appended.
                let rendered = render(text)
                let numbers = rendered.ranges(of: /-?[0-9][0-9.]*/)
                for range in numbers.prefix(6) {
                    var mutated = rendered
                    mutated.replaceSubrange(range, with: String(decoding: hostile.json, as: UTF8.self))
                    try await send(
                        uri(params: params, query: query), seed.bytes(mutated), field: "line",
                        what: "body number → \(hostile.label)",
                        invalidJSON: true)
                }
                try await send(
                    uri(params: params, query: query),
                    seed.encode == nil
                        ? Array(rendered.utf8) + hostile.json
                        : seed.bytes(rendered + String(decoding: hostile.json, as: UTF8.self)),
                    field: "line",
                    what: "body + \(hostile.label)",
                    invalidJSON: true)
            }
        }
    }
}
