import Foundation
import PlumbKit

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
