import PlumbHost
import PlumbNotify

/// Where the outbox's `protocol: function` subscriptions deliver: the host's async queue (SNS → Lambda's `Event`
/// invocation), so the queue's retry rules and the function's on-failure topic apply from there.
struct AsyncFunctionQueue: FunctionSubscriptionTarget {
    let host: PluginHost
    let queue: any AsyncEventStoring

    func enqueue(function: String, payload: [UInt8]) async throws {
        try await host.enqueueAsyncEvent(function: function, payload: payload, on: queue)
    }

    func takesSNSEvents(_ function: String) -> Bool {
        host.function(named: function)?.pluginName == PluginHost.lambdaPlugin
    }
}
