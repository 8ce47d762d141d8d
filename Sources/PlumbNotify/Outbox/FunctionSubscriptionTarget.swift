/// Where `protocol: function` subscriptions deliver (SNS → Lambda): the host's async invocation queue.
///
/// PlumbNotify does not know the plugin host; the server hands the delivery service a target that queues an event
/// for a hosted function, and from there the async queue's retry rules apply.
public protocol FunctionSubscriptionTarget: Sendable {
    /// Queues an async invocation of `function` with `payload`; throws when it cannot (no such function, say).
    func enqueue(function: String, payload: [UInt8]) async throws
    /// Whether `function` takes SNS's Lambda event (`{"Records": [{"EventSource": "aws:sns", "Sns": …}]}`): a Lambda
    /// handler does; a plugin's function takes Plumb's webhook JSON.
    func takesSNSEvents(_ function: String) -> Bool
}

extension FunctionSubscriptionTarget {
    public func takesSNSEvents(_ function: String) -> Bool { false }
}
