import Foundation
import PlumbTesting
import Synchronization
import Testing

/// sd_notify for real: the test binds the Unix datagram socket systemd would, starts `plumb serve` with
/// NOTIFY_SOCKET and WATCHDOG_USEC pointing at it, and reads what arrives.
@Suite("systemd notify", .serialized)
struct SystemdNotifyTimingTests {
    /// Receives datagrams on a thread of its own (blocking reads stay off the concurrency pool).
    final class NotifySocket: @unchecked Sendable {
        // @unchecked: `fd` is written once in init; `messages` is behind a Mutex.
        let path: String
        let fd: Int32
        let messages = Mutex<[Message]>([])

        struct Message: Sendable {
            let text: String
            let at: Date
        }
        let running = Atomic<Bool>(true)

        init(path: String) throws {
            self.path = path
            fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                for (i, b) in path.utf8.enumerated() { raw[i] = b }
            }
            let ok = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
            guard ok == 0 else { throw TestFailure("cannot bind \(path)") }
            var timeout = timeval(tv_sec: 0, tv_usec: 100_000)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            let thread = Thread { [self] in
                var buffer = [UInt8](repeating: 0, count: 4_096)
                while running.load(ordering: .relaxed) {
                    let n = recv(fd, &buffer, buffer.count, 0)
                    if n > 0 {
                        let text = String(decoding: buffer[0..<n], as: UTF8.self)
                        messages.withLock { $0.append(Message(text: text, at: Date())) }
                    }
                }
                close(fd)
            }
            thread.start()
        }

        func stop() { running.store(false, ordering: .relaxed) }

        func first(containing needle: String, timeout: TimeInterval) async throws -> Message {
            let deadline = Date().addingTimeInterval(timeout)
            while Date() < deadline {
                if let found = messages.withLock({ $0.first { $0.text.contains(needle) } }) { return found }
                try await Task.sleep(for: .milliseconds(20))
            }
            throw TestFailure("no '\(needle)' within \(timeout) s; got \(messages.withLock { $0.map(\.text) })")
        }
    }

    /// A raw HTTP/1.1 request whose body is sent in two halves, so it is in flight across a signal.
    final class SlowRequest {
        let fd: Int32

        init(port: Int, token: String, body: String, firstPart: Int) throws {
            rest = Array(body.utf8.dropFirst(firstPart))
            guard let fd = connectLoopback(port: port) else { throw TestFailure("cannot connect") }
            self.fd = fd
            let head =
                "POST /write?precision=s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(token)\r\nContent-Length: \(body.utf8.count)\r\n\r\n"
            send(Array(head.utf8) + Array(body.utf8.prefix(firstPart)))
        }

        var rest: [UInt8]

        func send(_ bytes: [UInt8]) {
            _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        }

        func finish() -> String {
            send(rest)
            var buffer = [UInt8](repeating: 0, count: 4_096)
            var timeout = timeval(tv_sec: 10, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            let n = recv(fd, &buffer, buffer.count, 0)
            close(fd)
            return n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self) : ""
        }
    }

    @Test("READY=1 after readiness, watchdog pings, STOPPING=1 and a clean exit after SIGTERM with a request in flight")
    func notifyLifecycle() async throws {
        let root = TemporaryDirectory("plumb-sd")
        defer { root.remove() }
        let notify = try NotifySocket(path: root.path + "/notify.sock")
        defer { notify.stop() }
        let server = try ServerProcess(
            dataDirectory: root.path + "/data",
            environment: ["NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "1000000"])
        defer { if server.process.isRunning { server.kill(signal: SIGKILL) } }

        let ready = try await notify.first(containing: "READY=1", timeout: 60)
        let (status, _) = try await HTTP.request("GET", server.baseURL + "/readyz")
        #expect(status == 200, "READY=1 came before /readyz was true")
        #expect(ready.text.contains("STATUS=serving "))

        // WATCHDOG_USEC = 1 s: the server pings, and keeps pinging. How regularly (the longest gap) depends on the
        // machine: bench/watchdog.sh prints it.
        try await waitUntil("three watchdog pings", timeout: .seconds(20)) {
            notify.messages.withLock { $0.filter { $0.text == "WATCHDOG=1" }.count } >= 3
        }

        let now = Int64(Date().timeIntervalSince1970)
        let body = (0..<200).map { "sd,host=a v=\($0) \(now)" }.joined(separator: "\n")
        let request = try SlowRequest(
            port: server.port, token: server.token, body: body, firstPart: body.utf8.count / 2)
        try await Task.sleep(for: .milliseconds(200))
        kill(server.process.processIdentifier, SIGTERM)
        let stopping = try await notify.first(containing: "STOPPING=1", timeout: 10)
        let response = request.finish()
        #expect(response.hasPrefix("HTTP/1.1 204"), "the in-flight request completed: \(response.prefix(80))")
        #expect(try await server.waitExit(), "the server exits after SIGTERM")
        #expect(server.process.exitStatus() == 0)
        #expect(stopping.at <= Date())

        // What was acknowledged during the drain is there after a restart.
        let again = try ServerProcess(dataDirectory: root.path + "/data")
        defer { again.kill(signal: SIGKILL) }
        try await again.waitReady()
        let (_, stats) = try await HTTP.request(
            "GET",
            again.baseURL
                + "/api/v1/metrics/statistics?namespace=sd&name=v&dimensions=host=a&statistics=SampleCount&period=60&start=\(now - 120)&end=\(now + 60)",
            token: again.token)
        let object = try JSONSerialization.jsonObject(with: Data(stats)) as? [String: Any]
        let count = (object?["datapoints"] as? [[String: Any]])?.compactMap { $0["SampleCount"] as? Double }.reduce(
            0, +)
        #expect(count == 200)
    }
}
