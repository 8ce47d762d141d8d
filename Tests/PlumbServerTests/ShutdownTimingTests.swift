import Foundation
import PlumbTesting
import Testing

/// SIGTERM with long-lived responses open — a log tail, a chunked sensor stream, a chat WebSocket — and a tail
/// client that has gone away: the server ends each of them, flushes and exits 0 within 5 s, and a client that
/// disconnected leaves no socket in CLOSE-WAIT.
@Suite("Shutdown timing", .serialized)
struct ShutdownTimingTests {
    /// Sockets of the server's port in CLOSE-WAIT (state 08 in /proc/net/tcp).
    static func closeWaitSockets(port: Int) -> Int {
        let hexPort = String(format: ":%04X", port)
        let table = (try? String(contentsOfFile: "/proc/net/tcp", encoding: .utf8)) ?? ""
        return table.split(separator: "\n").dropFirst().filter { line in
            let fields = line.split(separator: " ")
            return fields.count > 3 && fields[1].hasSuffix(hexPort) && fields[3] == "08"
        }.count
    }

    @Test("SIGTERM with a tail, a stream and a WebSocket open exits 0 within 5 s after flushing; no CLOSE-WAIT")
    func sigtermWithLongLivedClients() async throws {
        let root = TemporaryDirectory("plumb-shutdown")
        defer { root.remove() }
        let server = try ServerProcess(dataDirectory: root.path + "/data")
        defer { if server.process.isRunning { server.kill(signal: SIGKILL) } }
        try await server.waitReady()
        for (path, body) in [
            ("/projects", #"{"id": "p"}"#), ("/sites", #"{"id": "s", "project": "p"}"#),
            ("/detectors", #"{"id": "D-1", "site": "s"}"#),
        ] {
            let (status, _) = try await HTTP.request(
                "POST", server.baseURL + "/apps/sensors" + path, body: Array(body.utf8), token: server.token)
            #expect(status == 201)
        }
        let ready = root.path + "/ready"
        let out = root.path + "/out.json"
        let token = server.token
        let port = server.port
        let clients = Task.detached {
            try await Python.run(
                Checkout.root + "/Tests/peers/long_lived_clients.py",
                ["--port", String(port), "--token", token, "--detector", "D-1", "--ready", ready, "--out", out],
                timeout: .seconds(90))
        }
        let deadline = ContinuousClock.now + .seconds(30)
        while !FileManager.default.fileExists(atPath: ready) && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        try #require(FileManager.default.fileExists(atPath: ready), "the clients did not get their connections open")

        // The tail whose client went away is noticed by its heartbeat (every 2 s): no CLOSE-WAIT within 6 s.
        var lingering = Self.closeWaitSockets(port: port)
        let noticed = ContinuousClock.now + .seconds(6)
        while lingering > 0 && ContinuousClock.now < noticed {
            try await Task.sleep(for: .milliseconds(100))
            lingering = Self.closeWaitSockets(port: port)
        }
        #expect(lingering == 0, "sockets in CLOSE-WAIT after the client went away")

        // An acknowledged datum just before the signal must be there after the restart (the head is flushed).
        let metric = #"{"namespace": "Shutdown", "data": [{"name": "Last", "value": 42}]}"#
        let (put, _) = try await HTTP.request(
            "POST", server.baseURL + "/api/v1/metrics", body: Array(metric.utf8), token: token)
        #expect(put == 204)
        let signalled = ContinuousClock.now
        server.process.signal(SIGTERM)
        let exited = try await server.waitExit(timeout: .seconds(30))
        let took = ContinuousClock.now - signalled
        print(
            "shutdown: exited \(took) after SIGTERM with a tail, a stream and a WebSocket open; CLOSE-WAIT sockets: \(lingering)"
        )
        #expect(exited && took < .seconds(5), "exit after SIGTERM took \(took)\n\(server.log.suffix(3_000))")
        #expect(server.process.exitStatus() == 0, "exit status \(String(describing: server.process.exitStatus()))")

        let run = try await clients.value
        #expect(run.status == 0, "\(run.errors)")
        let seen =
            (try? JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out)))) as? [String: Any]
            ?? [:]
        #expect((seen["tail-kept"] as? [String: Any])?["ended"] as? String == "eof", "\(seen)")
        #expect((seen["stream"] as? [String: Any])?["ended"] as? String == "eof", "\(seen)")
        #expect(
            (seen["websocket"] as? [String: Any])?["code"] as? Int == 1001,
            "the chat member is told the server is going away: \(seen)")
        #expect((seen["stream-first-ack"] as? String ?? "").contains("accepted"), "\(seen)")

        let again = try ServerProcess(dataDirectory: root.path + "/data", port: port)
        defer { again.kill(signal: SIGKILL) }
        try await again.waitReady()
        let (_, answer) = try await HTTP.request(
            "GET",
            again.baseURL
                + "/api/v1/metrics/statistics?namespace=Shutdown&name=Last&statistics=Maximum&period=60&start=-1h",
            token: again.token)
        #expect(String(decoding: answer, as: UTF8.self).contains("42"), "\(String(decoding: answer, as: UTF8.self))")
    }
}
