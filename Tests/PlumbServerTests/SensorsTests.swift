import Classifier
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import PlumbServer
import PlumbServerTesting
import PlumbTesting
import Sensors
import Testing

/// The sensor pipeline's first part: registry, batch ingest counts, CSV export round trip, and a SIGKILL during a
/// 50-detector stream.
@Suite("Sensors", .serialized)
struct SensorsTests {
    static func reading(_ detector: String, _ ms: Int64, firmware: String = "fw 1.0") -> String {
        let object: [String: Any] = [
            "detector": detector, "timestamp": ms, "event_count": 60, "coincidence_count": 12, "rate_hz": 1.25,
            "temperature_c": 19.5,
            "pressure_hpa": 1012.75, "humidity_pct": 44.5, "sipm_voltage_v": 29.41, "sipm_current_ua": 1.12,
            "dead_time_ms": 0.31,
            "adc_peak": 805, "adc_area": 5090, "battery_v": 3.91, "rssi_dbm": -71, "firmware": firmware,
        ]
        return String(
            decoding: try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }

    /// RFC 4180 records, for reading the export back.
    static func parseCSV(_ text: String) -> [[String]] {
        var records: [[String]] = []
        var record: [String] = []
        var field = ""
        var quoted = false
        var i = text.startIndex
        while i < text.endIndex {
            let c = text[i]
            if quoted {
                if c == "\"" {
                    let n = text.index(after: i)
                    if n < text.endIndex, text[n] == "\"" {
                        field.append("\"")
                        i = n
                    } else {
                        quoted = false
                    }
                } else {
                    field.append(c)
                }
            } else if c == "\"" {
                quoted = true
            } else if c == "," {
                record.append(field)
                field = ""
            } else if c == "\r\n" || c == "\n" {
                record.append(field)
                records.append(record)
                record = []
                field = ""
            } else {
                field.append(c)
            }
            i = text.index(after: i)
        }
        if !field.isEmpty || !record.isEmpty {
            record.append(field)
            records.append(record)
        }
        return records
    }

    @Test(
        "the reading parser decodes every JSON string escape as JSONSerialization does, and refuses what JSON refuses")
    func readingEscapes() throws {
        let head =
            #"{"detector":"D-1","timestamp":1795000000000,"event_count":60,"coincidence_count":12,"rate_hz":1.25,"temperature_c":19.5,"pressure_hpa":1012.75,"humidity_pct":44.5,"sipm_voltage_v":29.41,"sipm_current_ua":1.12,"dead_time_ms":0.31,"adc_peak":805,"adc_area":5090,"battery_v":3.91,"rssi_dbm":-71,"firmware":"#
        // JSON text of the firmware value, escapes and all.
        let firmwares = [
            #""plain""#, #""say \"stable\"""#, #""back\\slash / and \/""#, #""tab\tnew\nline\r\b\f""#,
            #""\u00e9t\u00E9 \u2603""#,
            #""\ud83d\ude80 rocket""#, #""\u0000x""#, "\"caf\u{e9} unescaped\"",
        ]
        for firmware in firmwares {
            let line = head + firmware + "}"
            let reading = try Reading.parse(Array(line.utf8))
            let expected =
                try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])["firmware"]
                as? String
            #expect(reading.firmware == expected, "\(firmware)")
            #expect(reading.values["rate_hz"] == 1.25)
        }
        for bad in [#""\x""#, #""\u12""#, #""\udc00""#, #""\ud83d x""#, "\"a\u{01}b\"", #""open"#] {
            #expect(throws: Reading.Invalid.self, "\(bad)") {
                do { try Reading.parse(Array((head + bad + "}").utf8)) } catch let e as Reading.Invalid {
                    #expect(e.reason == "not a JSON object", "\(bad)")
                    throw e
                }
            }
        }
    }

    @Test("registry rules; a batch with duplicates and bad lines gives the right counts; export CSV round-trips")
    func batchAndExport() async throws {
        let alerts = TemporaryDirectory()
        defer { alerts.remove() }
        try
            "topics:\n  - name: object-events\n    subscriptions:\n      - {protocol: webhook, endpoint: \"http://127.0.0.1:9/hook\"}\n"
            .write(toFile: alerts.path + "/events.yaml", atomically: true, encoding: .utf8)
        let configure: (inout ServerConfig) -> Void = {
            $0.alerts = alerts.path
            $0.publicURL = "https://sensors.example.org:8443/"
            $0.plugins["sensors"] = ["archive_after_days": "0", "object_events_topic": "object-events"]
        }
        try await withTestServer(
            plugins: [SensorsPlugin.self],
            configure: configure
        ) { server, client in
            func post(_ uri: String, _ body: String) async throws -> TestResponse {
                try await client.admin("/apps/sensors" + uri, method: .post, body: body, server: server)
            }
            #expect(
                try await client.execute(
                    uri: "/apps/sensors/projects", method: .post, body: ByteBuffer(string: #"{"id": "muon"}"#)
                ).status.code == 401, "the registry is the operator's")
            #expect(try await post("/projects", #"{"id": "muon"}"#).status.code == 201)
            #expect(try await post("/projects", #"{"id": "muon"}"#).status.code == 409)
            #expect(try await post("/sites", #"{"id": "s1", "project": "nope"}"#).status.code == 400, "unknown project")
            #expect(try await post("/sites", #"{"id": "s1", "project": "muon", "latitude": 95}"#).status.code == 400)
            #expect(
                try await post("/sites", #"{"id": "s1", "project": "muon", "latitude": 51.5, "longitude": -0.1}"#)
                    .status.code == 201)
            for d in ["D-1", "D-2"] {
                #expect(try await post("/detectors", #"{"id": "\#(d)", "site": "s1"}"#).status.code == 201)
            }
            #expect(try await post("/detectors", #"{"id": "D-3", "site": "nowhere"}"#).status.code == 400)
            #expect(try await post("/detectors/D-1/deployments", #"{"status": "lost"}"#).status.code == 400)
            #expect(
                try await post("/detectors/D-1/deployments", #"{"status": "deployed"}"#).status.code == 400,
                "a deployment needs a site")
            let deployed = try await post(
                "/detectors/D-1/deployments", #"{"status": "deployed", "site": "s1", "note": "roof"}"#)
            #expect(
                (deployed.json["history"] as? [Any])?.count == 2 && deployed.json["status"] as? String == "deployed")

            let t0: Int64 = 1_795_000_000_000
            var lines: [String] = []
            for i in 0..<20 {
                lines.append(
                    Self.reading(
                        i % 2 == 0 ? "D-1" : "D-2", t0 + Int64(i / 2) * 1_000,
                        firmware: i == 3 ? "fw, \"quoted\"\nline" : "fw 1.0"))
            }
            lines.append(lines[0])  // duplicate (line 21)
            lines.append(lines[5])  // duplicate (line 22)
            lines.append("{\"detector\": \"D-1\"}")  // no timestamp (line 23)
            lines.append("garbage")  // not JSON (line 24)
            lines.append(Self.reading("D-404", t0))  // unknown detector (line 25)
            lines.append(
                Self.reading("D-1", t0 + 99_000).replacingOccurrences(
                    of: "\"rate_hz\":1.25", with: "\"rate_hz\":\"fast\""))  // line 26
            let batch = try await post("/batches", lines.joined(separator: "\n"))
            #expect(batch.status.code == 200, "\(batch.text)")
            #expect(batch.json["accepted"] as? Int == 20)
            #expect(batch.json["duplicates"] as? Int == 2)
            #expect(batch.json["rejected"] as? Int == 4)
            let reasons = (batch.json["rejections"] as? [[String: Any]] ?? []).map {
                "\($0["line"] ?? ""): \($0["reason"] ?? "")"
            }
            #expect(
                reasons == [
                    "23: 'timestamp' must be RFC 3339 or epoch milliseconds", "24: not a JSON object",
                    "25: unknown detector 'D-404'",
                    "26: 'rate_hz' must be a finite number",
                ], "\(reasons)")
            // The same file again: all duplicates; and as a JSON array.
            // A reading from a clock two hours fast is refused per line; an empty body is a 400, not a success.
            let future = try await post(
                "/batches", Self.reading("D-1", Int64(Date().timeIntervalSince1970 * 1_000) + 7_200_000))
            #expect(future.status.code == 400 && future.text.contains("ahead of the server's clock"), "\(future.text)")
            let empty = try await post("/batches", "")
            #expect(empty.status.code == 400 && empty.text.contains("EmptyBody"), "\(empty.text)")
            let again = try await post("/batches", "[" + lines.prefix(20).joined(separator: ",") + "]")
            #expect(again.json["accepted"] as? Int == 0 && again.json["duplicates"] as? Int == 20, "\(again.text)")

            let export = try await client.execute(
                uri: "/apps/sensors/export.csv?features=event_count,rate_hz,pressure_hpa,firmware", method: .get)
            #expect(export.headers[.contentType]?.hasPrefix("text/csv") == true)
            let records = Self.parseCSV(export.text)
            #expect(
                records.first == ["timestamp", "detector", "seq", "event_count", "rate_hz", "pressure_hpa", "firmware"])
            #expect(records.count == 21, "a header and 20 readings")
            let quoted = records.first { $0.count == 7 && $0[6].contains("quoted") }
            #expect(quoted?[6] == "fw, \"quoted\"\nline", "commas, quotes and line breaks survive: \(quoted ?? [])")
            #expect(records.dropFirst().allSatisfy { $0[3] == "60" && $0[4] == "1.25" && $0[5] == "1012.75" })
            let d1 = records.dropFirst().filter { $0[1] == "D-1" }.map { Int($0[2]) ?? 0 }
            #expect(d1 == Array(1...10), "sequence numbers per detector, in order")
            #expect(
                try await client.execute(uri: "/apps/sensors/export.csv?features=nope", method: .get).status.code == 400
            )

            // Delivery: the log becomes zlib segments keyed by UTC hour; the export reads them and the log alike.
            let uri = "/apps/sensors/export.csv?features=event_count,rate_hz,pressure_hpa,firmware"
            #expect(
                try await client.execute(uri: "/apps/sensors/deliver", method: .post).status.code == 401,
                "delivering by hand needs the token")
            let delivered = try await client.admin("/apps/sensors/deliver", method: .post, server: server)
            #expect(
                delivered.json["segments"] as? Int == 2 && delivered.json["readings"] as? Int == 20, "\(delivered.text)"
            )
            let segments = try await client.execute(uri: "/apps/sensors/segments", method: .get)
            let keys = (segments.json["segments"] as? [[String: Any]] ?? []).compactMap { $0["key"] as? String }
            #expect(keys.allSatisfy { $0.hasPrefix("segments/2026/11/18/") && $0.hasSuffix(".ndjson.z") }, "\(keys)")
            #expect(try await post("/batches", Self.reading("D-1", t0 + 500_000)).json["accepted"] as? Int == 1)
            let mixed = Self.parseCSV(try await client.execute(uri: uri, method: .get).text)
            #expect(Array(mixed.prefix(21)) == records, "the delivered readings export as before")
            #expect(
                mixed.count == 22 && mixed.last?[2] == "11",
                "and the new one from the log follows with the next sequence number")
            let resent = try await post("/batches", lines.prefix(20).joined(separator: "\n"))
            #expect(
                resent.json["duplicates"] as? Int == 20,
                "still idempotent after the bodies left the log: \(resent.text)")

            // A pre-signed URL for a segment: works without a token until it expires; an altered one is refused.
            let key = try #require(keys.first)
            let share = try await client.admin(
                "/apps/sensors/shares", method: .post, body: #"{"object": "\#(key)", "expires_in": 2}"#, server: server)
            #expect(share.status.code == 201, "\(share.text)")
            let path = try #require(share.json["path"] as? String)
            // The URL handed out is absolute, on the configured public address (it was relative, or the caller's Host).
            #expect(share.json["url"] as? String == "https://sensors.example.org:8443" + path, "\(share.text)")
            let fetched = try await client.execute(uri: path, method: .get)
            #expect(
                fetched.status.code == 200 && fetched.text.split(separator: "\n").count == 10,
                "the segment's 10 readings")
            var flipped = Array(path.utf8)
            let last = flipped.count - 1
            flipped[last] = flipped[last] == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0")
            let tampered = try await client.execute(uri: String(decoding: flipped, as: UTF8.self), method: .get)
            #expect(
                tampered.status.code == 403 && tampered.text.contains("signature does not match"), "\(tampered.text)")
            let otherKey = path.replacingOccurrences(of: "object=", with: "object=x")
            #expect(
                try await client.execute(uri: otherKey, method: .get).status.code == 403,
                "the signature covers the object")
            #expect(
                try await client.admin(
                    "/apps/sensors/shares", method: .post, body: #"{"object": "nope", "expires_in": 60}"#,
                    server: server
                ).status.code == 404)
            #expect(
                try await client.admin(
                    "/apps/sensors/shares", method: .post, body: #"{"object": "\#(key)", "expires_in": 0}"#,
                    server: server
                ).status.code == 400)
            try await Task.sleep(for: .milliseconds(3_100))
            let expired = try await client.execute(uri: path, method: .get)
            #expect(expired.status.code == 403 && expired.text.contains("expired"), "\(expired.text)")

            // Archive tier: the lifecycle (archive_after_days 0 here) moves the segments; reads need a restore.
            let moved = try await client.admin("/apps/sensors/lifecycle", method: .post, server: server)
            #expect((moved.json["archived"] as? [String])?.sorted() == keys.sorted(), "\(moved.text)")
            let refused = try await client.execute(uri: uri, method: .get)
            #expect(refused.status.code == 409 && refused.text.contains("restore it first"), "\(refused.text)")
            let listed =
                try await client.execute(uri: "/apps/sensors/objects?prefix=segments/", method: .get).json["objects"]
                as? [[String: Any]] ?? []
            #expect(listed.count == 2 && listed.allSatisfy { $0["tier"] as? String == "archived" }, "\(listed)")
            for key in keys {
                let restored = try await client.admin(
                    "/apps/sensors/objects/restore", method: .post, body: #"{"key": "\#(key)", "days": 1}"#,
                    server: server)
                #expect(restored.json["tier"] as? String == "restored", "\(restored.text)")
            }
            let back = Self.parseCSV(try await client.execute(uri: uri, method: .get).text)
            #expect(Array(back.prefix(21)) == records, "restored segments read as before")
            let relisted =
                try await client.execute(uri: "/apps/sensors/objects?prefix=segments/", method: .get).json["objects"]
                as? [[String: Any]] ?? []
            #expect(relisted.allSatisfy { $0["tier"] as? String == "restored" && $0["restoredUntil"] is String })

            // Object events went to the configured topic (S3 event notifications → SNS): created, transitioned, restored.
            var events: [String] = []
            for delivery in try await server.outbox.deliveries(topic: "object-events") {
                if let subject = try await server.outbox.message(id: delivery.messageID)?.subject {
                    events.append(subject)
                }
            }
            for key in keys {
                for name in ["ObjectCreated:Put", "LifecycleTransition", "ObjectRestore:Completed"] {
                    #expect(events.contains("\(name): \(key)"), "\(name) for \(key) in \(Set(events))")
                }
            }
        }
    }

    @Test(
        "50 detectors each hold a chunked stream; a SIGKILL mid-stream; they reconnect and resend; every acknowledged reading is stored exactly once"
    )
    func sigkillDuringStream() async throws {
        let root = TemporaryDirectory("plumb-sensors")
        defer { root.remove() }
        let port = ServerProcess.freePort()
        let first = try ServerProcess(dataDirectory: root.path + "/data", port: port)
        try await first.waitReady()
        let register = try await Python.run(
            Checkout.root + "/loadtest/detectors.py",
            ["register", "--base", first.baseURL, "--detectors", "50", "--token", first.token])
        try #require(register.status == 0, "\(register.errors)")
        let acked = root.path + "/acked.ndjson"
        let streamer = Task.detached {
            try await Python.run(
                Checkout.root + "/loadtest/detectors.py",
                [
                    "stream-chunked", "--base", "http://127.0.0.1:\(port)", "--detectors", "50", "--seconds", "10",
                    "--acked", acked,
                ])
        }
        // Part of what was acknowledged is delivered into segments before the kill, part after the restart, part
        // stays in the log: the export must find each acknowledged reading once across all three. The steps follow
        // the stream's progress (acknowledgements so far, of 1,000), not the clock: on a loaded machine a fixed
        // sleep let the whole stream finish before the kill.
        func acknowledgedCount() -> Int {
            let text = (try? String(contentsOfFile: acked, encoding: .utf8)) ?? ""
            return text.utf8.lazy.filter({ $0 == UInt8(ascii: "\n") }).count
        }
        func acknowledged(atLeast count: Int) async throws {
            try await waitUntil("\(count) readings acknowledged", timeout: .seconds(60)) {
                acknowledgedCount() >= count
            }
        }
        try await acknowledged(atLeast: 250)
        let (early, earlyBody) = try await HTTP.request(
            "POST", first.baseURL + "/apps/sensors/deliver", token: first.token)
        #expect(early == 200, "\(String(decoding: earlyBody, as: UTF8.self))")
        try await acknowledged(atLeast: 500)
        first.kill(signal: SIGKILL)
        let second = try ServerProcess(dataDirectory: root.path + "/data", port: port)
        defer { second.kill(signal: SIGKILL) }
        try await second.waitReady()
        // Some readings acknowledged by the restarted server before the late delivery (the stream may have ended).
        try await acknowledged(atLeast: min(acknowledgedCount() + 50, 1_000))
        let (late, lateBody) = try await HTTP.request(
            "POST", second.baseURL + "/apps/sensors/deliver", token: second.token)
        #expect(late == 200, "\(String(decoding: lateBody, as: UTF8.self))")
        let run = try await streamer.value
        #expect(run.status == 0, "\(run.errors)")
        let lines = try String(contentsOfFile: acked, encoding: .utf8).split(separator: "\n")
        let ackedKeys = lines.compactMap { line -> String? in
            guard let pair = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [Any], pair.count == 2 else {
                return nil
            }
            return "\(pair[0])@\(pair[1])"
        }
        let (_, body) = try await HTTP.request("GET", second.baseURL + "/apps/sensors/export.csv?features=event_count")
        let records = Self.parseCSV(String(decoding: body, as: UTF8.self)).dropFirst()
        let iso = ISO8601DateFormatter()
        iso.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        var stored: [String: Int] = [:]
        for r in records where r.count >= 2 {
            let ms = Int64(((iso.date(from: r[0])?.timeIntervalSince1970 ?? 0) * 1_000).rounded())
            stored["\(r[1])@\(ms)", default: 0] += 1
        }
        let missing = ackedKeys.filter { stored[$0] == nil }
        print(
            "sensors: \(ackedKeys.count) readings acknowledged around a SIGKILL, \(stored.count) stored, \(missing.count) acknowledged but missing, \(stored.values.filter { $0 > 1 }.count) duplicated; streamer: \(String(decoding: run.output, as: UTF8.self))"
        )
        #expect(ackedKeys.count > 200)
        let delivered = [earlyBody, lateBody].compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0)) as? [String: Any])?["readings"] as? Int
        }
        #expect(delivered.count == 2 && delivered.allSatisfy { $0 > 0 }, "both deliveries moved readings: \(delivered)")
        #expect(missing.isEmpty, "\(missing.prefix(5))")
        #expect(stored.values.allSatisfy { $0 == 1 }, "exactly once")
    }

    @Test("a rate anomaly becomes a finding that reaches a real SMTP server and a webhook receiver")
    func findingToEmailAndWebhook() async throws {
        let root = TemporaryDirectory("plumb-sensors-finding")
        defer { root.remove() }
        let smtp = try await PeerProcess(
            script: "smtp_sink.py", arguments: ["--outdir", root.path + "/mail"], logDirectory: root.path)
        defer { smtp.stop() }
        let hookLog = root.path + "/hook.jsonl"
        let hook = try await PeerProcess(
            script: "webhook_receiver.py", arguments: ["--log", hookLog, "--secret", "s3cret-s3cret-s3cret"],
            logDirectory: root.path)
        defer { hook.stop() }
        try FileManager.default.createDirectory(atPath: root.path + "/alerts", withIntermediateDirectories: true)
        try """
        topics:
          - name: sensors-findings
            subscriptions:
              - {protocol: email, endpoint: science@example.com}
              - {protocol: webhook, endpoint: "http://127.0.0.1:\(hook.port)/hook", secret_env: HOOK_SECRET}
        """.write(toFile: root.path + "/alerts/findings.yaml", atomically: true, encoding: .utf8)
        try """
        alerts: \(root.path)/alerts
        smtp: {host: 127.0.0.1, port: \(smtp.port), starttls: never, from: plumb@example.com}
        """.write(toFile: root.path + "/plumb.yaml", atomically: true, encoding: .utf8)
        let server = try ServerProcess(
            dataDirectory: root.path + "/data", extraArguments: ["--config", root.path + "/plumb.yaml"],
            environment: ["HOOK_SECRET": "s3cret-s3cret-s3cret"])
        defer { server.kill(signal: SIGKILL) }
        try await server.waitReady()
        for (path, body) in [
            ("/projects", #"{"id": "muon"}"#), ("/sites", #"{"id": "s1", "project": "muon"}"#),
            ("/detectors", #"{"id": "D-7", "site": "s1"}"#),
        ] {
            let (status, _) = try await HTTP.request(
                "POST", server.baseURL + "/apps/sensors" + path, body: Array(body.utf8), token: server.token)
            #expect(status == 201)
        }
        // 300 s of normal readings (about 1.2 Hz, two a second), then a minute at 5 Hz.
        let end = Int64(Date().timeIntervalSince1970 * 1_000)
        var rng = SystemRandomNumberGenerator()
        var lines: [String] = []
        for i in 0..<720 {
            let ms = end - Int64(720 - i) * 500
            let rate =
                i < 600
                ? 1.2 + Double.random(in: -0.05...0.05, using: &rng)
                : 5.0 + Double.random(in: -0.05...0.05, using: &rng)
            lines.append(
                Self.reading("D-7", ms).replacingOccurrences(of: "\"rate_hz\":1.25", with: "\"rate_hz\":\(rate)"))
        }
        let (ingested, answer) = try await HTTP.request(
            "POST", server.baseURL + "/apps/sensors/batches", body: Array(lines.joined(separator: "\n").utf8))
        #expect(ingested == 200, "\(String(decoding: answer, as: UTF8.self))")
        let (scored, body) = try await HTTP.request("POST", server.baseURL + "/apps/sensors/score", token: server.token)
        #expect(scored == 200)
        let findings =
            (try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])?["findings"] as? [[String: Any]]
            ?? []
        let finding = try #require(findings.first, "\(String(decoding: body, as: UTF8.self))")
        #expect(finding["detector"] as? String == "D-7" && finding["kind"] as? String == "rate-anomaly")
        #expect((finding["z"] as? Double ?? 0) > 6 && finding["messageId"] is String, "\(finding)")
        // Scoring again within 10 minutes adds nothing.
        let (_, again) = try await HTTP.request("POST", server.baseURL + "/apps/sensors/score", token: server.token)
        #expect(
            ((try JSONSerialization.jsonObject(with: Data(again)) as? [String: Any])?["findings"] as? [Any])?.isEmpty
                == true)

        try await waitUntil("the webhook", timeout: .seconds(15), every: .milliseconds(200)) {
            !PeerRecords.jsonLines(hookLog).isEmpty
        }
        try await waitUntil("the email", timeout: .seconds(15), every: .milliseconds(200)) {
            !PeerRecords.jsonFiles(root.path + "/mail").isEmpty
        }
        let record = try #require(PeerRecords.jsonLines(hookLog).first)
        #expect(record["signature_valid"] as? Bool == true)
        let payload = try #require(record["body"] as? [String: Any])
        #expect(payload["topic"] as? String == "sensors-findings")
        let message =
            (try? JSONSerialization.jsonObject(with: Data((payload["message"] as? String ?? "").utf8)))
            as? [String: Any] ?? [:]
        #expect(message["detector"] as? String == "D-7" && message["findingId"] as? Int == finding["findingId"] as? Int)
        let mail = try #require(PeerRecords.jsonFiles(root.path + "/mail").first)
        // "Sensor finding: D-7 rate 5.00 Hz against a 1.20 Hz baseline". The rates are random (5 and 1.2 Hz ± 0.05),
        // so their means may print as 4.99 or 1.21.
        let subject = mail["subject"] as? String ?? ""
        let words = subject.split(separator: " ").map(String.init)
        let shape =
            words.count == 11 && words[..<4] == ["Sensor", "finding:", "D-7", "rate"]
            && words[5...7] == ["Hz", "against", "a"] && words[9...] == ["Hz", "baseline"]
        let rates = shape ? [Double(words[4]), Double(words[8])] : []
        #expect(shape && abs((rates[0] ?? 0) - 5) <= 0.05 && abs((rates[1] ?? 0) - 1.2) <= 0.05, "\(subject)")
        #expect(mail["rcpt_tos"] as? [String] == ["science@example.com"])
    }

    @Test("a device streams over one chunked request and gets an acknowledgement line per chunk, after its commit")
    func chunkedStreamWithAcks() async throws {
        let root = TemporaryDirectory("plumb-sensors-stream")
        defer { root.remove() }
        let server = try ServerProcess(dataDirectory: root.path + "/data")
        defer { server.kill(signal: SIGKILL) }
        try await server.waitReady()
        for (path, body) in [
            ("/projects", #"{"id": "muon"}"#), ("/sites", #"{"id": "s1", "project": "muon"}"#),
            ("/detectors", #"{"id": "D-5", "site": "s1"}"#),
        ] {
            _ = try await HTTP.request(
                "POST", server.baseURL + "/apps/sensors" + path, body: Array(body.utf8), token: server.token)
        }
        let run = try await Python.run(
            Checkout.root + "/Tests/peers/sensor_stream.py",
            [
                "--port", String(server.port), "--detector", "D-5", "--chunks", "5", "--per-chunk", "4", "--start",
                "1795000000000",
                "--bad-line-in-chunk", "3",
            ])
        try #require(run.status == 0, "\(run.errors)")
        let out = try #require(try JSONSerialization.jsonObject(with: run.output) as? [String: Any])
        #expect(out["status"] as? Int == 200)
        let acks = try #require(out["acks"] as? [[String: Any]])
        #expect(acks.count == 5)
        #expect(acks.map { $0["chunk"] as? Int } == [1, 2, 3, 4, 5])
        #expect(acks.map { $0["accepted"] as? Int } == [4, 4, 4, 4, 4])
        #expect(
            acks.map { ($0["sequences"] as? [String: Int])?["D-5"] } == [4, 8, 12, 16, 20],
            "sequence numbers as committed")
        #expect(
            acks[2]["rejected"] as? Int == 1
                && ((acks[2]["rejections"] as? [[String: Any]])?.first?["line"] as? Int) == 13, "\(acks[2])")
        #expect(acks[3]["lines"] as? [Int] == [14, 17], "line numbers run across chunks")
        let (_, detector) = try await HTTP.request("GET", server.baseURL + "/apps/sensors/detectors/D-5")
        #expect((try JSONSerialization.jsonObject(with: Data(detector)) as? [String: Any])?["readings"] as? Int == 20)
    }

    @Test("with findings_model set, the classifier's model scores the last minute through the host")
    func findingsFromTheClassifierModel() async throws {
        let configure: (inout ServerConfig) -> Void = {
            $0.plugins["sensors"] = ["findings_model": "sensor-anomaly"]
        }
        try await withTestServer(
            plugins: [SensorsPlugin.self, ClassifierPlugin.self],
            configure: configure
        ) { server, client in
            // A model on the readings' 8 features: normal (≈ 1.2 Hz, 60 events) against anomalous (≈ 5 Hz, 300 events).
            var csv =
                "event_count,coincidence_count,rate_hz,temperature_c,pressure_hpa,sipm_voltage_v,dead_time_ms,adc_peak,label\n"
            for i in 0..<200 {
                let anomalous = i % 2 == 1
                let jitter = Double(i % 10) / 100
                csv +=
                    "\(anomalous ? 300 + i % 7 : 60 + i % 5),12,\(anomalous ? 5.0 + jitter : 1.2 + jitter),19.5,1012.7,29.41,0.31,805,\(anomalous ? "anomaly" : "normal")\n"
            }
            let uploaded = try await client.admin(
                "/apps/classifier/datasets?name=sensor-anomaly&label=label", method: .post, body: csv, server: server)
            #expect(uploaded.status.code == 201, "\(uploaded.text)")
            let trained = try await client.admin(
                "/apps/classifier/train", method: .post, body: #"{"model": "sensor-anomaly", "folds": 3}"#,
                server: server)
            #expect(trained.status.code == 201 && (trained.json["accuracy"] as? Double ?? 0) > 0.95, "\(trained.text)")
            for (path, body) in [
                ("/projects", #"{"id": "muon"}"#), ("/sites", #"{"id": "s1", "project": "muon"}"#),
                ("/detectors", #"{"id": "D-9", "site": "s1"}"#),
            ] {
                _ = try await client.admin("/apps/sensors" + path, method: .post, body: body, server: server)
            }
            let end = Int64(Date().timeIntervalSince1970 * 1_000)
            let lines = (0..<40).map { i in
                Self.reading("D-9", end - Int64(40 - i) * 500)
                    .replacingOccurrences(of: "\"rate_hz\":1.25", with: "\"rate_hz\":5.02")
                    .replacingOccurrences(of: "\"event_count\":60", with: "\"event_count\":301")
            }
            let batch = try await client.execute(
                uri: "/apps/sensors/batches", method: .post, body: ByteBuffer(string: lines.joined(separator: "\n")))
            #expect(batch.json["accepted"] as? Int == 40)
            let scored = try await client.admin("/apps/sensors/score", method: .post, server: server)
            let finding = try #require((scored.json["findings"] as? [[String: Any]])?.first, "\(scored.text)")
            #expect(finding["kind"] as? String == "model" && finding["model"] as? String == "sensor-anomaly")
            #expect(finding["fraction"] as? Double == 1, "\(finding)")
            // The calls went through the host: the classifier counted them as its own invocations and stored them.
            let stored = try await client.execute(
                uri: "/apps/classifier/predictions?model=sensor-anomaly&limit=1000", method: .get)
            #expect((stored.json["items"] as? [Any])?.count == 40)
        }
    }
}
