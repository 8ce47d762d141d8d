import Foundation

/// Who is on the other end of a loopback connection to an instance's Runtime API: the Linux kernel's socket table
/// (`/proc/net/tcp`) names the client socket's inode, and `/proc/PID/fd` says which process holds it.
///
/// The Runtime API has no credential (a runtime interface client sends none), so its listener takes requests only
/// from its own runtime process or that process's descendants (a `bootstrap` that runs `curl`): another local
/// process that finds the port can neither take the instance's invocations nor answer them.
public enum LambdaRuntimePeer {
    /// Whether the socket `inode` is held by `pid` or a process descended from it.
    public static func isHeld(_ inode: UInt64, by pid: Int32) -> Bool {
        let link = "socket:[\(inode)]"
        if holds(pid, link) { return true }
        return descendants(of: pid).contains { holds($0, link) }
    }

    /// The inode of the IPv4 TCP socket whose local port is `clientPort` and remote port `serverPort` (the client's
    /// end of a connection to the listener on `serverPort`); nil when there is none (it closed).
    public static func socketInode(clientPort: Int, serverPort: Int) -> UInt64? {
        // Read to the end: /proc files say they are empty, and a read by size stops at the first page.
        guard let file = FileHandle(forReadingAtPath: "/proc/net/tcp") else { return nil }
        defer { try? file.close() }
        let table = String(decoding: file.readDataToEndOfFile(), as: UTF8.self)
        for line in table.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count > 9, port(fields[1]) == clientPort, port(fields[2]) == serverPort else { continue }
            return UInt64(fields[9])
        }
        return nil
    }

    /// The port of `0100007F:1F90` (hexadecimal).
    static func port(_ address: Substring) -> Int? {
        guard let colon = address.lastIndex(of: ":") else { return nil }
        return Int(address[address.index(after: colon)...], radix: 16)
    }

    /// Whether `pid` has an open file descriptor on `link` (`socket:[INODE]`).
    static func holds(_ pid: Int32, _ link: String) -> Bool {
        let directory = "/proc/\(pid)/fd"
        guard let descriptors = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return false }
        return descriptors.contains {
            (try? FileManager.default.destinationOfSymbolicLink(atPath: directory + "/" + $0)) == link
        }
    }

    /// Every process descended from `pid`, from the parent ids in `/proc/*/stat`.
    static func descendants(of pid: Int32) -> [Int32] {
        var children: [Int32: [Int32]] = [:]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let child = Int32(entry),
                let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                // `PID (COMMAND) STATE PPID …`: the command may hold spaces and parentheses; the last ')' ends it.
                let close = stat.lastIndex(of: ")")
            else { continue }
            let rest = stat[stat.index(after: close)...].split(separator: " ", omittingEmptySubsequences: true)
            guard rest.count > 1, let parent = Int32(rest[1]) else { continue }
            children[parent, default: []].append(child)
        }
        var found: [Int32] = []
        var queue = children[pid] ?? []
        while let next = queue.popLast(), found.count < 10_000 {
            found.append(next)
            queue += children[next] ?? []
        }
        return found
    }
}
