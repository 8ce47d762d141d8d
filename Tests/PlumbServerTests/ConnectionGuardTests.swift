import Foundation
import PlumbTesting
import Testing

/// The listener's timeouts, head limit and per-address cap against a real `plumb serve`, driven byte by byte over
/// plain sockets. Timeouts are set to a second or two so each test takes a few seconds; the wall-clock version at
/// scale (500 slow heads, 500 idle keep-alives, /healthz latency) is `SlowClientTimingTests`.
@Suite struct ConnectionGuardTests {
    static let request = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"

    /// The JSON error code of a guard's answer.
    static func errorCode(_ response: RawResponse?) -> String? {
        guard let response, let json = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
        else { return nil }
        return (json["error"] as? [String: Any])?["code"] as? String
    }

    @Test func slowHeadGets408ThenClose() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let server = try await ServerProcess.start(config: "http:\n  header_timeout: 1\n", in: dir)
        defer { server.kill(signal: SIGKILL) }
        let connection = try RawConnection(port: server.port)
        defer { connection.close() }
        let received = try await offThePool {
            connection.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            return connection.read(timeout: .seconds(10))
        }
        let response = RawResponse(parsing: received.bytes)
        #expect(response?.status == 408)
        #expect(response?.headers["connection"] == "close")
        #expect(Self.errorCode(response) == "RequestTimeout")
        #expect(received.closed)
        let elapsed = try #require(received.closedAt) - connection.opened
        #expect(elapsed >= .milliseconds(950), "closed after \(elapsed), before the 1 s header timeout")
        #expect(server.log.contains("open-file limit"))
        let (_, metrics) = try await HTTP.request("GET", server.baseURL + "/metrics")
        #expect(
            String(decoding: metrics, as: UTF8.self).contains(
                #"plumb_http_connections_closed_total{Reason="header_timeout"} 1"#))
    }

