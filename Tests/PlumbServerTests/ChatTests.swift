import Foundation
import PlumbTesting
import Testing

/// The chat and the support bot on a real `plumb serve`, driven by Python's `websockets` (Tests/peers/chat_*.py).
@Suite("Chat over WebSocket", .serialized)
struct ChatTests {
    @Test(
        "two users exchange messages with sentiment; bad frames get errors or close codes; disconnect removes the row; @support counts 2"
    )
    func twoUsersAndBadInput() async throws {
        let root = TemporaryDirectory("plumb-chat")
        defer { root.remove() }
        let server = try ServerProcess(dataDirectory: root.path + "/data")
        defer { server.kill(signal: SIGKILL) }
        try await server.waitReady()
        let out = try await Python.peer(
            "chat_client.py",
            [
                "--url", "ws://127.0.0.1:\(server.port)/apps/chat/ws", "--http", server.baseURL, "--token",
                server.token,
            ])
        let received = try #require(out["received"] as? [String: [[String: Any]]])
        let alice = try #require(received["alice"])
        let bob = try #require(received["bob"])
        #expect(alice.count == 3 && bob.count == 3, "\(received)")
        // Messages sent at the same moment from two connections may reach members in different orders (as with
        // API Gateway); each frame carries its id, and the history is in id order.
        #expect(
            Set(alice.compactMap { $0["id"] as? Int }) == Set(bob.compactMap { $0["id"] as? Int }),
            "both see the same broadcasts")
        let labels = Dictionary(
            uniqueKeysWithValues: alice.map {
                ($0["text"] as? String ?? "", ($0["sentiment"] as? [String: Any])?["label"] as? String)
            })
        #expect(labels["I love this, it is wonderful!"] == "Positive")
        #expect(labels["This is terrible and I hate it."] == "Negative")
        #expect(labels["The meeting is at noon."] == "Neutral")

        let support = try #require(out["support"] as? [String: Any])
        #expect(support["user"] as? String == "support")
        #expect((support["text"] as? String)?.hasPrefix("2 users are online") == true, "\(support)")
        #expect((out["online_two"] as? [String: Any])?["online"] as? Int == 2)
        #expect(out["connections_two"] as? Int == 2)

