import Foundation
import PlumbTesting
import Testing

/// HTTPS on the listener, against a real `plumb serve` with certificates from a private CA made by `openssl`, and
/// real clients: curl (HTTP/1.1 and HTTP/2 by ALPN), Python's urllib and requests, the `websockets` package over
/// wss://, and a Python client that holds a keep-alive connection across a SIGHUP reload.
@Suite struct TLSTests {
    static func config(_ certificate: TestCertificateAuthority.Issued, extra: String = "") -> String {
        "tls:\n  cert_file: \(certificate.certFile)\n  key_file: \(certificate.keyFile)\n" + extra
    }

    /// curl's exit status and output (`-w` appends what it is asked for).
    static func curl(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        try await CLI.runProgram("/usr/bin/env", ["curl", "--silent", "--show-error", "--max-time", "10"] + arguments)
    }

    /// Waits until `/readyz` answers over TLS.
    static func waitReady(_ server: ServerProcess, ca: String) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if !server.process.isRunning { throw TestFailure("plumb serve exited early:\n\(server.log)") }
            let probe = try await curl(["--cacert", ca, "https://localhost:\(server.port)/readyz"])
            if probe.status == 0 && probe.output.contains("ready") { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw TestFailure("plumb serve not ready over TLS:\n\(server.log)")
    }

    /// Tests/peers/tls_client.py's JSON report.
    static func tlsClient(_ arguments: [String]) async throws -> [String: Any] {
        try await Python.peer("tls_client.py", arguments, timeout: .seconds(90))
    }

    @Test func curlPythonHTTP2AndWebSocketOverTLS() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let ca = try await TestCertificateAuthority(directory: dir.path + "/ca")
        let certificate = try await ca.issue("example")
        let server = try await ServerProcess.start(
            config: Self.config(certificate, extra: "http:\n  header_timeout: 2\n"), in: dir, ready: false)
        defer { server.kill(signal: SIGKILL) }
        try await Self.waitReady(server, ca: ca.caFile)
        let base = "https://localhost:\(server.port)"

        let http1 = try await Self.curl([
            "--http1.1", "--cacert", ca.caFile, "-w", "\n%{http_version}", base + "/healthz",
        ])
        #expect(http1.status == 0, "\(http1.output)")
        #expect(http1.output == "{\"status\":\"ok\"}\n1.1")
        let http2 = try await Self.curl([
            "--http2", "--cacert", ca.caFile, "-w", "\n%{http_version}", base + "/healthz",
        ])
        #expect(http2.output == "{\"status\":\"ok\"}\n2")
        // A request with a body, through a plugin, on an HTTP/2 stream.
        let analyzed = try await Self.curl([
            "--http2", "--cacert", ca.caFile, "-w", "\n%{http_version} %{response_code}", "-H",
            "content-type: application/json",
            "--data", #"{"text": "I love this, it is wonderful!"}"#, base + "/apps/sentiment/analyze",
        ])
        #expect(analyzed.output.hasSuffix("\n2 200"), "\(analyzed.output)")
        #expect(analyzed.output.contains(#""label":"Positive""#), "\(analyzed.output)")
        // Without the CA the certificate is not trusted; plain HTTP on the TLS port gets no HTTP answer.
        let untrusted = try await Self.curl([base + "/healthz"])
        #expect(untrusted.status == 60, "curl: \(untrusted.output)")
        let plain = try await Self.curl(["-w", "%{response_code}", "http://127.0.0.1:\(server.port)/healthz"])
        #expect(plain.status != 0 || !plain.output.hasSuffix("200"))

        let python = try await Self.tlsClient(["basic", "--port", String(server.port), "--ca", ca.caFile])
        #expect((python["urllib"] as? [String: Any])?["status"] as? Int == 200)
        #expect((python["requests"] as? [String: Any])?["status"] as? Int == 200)
        let chat = python["chat"] as? [String: Any]
        #expect(chat?["received"] as? String == "hello over TLS", "a WebSocket chat over wss:// on HTTP/1.1: \(python)")
        #expect(chat?["from"] as? String == "alice")
        #expect(server.log.contains("TLS certificate loaded") && server.log.contains(certificate.fingerprint))