    @Test func slowBodyGets408ThenClose() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let server = try await ServerProcess.start(config: "http:\n  body_timeout: 1\n", in: dir)
        defer { server.kill(signal: SIGKILL) }
        let connection = try RawConnection(port: server.port)
        defer { connection.close() }
        let token = server.token
        let received = try await offThePool {
            connection.send(
                "POST /write?precision=s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(token)\r\n"
                    + "Content-Length: 100\r\n\r\ncpu,host=a value=1 ")
            return connection.read(timeout: .seconds(10))
        }
        let response = RawResponse(parsing: received.bytes)
        #expect(response?.status == 408, "\(received.text)")
        #expect(Self.errorCode(response) == "RequestTimeout")
        #expect(response?.text.contains("body") == true)
        #expect(received.closed)
        // The server goes on serving.
        let (status, _) = try await HTTP.request("GET", server.baseURL + "/healthz")
        #expect(status == 200)
    }

    @Test func idleKeepAliveIsClosedAfterTheIdleTimeout() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let server = try await ServerProcess.start(config: "http:\n  idle_timeout: 1.5\n", in: dir)
        defer { server.kill(signal: SIGKILL) }
        let connection = try RawConnection(port: server.port)
        defer { connection.close() }
        let (first, second, idle, answeredAt) = try await offThePool {
            connection.send(Self.request)
            let first = connection.readResponse(timeout: .seconds(5))
            Thread.sleep(forTimeInterval: 1)  // within the idle timeout: the connection is kept
            connection.send(Self.request)
            let second = connection.readResponse(timeout: .seconds(5))
            let answeredAt = ContinuousClock.now
            return (first, second, connection.read(timeout: .seconds(10)), answeredAt)
        }
        #expect(first?.status == 200)
        #expect(second?.status == 200, "a keep-alive connection used within the idle timeout must stay open")
        #expect(idle.closed)
        #expect(idle.bytes.isEmpty, "an idle close says nothing: \(idle.text)")
        let idleFor = try #require(idle.closedAt) - answeredAt
        // Counted from when this client had read the answer, a little after the server wrote it (and started its timer).
        #expect(idleFor >= .milliseconds(1_200), "closed after \(idleFor) idle, before the 1.5 s idle timeout")
        #expect(idleFor < .seconds(5), "idle for \(idleFor) before it was closed")
    }

    @Test func oversizeHeadGets431() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let server = try await ServerProcess.start(config: "http: {}\n", in: dir)
        defer { server.kill(signal: SIGKILL) }
        func send(_ head: String) async throws -> RawRequestOutcome {
            let connection = try RawConnection(port: server.port)
            defer { connection.close() }
            return try await offThePool {
                connection.send(head)
                let received = connection.read(timeout: .seconds(10)) { RawResponse(parsing: $0) != nil }
                return RawRequestOutcome(
                    response: RawResponse(parsing: received.bytes),
                    closedAfter: connection.read(timeout: .seconds(5)).closed)
            }
        }
        let big = try await send(
            "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: \(String(repeating: "a", count: 100_000))\r\n\r\n")
        #expect(big.response?.status == 431)
        #expect(Self.errorCode(big.response) == "RequestHeaderFieldsTooLarge")
        #expect(big.closedAfter)
        let justUnder = try await send(
            "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: \(String(repeating: "a", count: 60_000))\r\n\r\n")
        #expect(justUnder.response?.status == 200)
        let fields = try await send(
            "GET /healthz HTTP/1.1\r\n" + (0..<1_001).map { "X-\($0): y\r\n" }.joined() + "\r\n")
        #expect(fields.response?.status == 431)
        let malformed = try await send("GET /healthz HTTP/1.1\r\nthis line has no colon\r\n\r\n")
        #expect(malformed.response?.status == 400)
        #expect(malformed.closedAfter)
    }

    struct RawRequestOutcome: Sendable {
        let response: RawResponse?
        let closedAfter: Bool
    }

    @Test func perAddressCapRefusesTheNextConnectionAndFreesSlots() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        // The held connections below must not be closed for idling between steps on a loaded machine (with an idle
        // timeout of 5 s, a full parallel run lost one: its next request got no answer), yet the readiness probe's
        // keep-alive connection holds a slot until the idle timeout closes it: 15 s, and three connections that are
        // all answered, retried until the probe's slot is free.
        let server = try await ServerProcess.start(
            config: "http:\n  max_connections_per_address: 3\n  per_address_exempt: []\n  idle_timeout: 15\n", in: dir)
        defer { server.kill(signal: SIGKILL) }
        let port = server.port
        let held = try await offThePool { () -> [RawConnection] in
            let deadline = ContinuousClock.now + .seconds(40)
            while true {
                let connections = try (0..<3).map { _ in try RawConnection(port: port) }
                let statuses = connections.map { connection in
                    connection.send(Self.request)
                    return connection.readResponse(timeout: .seconds(5))?.status
                }
                if statuses == [200, 200, 200] || ContinuousClock.now > deadline { return connections }
                for connection in connections { connection.close() }
                Thread.sleep(forTimeInterval: 0.2)
            }
        }
        defer { for connection in held { connection.close() } }
        let statuses = try await offThePool {
            held.map { connection in
                connection.send(Self.request)
                return connection.readResponse(timeout: .seconds(5))?.status
            }
        }
        #expect(statuses == [200, 200, 200])
        let refused = try await offThePool {
            let fourth = try RawConnection(port: port)
            defer { fourth.close() }
            fourth.send(Self.request)
            return fourth.read(timeout: .seconds(5))
        }
        #expect(refused.closed, "the 4th connection from one address must be closed")
        #expect(refused.bytes.isEmpty, "it is closed before anything is read: \(refused.text)")
        // Held connections are unaffected, and a closed one frees its slot.
        let stillServed = try await offThePool {
            held[1].send(Self.request)
            return held[1].readResponse(timeout: .seconds(5))?.status
        }
        #expect(stillServed == 200)
        held[0].close()
        let freed = try await offThePool { () -> Int? in
            let deadline = ContinuousClock.now + .seconds(5)
            while ContinuousClock.now < deadline {
                let connection = try RawConnection(port: port)
                defer { connection.close() }
                connection.send(Self.request)
                if let status = connection.readResponse(timeout: .seconds(2))?.status { return status }
                Thread.sleep(forTimeInterval: 0.05)
            }
            return nil
        }
        #expect(freed == 200)
        let metrics = try await offThePool { () -> String in
            held[1].send("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            return held[1].readResponse(timeout: .seconds(5))?.text ?? ""
        }
        // The 4th connection, and any retry above that came before the freed slot was given back.
        let refusals = metrics.split(separator: "\n").first { $0.hasPrefix("plumb_http_connections_refused_total ") }
        #expect(
            (refusals?.split(separator: " ").last).flatMap { Int($0) } ?? 0 >= 1, "\(refusals ?? "no refusal counter")")
    }

    @Test func loopbackIsExemptFromTheCapByDefault() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let server = try await ServerProcess.start(config: "http:\n  max_connections_per_address: 2\n", in: dir)
        defer { server.kill(signal: SIGKILL) }
        let connections = try (0..<4).map { _ in try RawConnection(port: server.port) }
        defer { for connection in connections { connection.close() } }
        let statuses = try await offThePool {
            connections.map { connection in
                connection.send(Self.request)
                return connection.readResponse(timeout: .seconds(5))?.status
            }
        }
        #expect(statuses == [200, 200, 200, 200])
    }

    /// A WebSocket connection leaves the guard's care at the 101: it outlives the HTTP timeouts.
    @Test func webSocketOutlivesTheHTTPTimeouts() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let server = try await ServerProcess.start(config: "http:\n  header_timeout: 1\n  idle_timeout: 1\n", in: dir)
        defer { server.kill(signal: SIGKILL) }
        let connection = try RawConnection(port: server.port)
        defer { connection.close() }
        let (upgrade, later) = try await offThePool {
            connection.send(
                "GET /apps/chat/ws?room=guard&user=ann HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
            let upgrade = connection.read(timeout: .seconds(5)) {
                String(decoding: $0, as: UTF8.self).contains("\r\n\r\n")
            }
            return (upgrade, connection.read(timeout: .seconds(3)))
        }
        #expect(upgrade.text.hasPrefix("HTTP/1.1 101"), "\(upgrade.text)")
        #expect(
            !later.closed, "the WebSocket was closed after \(later.closedAt.map { $0 - connection.opened } ?? .zero)")
    }
}
