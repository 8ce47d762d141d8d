import Foundation
import PlumbKit
import Synchronization

/// A plugin for host tests: `slow` sleeps for `?ms=` milliseconds, `fail` throws, `echo` returns its body.
public struct ProbePlugin: Plugin {
    public static let name = "probe"

    public init(context: PluginContext) async throws {}

    struct Boom: Error {}

    public static let functions: [Function<ProbePlugin>] = [
        .http(.post, "/slow", name: "slow") { _, request, _ in
            let ms = Int(request.query["ms"] ?? "200") ?? 200
            try await Task.sleep(for: .milliseconds(ms))
            return FunctionResponse(status: 200, body: Array("slept".utf8))
        },
        .http(.post, "/fail", name: "fail") { _, _, _ in throw Boom() },
        .http(.post, "/echo", name: "echo") { _, request, _ in FunctionResponse(status: 200, body: request.body) },
        .http(.get, "/items/{id}", name: "item") { _, request, _ in
            try .json(["id": request.pathParameters["id"] ?? ""])
        },
    ]
}

/// A plugin for instance and scaling tests.
///
/// Its initialiser sleeps `init_ms` (plugin setting) and throws while `ColdProbePlugin.failingInits` holds the
/// data directory. `work` sleeps `?ms=` (default 50); `hold` waits until the gate named `?gate=` opens.
public struct ColdProbePlugin: Plugin {
    public static let name = "coldprobe"
    public static let failingInits = Mutex<Set<String>>([])

    struct InitFailed: Error, CustomStringConvertible {
        var description: String { "init failed on purpose" }
    }

    public init(context: PluginContext) async throws {
        let ms = Int(context.settings["init_ms"] ?? "0") ?? 0
        if ms > 0 { try await Task.sleep(for: .milliseconds(ms)) }
        if Self.failingInits.withLock({ $0.contains(context.dataDirectory) }) { throw InitFailed() }
    }

    public static let functions: [Function<ColdProbePlugin>] = [
        .http(.post, "/work", name: "work") { _, request, _ in
            try await Task.sleep(for: .milliseconds(Int(request.query["ms"] ?? "50") ?? 50))
            return FunctionResponse(status: 200)
        },
        .http(.post, "/hold", name: "hold") { _, request, _ in
            await Gate.named(request.query["gate"] ?? "default").wait()
            return FunctionResponse(status: 200)
        },
    ]
}

/// A named latch: `wait()` suspends until `open()`; tests use it to hold invocations in flight.
public final class Gate: Sendable {
    private let state = Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))
    private static let registry = Mutex<[String: Gate]>([:])

    public static func named(_ name: String) -> Gate {
        registry.withLock { r in
            if let g = r[name] { return g }
            let g = Gate()
            r[name] = g
            return g
        }
    }

    public func wait() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let resume = state.withLock { s -> Bool in
                if s.open { return true }
                s.waiters.append(c)
                return false
            }
            if resume { c.resume() }
        }
    }

    public func open() {
        let waiters = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.open = true
            defer { s.waiters = [] }
            return s.waiters
        }
        for w in waiters { w.resume() }
    }

    public var waiting: Int { state.withLock { $0.waiters.count } }
}
