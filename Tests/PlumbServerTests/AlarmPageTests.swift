import Classifier
import Foundation
import PlumbKit
import PlumbTesting
import Testing

/// Alarm mails and the alarm page end to end with real peers: a real `plumb serve`, a real SMTP server (aiosmtpd),
/// Python's `email` package reading the mail as a client does, and headless Chromium showing the mail (its inline
/// chart) and the page its link opens. The alarm is a metric-math one: an error rate from two metrics.
@Suite("Alarm page and alarm mails end to end", .serialized)
struct AlarmPageTests {
    /// Deliberately not the listen address: links must be built from `public_url`.
    static let publicURL = "https://plumb.example.test:8443"
    static let alarm = "e2e-error-rate"

    /// A server whose metric-math alarm went OK → ALARM, and the mail that said so.
    struct Breach {
        let root: TemporaryDirectory
        let smtp: PeerProcess
        let server: ServerProcess
        /// smtp_sink.py's summary of the mail, and the raw message it received.
        let mail: [String: Any]
        let eml: String

        func stop() {
            if server.process.isRunning { server.kill(signal: SIGKILL) }
            smtp.stop()
            root.remove()
        }
    }

    static func breach(_ prefix: String) async throws -> Breach {
        let root = TemporaryDirectory(prefix)
        let smtp = try await PeerProcess(
            script: "smtp_sink.py", arguments: ["--outdir", root.path + "/mail"], logDirectory: root.path)
        try AlarmNotificationTests.write(
            """
            topics:
              - name: ops
                subscriptions:
                  - {protocol: email, endpoint: oncall@example.com}
            alarms:
              - name: \(alarm)
                description: share of failed checkouts
                metrics:
                  - {id: e, metric: {namespace: Test/E2E, name: Errors, dimensions: {Function: checkout}}, stat: Sum, return: false}
                  - {id: i, metric: {namespace: Test/E2E, name: Invocations, dimensions: {Function: checkout}}, stat: Sum, return: false}
                  - {id: rate, expression: "100 * e / i", label: Error rate}
                period: 10
                evaluation_periods: 1
                comparison: GreaterThanThreshold
                threshold: 5
                treat_missing_data: notBreaching
                alarm_actions: [ops]
            """, to: root.path + "/alerts/e2e.yaml")
        try AlarmNotificationTests.write(
            """
            alerts: \(root.path)/alerts
            public_url: \(publicURL)/
            alarm_page: {link_expiry: 3600}
            smtp: {host: 127.0.0.1, port: \(smtp.port), starttls: never, from: plumb@example.com}
            """, to: root.path + "/plumb.yaml")
        let server = try ServerProcess(
            dataDirectory: root.path + "/data", extraArguments: ["--config", root.path + "/plumb.yaml"])
        try await server.waitReady()
        func state() async throws -> String? {
            let (_, body) = try await HTTP.request(
                "GET", server.baseURL + "/api/v1/alarms/\(alarm)", token: server.token)
            return json(body)["state"] as? String
        }
        // The first evaluation finds no data: OK (notBreaching), which has no action.
        try await waitUntil("the first evaluation", timeout: .seconds(25), every: .milliseconds(200)) {
            try await state() == "OK"
        }

        // Two minutes of 1–4 % errors, then 12 % and 18 %: the periods just before and after now (and two ahead,
        // so that whichever evaluation comes next sees a breach).
        let now = Int64(Date().timeIntervalSince1970)
        let current = now - now % 10
        var data: [[String: Any]] = []
        func point(_ name: String, _ t: Int64, _ value: Double) -> [String: Any] {
            [
                "name": name, "dimensions": ["Function": "checkout"], "timestamp": t, "value": value, "unit": "Count",
                "storageResolution": 1,
            ]
        }
        for (k, errors) in [2.0, 1, 3, 2, 1, 1, 2, 4, 3, 1, 2, 1, 3, 2].enumerated() {
            let t = current - Int64(150 - 10 * k)
            data += [point("Invocations", t, 100), point("Errors", t, errors)]
        }
        for (t, errors) in [(current - 10, 12.0), (current, 18), (current + 10, 18), (current + 20, 18)] {
            data += [point("Invocations", t, 100), point("Errors", t, errors)]
        }
        let body = try JSONSerialization.data(withJSONObject: ["namespace": "Test/E2E", "data": data])
        let (status, answer) = try await HTTP.request(
            "POST", server.baseURL + "/api/v1/metrics", body: Array(body), token: server.token)
        #expect(status == 200 || status == 204, "\(String(decoding: answer, as: UTF8.self))")
        try await waitUntil("ALARM", timeout: .seconds(40), every: .milliseconds(200)) { try await state() == "ALARM" }
        try await waitUntil("the mail", timeout: .seconds(15), every: .milliseconds(200)) {
            !PeerRecords.jsonFiles(root.path + "/mail").isEmpty
        }
        let mail = try #require(PeerRecords.jsonFiles(root.path + "/mail").first)
        let eml = try #require(
            try FileManager.default.contentsOfDirectory(atPath: root.path + "/mail").filter { $0.hasSuffix(".eml") }
                .sorted().first)
        return Breach(root: root, smtp: smtp, server: server, mail: mail, eml: root.path + "/mail/" + eml)
    }

    /// Pixels of a screenshot that are the chart's breach red (#c0392b) or near it.
    static func redPixels(_ path: String) throws -> (red: Int, width: Int, height: Int) {
        let (image, _) = try DecodedImage.decode(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
        var red = 0
        for p in stride(from: 0, to: image.rgb.count, by: 3)
        where image.rgb[p] > 160 && image.rgb[p + 1] < 100 && image.rgb[p + 2] < 90 {
            red += 1
        }
        return (red, image.width, image.height)
    }

    /// With `PLUMB_SCREENSHOT_DIR` set, the screenshot is kept there (docs/alarm-page.png, docs/alarm-mail.png).
    static func keep(_ path: String, as name: String) {
        guard let directory = ProcessInfo.processInfo.environment["PLUMB_SCREENSHOT_DIR"] else { return }
        try? FileManager.default.removeItem(atPath: directory + "/" + name)
        try? FileManager.default.copyItem(atPath: path, toPath: directory + "/" + name)
    }

    @Test(
        "a metric-math alarm's mail names its expression and metrics, carries its chart as an inline PNG, parses without defects and shows in Chromium"
    )
    func metricMathMail() async throws {
        let breach = try await Self.breach("plumb-alarm-mail")
        defer { breach.stop() }
        #expect(breach.mail["subject"] as? String == "ALARM: \"\(Self.alarm)\" in Plumb")
        let mail = try await Python.peer(
            "mail_inspect.py", ["--eml", breach.eml, "--html-out", breach.root.path + "/mail.html"])

        // What the mail says about the alarm: the expression and each metric, never an invented single metric.
        let text = try #require(mail["text"] as? String)
        let html = try #require(mail["html"] as? String)
        let queries = [
            ("e", "namespace Test/E2E, metric Errors, dimensions Function = checkout, statistic Sum"),
            ("i", "namespace Test/E2E, metric Invocations, dimensions Function = checkout, statistic Sum"),
            ("rate", "expression 100 * e / i, label \"Error rate\" — returned: the alarm watches this"),
        ]
        for (id, query) in queries {
            #expect(text.contains("- \(id): \(query)\n"), "the text part lacks \(id): \(query):\n\(text)")
            #expect(
                html.contains(
                    "<tr><th>\(id)</th><td>\(query.replacingOccurrences(of: "\"", with: "&quot;"))</td></tr>"),
                "the HTML part lacks \(id)")
        }
        for needle in [
            "when the expression rate (100 * e / i) is GreaterThanThreshold 5.0 for at least 1 of the last 1 period(s) of 10 seconds",
            "Metric math (periods of 10 seconds)",
        ] {
            #expect(text.contains(needle) && html.contains(needle), "the mail lacks \(needle):\n\(text)")
        }
        for invented in ["Plumb/MetricMath", "Statistic: Average", "Monitored metric"] {
            #expect(!text.contains(invented) && !html.contains(invented), "the mail still shows \(invented)")
        }
        #expect(text.contains("(breaching)"), "the evaluated datapoints are listed with the breach marked")

        // As a mail client reads it: no defects anywhere, the chart a PNG in multipart/related that the HTML shows.
        #expect((mail["defects"] as? [String]) == [], "\(mail["defects"] ?? "")")
        #expect(
            (mail["structure"] as? [String]) == [
                "multipart/alternative", "text/plain", "multipart/related", "text/html", "image/png",
            ])
        let images = try #require(mail["images"] as? [String: [String: Any]])
        #expect(
            Set(images.keys) == Set(mail["referenced_cids"] as? [String] ?? []) && images.count == 1,
            "\(images.keys) vs \(mail["referenced_cids"] ?? "")")
        let image = try #require(images.values.first)
        #expect(image["disposition"] as? String == "inline")
        let png = try #require(image["png"] as? [String: Any])
        #expect(
            png["signature_ok"] as? Bool == true && png["crc_ok"] as? Bool == true && png["idat_ok"] as? Bool == true,
            "\(png)")
        #expect(png["width"] as? Int == 1280 && png["height"] as? Int == 440, "\(png)")
        let pixels = 1280 * 440
        let red = png["red_pixels"] as? Int ?? 0
        let white = png["white_pixels"] as? Int ?? 0
        print(
            "alarm mail: \(image["bytes"] ?? 0) bytes of PNG, \(red) breach-red pixels, \(white * 100 / pixels) % white"
        )
        #expect(red > 200, "the breach dots and the threshold line are drawn in red")
        #expect(white > pixels / 2, "a white background")

        // Chromium shows the mail's HTML with its inline image decoded, at the size the HTML asks.
        let shot = breach.root.path + "/alarm-mail.png"
        let shown = try #require(
            try await Python.peer(
                "browser.py",
                ["--url", "file://" + breach.root.path + "/mail.html", "--page", "alarm-mail", "--out", shot])["shown"]
                as? [String: Any])
        #expect(shown["naturalWidth"] as? Int == 1280 && shown["naturalHeight"] as? Int == 440, "\(shown)")
        #expect((shown["shownWidth"] as? NSNumber)?.doubleValue == 640, "\(shown)")
        #expect((shown["heading"] as? String) == "ALARM: \(Self.alarm)")
        let screenshot = try Self.redPixels(shot)
        #expect(screenshot.red > 300, "the screenshot shows the red heading and breach marks: \(screenshot)")
        Self.keep(shot, as: "alarm-mail.png")
    }

    @Test(
        "the mail's link opens a signed read-only alarm page (state, reason, threshold, chart, history) in Chromium; changed or expired links get 403"
    )
    func alarmPageThroughTheLink() async throws {
        let breach = try await Self.breach("plumb-alarm-page")
        defer { breach.stop() }
        let server = breach.server
        let parts = try #require(breach.mail["parts"] as? [String: String])
        let text = try #require(parts["text/plain"])
        let link = try #require(
            text.split(separator: "\n").first { $0.hasPrefix("View this alarm: ") }.map {
                String($0.dropFirst("View this alarm: ".count))
            }, "\(text)")
        // Absolute, from public_url, signed and expiring after alarm_page.link_expiry (3600 s here).
        let prefix = Self.publicURL + "/alarms/\(Self.alarm)?exp="
        try #require(link.hasPrefix(prefix), "the link is \(link)")
        #expect(parts["text/html"]?.contains("href=\"\(link.replacingOccurrences(of: "&", with: "&amp;"))\"") == true)
        let query = try #require(URLComponents(string: link)?.queryItems)
        let exp = try #require(query.first { $0.name == "exp" }?.value.flatMap { Int64($0) })
        let sig = try #require(query.first { $0.name == "sig" }?.value)
        let now = Int64(Date().timeIntervalSince1970)
        #expect(abs(exp - (now + 3_600)) < 120, "exp \(exp) is an hour from now (\(now))")
        #expect(sig.count == 43)
        let local = server.baseURL + String(link.dropFirst(Self.publicURL.count))

        // The page, without any token.
        let page = try await HTTP.exchange("GET", local)
        let body = String(decoding: page.body, as: UTF8.self)
        #expect(page.status == 200, "\(body.prefix(500))")
        #expect(page.headers["content-type"] == "text/html; charset=utf-8")
        #expect(page.headers["cache-control"] == "no-store" && page.headers["referrer-policy"] == "no-referrer")
        #expect(page.headers["content-security-policy"]?.hasPrefix("default-src 'none'") == true)
        for needle in [
            ">ALARM</span>", Self.alarm, "share of failed checkouts",
            "Threshold Crossed: 1 out of the last 1 datapoints",
            "when the expression rate (100 * e / i) is GreaterThanThreshold 5.0", "<svg", "stroke-dasharray",
            "Alarm updated from OK to ALARM", "Successfully executed action ops", "namespace Test/E2E, metric Errors",
        ] {
            #expect(body.contains(needle), "the page lacks \(needle)")
        }
        let breachDots = body.components(separatedBy: "r=\"4.5\" fill=\"#c0392b\"").count - 1
        #expect(breachDots >= 1, "the breaching datapoints are marked")

        let shot = breach.root.path + "/alarm-page.png"
        let shown = try #require(
            try await Python.peer("browser.py", ["--url", local, "--page", "alarm-page", "--out", shot])["shown"]
                as? [String: Any])
        #expect(shown["state"] as? String == "ALARM", "\(shown)")
        #expect(
            (shown["breaches"] as? Int ?? 0) >= 1 && (shown["chartWidth"] as? NSNumber)?.doubleValue == 640, "\(shown)")
        #expect((shown["historyRows"] as? Int ?? 0) >= 3, "\(shown)")
        let screenshot = try Self.redPixels(shot)
        #expect(screenshot.red > 300, "the screenshot shows the state badge and the breach: \(screenshot)")
        print(
            "alarm page: \(page.body.count) bytes, \(breachDots) breach dots, screenshot \(screenshot.width)×\(screenshot.height) with \(screenshot.red) red pixels"
        )
        Self.keep(shot, as: "alarm-page.png")

        // A changed link is refused: another signature, a later expiry, another alarm.
        func error(_ url: String, accept: String? = nil) async throws -> (Int, String, String) {
            let answer = try await HTTP.exchange("GET", url, headers: accept.map { ["Accept": $0] } ?? [:])
            let object = (json(answer.body)["error"] as? [String: Any]) ?? [:]
            return (
                answer.status, object["code"] as? String ?? String(decoding: answer.body, as: UTF8.self),
                object["message"] as? String ?? ""
            )
        }
        let base = server.baseURL + "/alarms/"
        let flipped = String(sig.prefix(10)) + (sig.dropFirst(10).first == "A" ? "B" : "A") + String(sig.dropFirst(11))
        var refusals: [String: (Int, String, String)] = [:]
        refusals["signature changed"] = try await error(base + "\(Self.alarm)?exp=\(exp)&sig=\(flipped)")
        refusals["expiry changed"] = try await error(base + "\(Self.alarm)?exp=\(exp + 86_400)&sig=\(sig)")
        refusals["other alarm"] = try await error(base + "another-alarm?exp=\(exp)&sig=\(sig)")
        for (what, (status, code, _)) in refusals {
            #expect(status == 403 && code == "InvalidSignature", "\(what): \(status) \(code)")
        }
        // A link signed with the server's key (by a second implementation of the scheme) that has expired.
        let keyFile = server.dataDirectory + "/alarm-links.key"
        let expired = now - 60
        let expiredSig = try #require(
            try await Python.peer("alarm_link.py", ["--key", keyFile, "--name", Self.alarm, "--exp", String(expired)])[
                "sig"] as? String)
        let (expiredStatus, expiredCode, expiredMessage) = try await error(
            base + "\(Self.alarm)?exp=\(expired)&sig=\(expiredSig)")
        #expect(
            expiredStatus == 403 && expiredCode == "LinkExpired" && expiredMessage.hasPrefix("exp: this link expired"),
            "\(expiredStatus) \(expiredCode) \(expiredMessage)")
        // The same scheme with a future expiry opens the page: the format is what the README says.
        let fresh = try #require(
            try await Python.peer(
                "alarm_link.py", ["--key", keyFile, "--name", Self.alarm, "--exp", String(now + 600)])["sig"] as? String
        )
        #expect(try await HTTP.exchange("GET", base + "\(Self.alarm)?exp=\(now + 600)&sig=\(fresh)").status == 200)
        let ghost = try #require(
            try await Python.peer("alarm_link.py", ["--key", keyFile, "--name", "ghost", "--exp", String(now + 600)])[
                "sig"] as? String)
        #expect(try await error(base + "ghost?exp=\(now + 600)&sig=\(ghost)").0 == 404)
        // A browser is told in a small page.
        let (htmlStatus, htmlBody, _) = try await error(
            base + "\(Self.alarm)?exp=\(exp)&sig=\(flipped)", accept: "text/html,application/xhtml+xml")
        #expect(
            htmlStatus == 403 && htmlBody.contains("This alarm link does not open"),
            "\(htmlStatus) \(htmlBody.prefix(300))")
        // Malformed parts are 400s that name the part.
        for (url, field) in [
            (base + "a%0D%0Ab?exp=\(exp)&sig=\(sig)", "name"), (base + "\(Self.alarm)?exp=1e300&sig=\(sig)", "exp"),
            (base + "\(Self.alarm)?exp=\(exp)&sig=abc", "sig"), (base + "\(Self.alarm)", "exp"),
            (base + "\(Self.alarm)?exp=\(exp)", "sig"),
        ] {
            let (status, _, message) = try await error(url)
            #expect(status == 400 && message.contains(field), "\(url): \(status) \(message)")
        }
        // The key: 32 bytes, the owner's alone.
        let attributes = try FileManager.default.attributesOfItem(atPath: keyFile)
        #expect((attributes[.posixPermissions] as? Int) == 0o600 && (attributes[.size] as? Int) == 32, "\(attributes)")
    }
}