        let errors = try #require(out["errors"] as? [String: Any])
        #expect((errors["not_json"] as? [String: Any])?["code"] as? String == "BadRequest")
        #expect((errors["unknown_action"] as? [String: Any])?["code"] as? String == "UnknownAction")
        #expect((errors["empty_text"] as? [String: Any])?["code"] as? String == "BadRequest")
        #expect((errors["binary_close"] as? [Any])?.first as? Int == 1003)
        #expect(
            (errors["nul_text"] as? [String: Any])?["message"] as? String
                == "'text' must not contain NUL or other control characters")
        #expect(
            (errors["invalid_utf8_close"] as? [Any])?.first as? Int == 1007, "a text frame that is not UTF-8: \(errors)"
        )
        #expect((errors["oversize_close"] as? [Any])?.first as? Int == 1009)
        #expect((errors["missing_user_close"] as? [Any])?.first as? Int == 1008)
        #expect(out["connections_after_bad"] as? Int == 2, "the refused and closed connections are not counted")

        #expect(
            (out["online_after_bob_left"] as? [String: Any])?["online"] as? Int == 1,
            "disconnect removes the connection row")
        #expect((out["online_at_end"] as? [String: Any])?["online"] as? Int == 0)

        let history = try #require((out["history"] as? [String: Any])?["items"] as? [[String: Any]])
        let ids = history.compactMap { $0["id"] as? Int }
        #expect(
            ids == ids.sorted() && ids.count == 6,
            "3 messages, the question, the bot's answer and carol's: \(history.map { $0["text"] ?? "" })")
        #expect(
            history.map { $0["text"] as? String ?? "" }.prefix(3).sorted() == [
                "I love this, it is wonderful!", "The meeting is at noon.", "This is terrible and I hate it.",
            ])

        // Pagination: the newest 4, then the 2 before them.
        let room = try #require(out["room"] as? String)
        let (_, first) = try await HTTP.request("GET", server.baseURL + "/apps/chat/rooms/\(room)/messages?limit=4")
        let page1 = try #require(try JSONSerialization.jsonObject(with: Data(first)) as? [String: Any])
        let ids1 = (page1["items"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? Int }
        #expect(ids1 == Array(ids.suffix(4)))
        let next = try #require(page1["next"] as? Int)
        let (_, second) = try await HTTP.request(
            "GET", server.baseURL + "/apps/chat/rooms/\(room)/messages?limit=4&before=\(next)")
        let page2 = try #require(try JSONSerialization.jsonObject(with: Data(second)) as? [String: Any])
        #expect((page2["items"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? Int } == Array(ids.prefix(2)))
        #expect(page2["next"] is NSNull)
        let (bad, _) = try await HTTP.request("GET", server.baseURL + "/apps/chat/rooms/\(room)/messages?limit=0")
        #expect(bad == 400)

        // The chat's own metrics, as dashboards and alarms see them.
        let (_, metrics) = try await HTTP.request("GET", server.baseURL + "/metrics")
        let exposition = String(decoding: metrics, as: UTF8.self)
        #expect(
            exposition.contains("plumb_chat_messages_per_room_total{Room=\"\(room)\"} 6"),
            "3 + the question + the answer + carol's")
        #expect(exposition.contains("plumb_chat_active_connections "))
        #expect(
            exposition.contains("plumb_functions_invocations_total{Function=\"sentiment.classify\"}"),
            "sentiment is invoked as its own function")
    }

    @Test("a connection that sends nothing for idle_timeout is closed with 1001")
    func idleTimeout() async throws {
        let root = TemporaryDirectory("plumb-chat-idle")
        defer { root.remove() }
        let config = root.path + "/plumb.yaml"
        try "websocket:\n  idle_timeout: 1\n".write(toFile: config, atomically: true, encoding: .utf8)
        let server = try ServerProcess(dataDirectory: root.path + "/data", extraArguments: ["--config", config])
        defer { server.kill(signal: SIGKILL) }
        try await server.waitReady()
        let script = """
            import asyncio, json, time, websockets
            async def main():
                ws = await websockets.connect("ws://127.0.0.1:\(server.port)/apps/chat/ws?room=idle&user=sleepy")
                started = time.monotonic()
                try:
                    while True:
                        await asyncio.wait_for(ws.recv(), 10)
                except websockets.ConnectionClosed:
                    print(json.dumps({"code": ws.close_code, "after": time.monotonic() - started}))
            asyncio.run(main())
            """
        try script.write(toFile: root.path + "/idle.py", atomically: true, encoding: .utf8)
        let data = try await Python.run(root.path + "/idle.py").output
        let result = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(result["code"] as? Int == 1001)
        #expect((result["after"] as? Double ?? 0) < 5)
    }

    @Test("a consumer that does not read is closed with 1008 at its send buffer; the others keep their latency")
    func slowConsumer() async throws {
        let root = TemporaryDirectory("plumb-chat-slow")
        defer { root.remove() }
        let config = root.path + "/plumb.yaml"
        try "websocket:\n  send_buffer_bytes: 65536\n".write(toFile: config, atomically: true, encoding: .utf8)
        let server = try ServerProcess(dataDirectory: root.path + "/data", extraArguments: ["--config", config])
        defer { server.kill(signal: SIGKILL) }
        try await server.waitReady()
        let out = try await Python.peer("chat_slow.py", ["--port", String(server.port), "--token", server.token])
        let flood = try #require((out["flood"] as? [String: [String: Any]])?.values.first)
        #expect(flood["status"] as? Int == 410, "\(flood)")
        let message = ((flood["body"] as? [String: Any])?["error"] as? [String: Any])?["message"] as? String ?? ""
        #expect(message.contains("slow consumer") || message.contains("is not open"), "\(message)")
        #expect(out["slow_close_code"] as? Int == 1008, "\(out["slow_close_code"] ?? "nil")")
        #expect(out["fast_open"] as? String == "OPEN")
        let latencies = (out["fast_latencies"] as? [Double] ?? []).sorted()
        #expect(latencies.count == 30)
        print(
            "slow consumer: closed after \(flood["posted"] ?? 0) posts of 32 kB; the other member's round trips p50 \(latencies[latencies.count / 2] * 1_000) ms, max \((latencies.last ?? 0) * 1_000) ms"
        )
        #expect((latencies.last ?? 99) < 1.0, "the other member was not held up")
        #expect(out["open_after"] as? Int == 1)
    }

    @Test("both pages in headless Chromium: a chat message and a comment are shown with their sentiment")
    func pagesInABrowser() async throws {
        let root = TemporaryDirectory("plumb-browser")
        defer { root.remove() }
        let server = try ServerProcess(dataDirectory: root.path + "/data")
        defer { server.kill(signal: SIGKILL) }
        try await server.waitReady()
        let chat = try await Python.peer(
            "browser.py", ["--base", server.baseURL, "--page", "chat", "--out", root.path + "/chat.png"])
        let shownChat = try #require(chat["shown"] as? [String: Any])
        #expect(shownChat["className"] as? String == "msg Positive", "\(shownChat)")
        #expect((shownChat["badge"] as? String)?.hasPrefix("Positive ") == true)
        let sentiment = try await Python.peer(
            "browser.py", ["--base", server.baseURL, "--page", "sentiment", "--out", root.path + "/sentiment.png"])
        let shownComment = try #require(sentiment["shown"] as? [String: Any])
        #expect(shownComment["badge"] as? String == "Negative", "\(shownComment)")
        #expect((shownComment["firstRow"] as? String)?.contains("very disappointed") == true)
        for file in ["chat.png", "sentiment.png"] {
            let data = try Data(contentsOf: URL(fileURLWithPath: root.path + "/" + file))
            #expect(data.count > 5_000 && data.prefix(4) == Data([0x89, 0x50, 0x4E, 0x47]), "\(file) is a PNG")
        }
        // The browser's actions reached the server: the message and the comment are stored with their sentiment.
        let (_, history) = try await HTTP.request("GET", server.baseURL + "/apps/chat/rooms/web/messages")
        #expect(String(decoding: history, as: UTF8.self).contains(#""label":"Positive""#))
        let (_, comments) = try await HTTP.request("GET", server.baseURL + "/apps/sentiment/comments")
        #expect(String(decoding: comments, as: UTF8.self).contains(#""label":"Negative""#))
    }

    @Test("a crash leaves connection rows; the next start removes them")
    func staleRowsCleanedAtStart() async throws {
        let root = TemporaryDirectory("plumb-chat-crash")
        defer { root.remove() }
        let first = try ServerProcess(dataDirectory: root.path + "/data")
        try await first.waitReady()
        let (_, _) = try await HTTP.request("GET", first.baseURL + "/apps/chat/online")
        // Connect with a raw WebSocket handshake and keep the socket open, then SIGKILL the server.
        let socket = try RawWebSocket(port: first.port, path: "/apps/chat/ws?room=crash&user=zed")
        defer { socket.close() }
        var online = 0
        for _ in 0..<50 {
            let (_, body) = try await HTTP.request("GET", first.baseURL + "/apps/chat/online")
            online = (try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])?["online"] as? Int ?? 0
            if online == 1 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(online == 1)
        first.kill(signal: SIGKILL)
        let second = try ServerProcess(dataDirectory: root.path + "/data")
        defer { second.kill(signal: SIGKILL) }
        try await second.waitReady()
        let (_, body) = try await HTTP.request("GET", second.baseURL + "/apps/chat/online")
        #expect((try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])?["online"] as? Int == 0)
        #expect(second.log.contains("removed 1 connections left by the previous run"))
    }
}

/// A minimal WebSocket client handshake over a blocking socket, to hold a connection open across a crash.
final class RawWebSocket {
    let fd: Int32

    init(port: Int, path: String) throws {
        guard let fd = connectLoopback(port: port) else { throw TestFailure("connect failed") }
        self.fd = fd
        let request =
            "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        _ = request.withCString { send(fd, $0, strlen($0), 0) }
        var buffer = [UInt8](repeating: 0, count: 1_024)
        let n = recv(fd, &buffer, buffer.count, 0)
        guard n > 0, String(decoding: buffer.prefix(n), as: UTF8.self).hasPrefix("HTTP/1.1 101") else {
            throw TestFailure(
                "no 101 Switching Protocols: \(String(decoding: buffer.prefix(max(n, 0)), as: UTF8.self))")
        }
    }

    func close() { _ = Glibc.close(fd) }
}
