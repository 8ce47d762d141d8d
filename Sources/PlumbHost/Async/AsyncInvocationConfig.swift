/// A function's asynchronous invocation configuration (Lambda's PutFunctionEventInvokeConfig): how its events are
/// retried, and the topic that receives the ones that fail for good.
public struct AsyncInvocationConfig: Sendable, Equatable {
    public var retry: AsyncEventQueue.Settings
    /// The topic a failed event is published to (Lambda's OnFailure destination); nil: the failure is only logged.
    public var onFailure: String?

    public init(retry: AsyncEventQueue.Settings = .init(), onFailure: String? = nil) {
        self.retry = retry
        self.onFailure = onFailure
    }
}
