import Foundation
import PlumbHost
import PlumbTesting
import Testing

/// Who holds the client end of a loopback connection, from the kernel's socket table: a process and its descendants
/// do, a sibling does not; found in a table of several pages (500 extra listening sockets).
@Suite("The Runtime API's peer check")
struct LambdaRuntimePeerTests {
    @Test("a connection is its holder's and its ancestors', not a sibling's, in a socket table of many pages")
    func peerOfAConnection() async throws {
        // Listeners enough to spread /proc/net/tcp over several pages (a read by size sees only the first).
        var listeners: [Int32] = []
        defer { for fd in listeners { close(fd) } }
        for _ in 0..<500 { listeners.append(try Self.listen()) }
        let server = try Self.listen()
        defer { close(server) }
        let port = Self.port(of: server)

        // A shell whose child (python) connects and holds the connection; a sibling that holds nothing.
        let root = TemporaryDirectory("plumb-peer")
        defer { root.remove() }
        let holder = try ChildProcess(
            "/bin/sh",
            [
                "-c",
                "python3 -c \"import socket, sys, time; s = socket.create_connection(('127.0.0.1', \(port))); "
                    + "print(s.getsockname()[1], flush=True); time.sleep(30)\" > \(root.path)/port; sleep 30",
            ])
        defer { holder.signal(SIGKILL) }
        let sibling = try ChildProcess("/bin/sleep", ["30"])
        defer { sibling.signal(SIGKILL) }
        let clientPort = try await waitFor("the client's port", timeout: .seconds(20)) { () -> Int? in
            Int(
                ((try? String(contentsOfFile: root.path + "/port", encoding: .utf8)) ?? "").trimmingCharacters(
                    in: .whitespacesAndNewlines))
        }
        let inode = try #require(LambdaRuntimePeer.socketInode(clientPort: clientPort, serverPort: port))
        #expect(LambdaRuntimePeer.isHeld(inode, by: holder.processIdentifier), "the shell's child holds it")
        #expect(!LambdaRuntimePeer.isHeld(inode, by: sibling.processIdentifier), "a sibling does not")
        #expect(LambdaRuntimePeer.socketInode(clientPort: clientPort, serverPort: port &+ 1) == nil)
    }

    static func listen() throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard fd >= 0, bound == 0, Glibc.listen(fd, 16) == 0 else { throw TestFailure("cannot listen") }
        return fd
    }

    static func port(of fd: Int32) -> Int {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
