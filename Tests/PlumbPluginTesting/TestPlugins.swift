import Foundation
import PlumbKit
import PlumbTesting
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
