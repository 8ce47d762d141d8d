/// One async event of a function: `pending` (with its next attempt, epoch seconds), `succeeded` or `failed`.
public struct AsyncEventDescription: Codable, Sendable, Equatable {
    public var id: Int64
    public var status: String
    public var attempts: Int
    /// Epoch seconds.
    public var receivedAt: Double
    /// Epoch seconds; only while pending.
    public var nextAttemptAt: Double?
    public var lastError: String?

    public init(
        id: Int64, status: String, attempts: Int, receivedAt: Double, nextAttemptAt: Double?, lastError: String?
    ) {
        self.id = id
        self.status = status
        self.attempts = attempts
        self.receivedAt = receivedAt
        self.nextAttemptAt = nextAttemptAt
        self.lastError = lastError
    }
}