        // The connection guard works behind TLS: a head that never ends gets an (encrypted) 408.
        let slow = try await Self.tlsClient(["slowhead", "--port", String(server.port), "--ca", ca.caFile])
        #expect((slow["received"] as? String)?.hasPrefix("HTTP/1.1 408 Request Timeout") == true, "\(slow)")
        #expect(slow["closed"] as? Bool == true)
        #expect((slow["seconds"] as? Double ?? 0) >= 1.9)
        // So is a client that opens the TCP connection and never starts the handshake: closed, silently.
        let silent = try RawConnection(port: server.port)
        defer { silent.close() }
        let received = try await offThePool { silent.read(timeout: .seconds(10)) }
        #expect(received.closed && received.bytes.isEmpty, "\(received.text)")
        #expect(try #require(received.closedAt) - silent.opened >= .milliseconds(1_950))
    }

    @Test func sighupReloadsTheCertificateAndKeepsConnections() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let ca = try await TestCertificateAuthority(directory: dir.path + "/ca")
        let first = try await ca.issue("first")
        let second = try await ca.issue("second")
        // certbot's layout: the config names live/ paths, a renewal replaces what they hold.
        let live = TestCertificateAuthority.Issued(
            certFile: dir.path + "/live/fullchain.pem", keyFile: dir.path + "/live/privkey.pem",
            fingerprint: first.fingerprint)
        try FileManager.default.createDirectory(atPath: dir.path + "/live", withIntermediateDirectories: true)
        func install(_ issued: TestCertificateAuthority.Issued) throws {
            for (from, to) in [(issued.certFile, live.certFile), (issued.keyFile, live.keyFile)] {
                try? FileManager.default.removeItem(atPath: to)
                try FileManager.default.copyItem(atPath: from, toPath: to)
            }
        }
        try install(first)
        let server = try await ServerProcess.start(config: Self.config(live), in: dir, ready: false)
        defer { server.kill(signal: SIGKILL) }
        try await Self.waitReady(server, ca: ca.caFile)
        let port = String(server.port)

        try install(second)
        let reload = try await Self.tlsClient([
            "reload", "--port", port, "--ca", ca.caFile, "--pid", String(server.process.processIdentifier),
        ])
        #expect(reload["old_fingerprint"] as? String == first.fingerprint)
        #expect(reload["new_fingerprint"] as? String == second.fingerprint, "a new connection after SIGHUP: \(reload)")
        #expect(
            (reload["after"] as? [String: Any])?["status"] as? Int == 200,
            "the keep-alive connection opened before the reload")
        #expect(reload["same_connection"] as? Bool == true)
        #expect(reload["old_connection_fingerprint"] as? String == first.fingerprint)
        #expect(server.log.contains("TLS certificate reloaded"))
        // SIGHUP still reloads the alert files too: one trap for both.
        #expect(server.log.components(separatedBy: "alert files loaded").count - 1 >= 2)

        // A renewal caught half-way: the key file is not a key. The reload is refused and logged; the second
        // certificate stays in use.
        try "not a key\n".write(toFile: live.keyFile, atomically: true, encoding: .utf8)
        server.process.signal(SIGHUP)
        let deadline = ContinuousClock.now + .seconds(15)
        while !server.log.contains("TLS certificate not reloaded") && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(server.log.contains("TLS certificate not reloaded, the previous one stays"))
        #expect(server.log.contains("holds no PEM private key"))
        let after = try await Self.tlsClient(["fingerprint", "--port", port, "--ca", ca.caFile])
        #expect(after["fingerprint"] as? String == second.fingerprint)
        let healthz = try await Self.curl(["--cacert", ca.caFile, "https://localhost:\(port)/healthz"])
        #expect(healthz.output == "{\"status\":\"ok\"}")
    }

    @Test func unreadableCertificateOrKeyIsAConfigErrorAtStart() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let ca = try await TestCertificateAuthority(directory: dir.path + "/ca")
        let certificate = try await ca.issue("example")
        let other = try await ca.issue("other")
        let cases: [(name: String, yaml: String, message: String)] = [
            (
                "missing cert", "tls:\n  cert_file: \(dir.path)/nope.pem\n  key_file: \(certificate.keyFile)\n",
                "tls.cert_file: cannot read \(dir.path)/nope.pem: no such file"
            ),
            (
                "missing key", "tls:\n  cert_file: \(certificate.certFile)\n  key_file: \(dir.path)/nope.key\n",
                "tls.key_file: cannot read \(dir.path)/nope.key: no such file"
            ),
            (
                "key of another certificate",
                "tls:\n  cert_file: \(certificate.certFile)\n  key_file: \(other.keyFile)\n",
                "does not fit the certificate in \(certificate.certFile)"
            ),
            ("no key_file", "tls:\n  cert_file: \(certificate.certFile)\n", "tls.key_file is required"),
            (
                "a key as the certificate",
                "tls:\n  cert_file: \(certificate.keyFile)\n  key_file: \(certificate.keyFile)\n",
                "holds no PEM certificate"
            ),
        ]
        for (index, problem) in cases.enumerated() {
            let path = dir.path + "/bad-\(index).yaml"
            try problem.yaml.write(toFile: path, atomically: true, encoding: .utf8)
            let serve = try await CLI.run(
                [
                    "serve", "--config", path, "--data", dir.path + "/data-\(index)", "--listen",
                    "127.0.0.1:\(ServerProcess.freePort())",
                ],
                timeout: .seconds(60))
            #expect(serve.status != 0, "\(problem.name): plumb serve started")
            #expect(serve.output.contains(problem.message), "\(problem.name): \(serve.output)")
            let check = try await CLI.run(
                ["check", "--config", path, "--alerts", dir.path + "/no-alerts"], timeout: .seconds(60))
            #expect(
                check.status != 0 && check.output.contains(problem.message),
                "plumb check, \(problem.name): \(check.output)")
        }
    }
}
