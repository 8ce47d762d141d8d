/// `GET /api/v1/functions`: every hosted function, and the account's concurrency.
public struct FunctionList: Codable, Sendable, Equatable {
    public var functions: [FunctionDescription]
    public var account: AccountConcurrency

    public init(functions: [FunctionDescription], account: AccountConcurrency) {
        self.functions = functions
        self.account = account
    }
}
