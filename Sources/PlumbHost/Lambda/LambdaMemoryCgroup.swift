import Foundation

/// A memory cgroup of the runtime's own, where the server may make one under its own (cgroup v1's memory hierarchy,
/// or v2 with the memory controller delegated): the process is then OOM-killed past its memory size, as in Lambda.
/// Where none can be made, the data segment's rlimit alone bounds it (a Python handler then raises MemoryError).
struct LambdaMemoryCgroup: Sendable {
    let path: String
    /// v2 (`memory.max`, `memory.events`) or v1 (`memory.limit_in_bytes`, `memory.oom_control`).
    let unified: Bool

    /// Makes `plumb-<id>` under this process's memory cgroup, limited to `bytes` (swap included); nil when it cannot.
    static func make(id: String, bytes: Int) -> LambdaMemoryCgroup? {
        for (base, unified) in bases() {
            if let cgroup = make(base: base, id: id, bytes: bytes, unified: unified) { return cgroup }
        }
        return nil
    }

    /// `sweep()`, once per process (the first Lambda function loaded runs it).
    static let swept: Void = sweep()

    /// Removes the `plumb-*` cgroups a server killed with its runtimes left behind: those with no process that are
    /// over a minute old (a younger one may be another server's, about to take its process).
    static func sweep() {
        for (base, _) in bases() {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: base)) ?? []
            where name.hasPrefix("plumb-") {
                let path = base + "/" + name
                let made = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
                guard let made, Date().timeIntervalSince(made) > 60 else { continue }
                rmdir(path)
            }
        }
    }

    /// This process's memory cgroup directories where children could be made: v1's memory hierarchy, or v2 with the
    /// memory controller enabled for children.
    static func bases() -> [(path: String, unified: Bool)] {
        guard let membership = try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8) else { return [] }
        var found: [(String, Bool)] = []
        for line in membership.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3 else { continue }
            let own = String(parts[2])
            if parts[1].split(separator: ",").contains("memory") {
                found.append(("/sys/fs/cgroup/memory" + own, false))
            } else if parts[0] == "0", parts[1].isEmpty {
                for root in ["/sys/fs/cgroup", "/sys/fs/cgroup/unified"] {
                    let controllers =
                        (try? String(contentsOfFile: root + own + "/cgroup.subtree_control", encoding: .utf8)) ?? ""
                    if controllers.split(whereSeparator: \.isWhitespace).contains("memory") {
                        found.append((root + own, true))
                    }
                }
            }
        }
        return found.map { (path: $0.0.hasSuffix("/") ? String($0.0.dropLast()) : $0.0, unified: $0.1) }
    }

    private static func make(base: String, id: String, bytes: Int, unified: Bool) -> LambdaMemoryCgroup? {
        let path = base + "/plumb-" + id
        guard (try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)) != nil
        else { return nil }
        let cgroup = LambdaMemoryCgroup(path: path, unified: unified)
        let limits: [(String, String)] =
            unified
            ? [("memory.max", String(bytes)), ("memory.swap.max", "0")]
            : [("memory.limit_in_bytes", String(bytes)), ("memory.memsw.limit_in_bytes", String(bytes))]
        guard cgroup.write(limits[0].0, limits[0].1) else {
            cgroup.remove()
            return nil
        }
        // Swap accounting is optional (a kernel without it has no such file); without it the limit holds for RAM.
        _ = cgroup.write(limits[1].0, limits[1].1)
        if !unified { _ = cgroup.write("memory.swappiness", "0") }
        return cgroup
    }

    func write(_ file: String, _ value: String) -> Bool {
        (try? value.write(toFile: path + "/" + file, atomically: false, encoding: .utf8)) != nil
    }

    /// Whether the kernel killed a process of the cgroup for going past the limit.
    var oomKilled: Bool {
        if unified {
            let events = (try? String(contentsOfFile: path + "/memory.events", encoding: .utf8)) ?? ""
            return events.split(separator: "\n").contains { $0.hasPrefix("oom_kill ") && !$0.hasSuffix(" 0") }
        }
        let control = (try? String(contentsOfFile: path + "/memory.oom_control", encoding: .utf8)) ?? ""
        // Kernels before 4.13 have no count of kills: their OOM kills are reported as exits.
        guard let line = control.split(separator: "\n").first(where: { $0.hasPrefix("oom_kill ") }) else {
            return false
        }
        return !line.hasSuffix(" 0")
    }

    /// The processes in the cgroup now.
    func processes() -> [Int32] {
        ((try? String(contentsOfFile: path + "/cgroup.procs", encoding: .utf8)) ?? "").split(separator: "\n")
            .compactMap { Int32($0) }
    }

    /// Removes the (empty) cgroup.
    func remove() { rmdir(path) }
}
