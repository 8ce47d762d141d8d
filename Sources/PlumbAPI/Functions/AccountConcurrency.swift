/// The account's concurrency, as Lambda's `GetAccountSettings`: the limit, what is left unreserved, and what runs.
public struct AccountConcurrency: Codable, Sendable, Equatable {
    public var concurrencyLimit: Int
    public var unreservedConcurrencyLimit: Int
    public var concurrentExecutions: Int
    public var unreservedConcurrentExecutions: Int

    public init(
        concurrencyLimit: Int, unreservedConcurrencyLimit: Int, concurrentExecutions: Int,
        unreservedConcurrentExecutions: Int
    ) {
        self.concurrencyLimit = concurrencyLimit
        self.unreservedConcurrencyLimit = unreservedConcurrencyLimit
        self.concurrentExecutions = concurrentExecutions
        self.unreservedConcurrentExecutions = unreservedConcurrentExecutions
    }
}
