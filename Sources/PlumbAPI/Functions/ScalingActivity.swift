/// One decision of a function's autoscaler: from how many instances to how many, why, and the concurrency it saw in
/// the stable and the panic window.
public struct ScalingActivity: Codable, Sendable, Equatable {
    /// RFC 3339, UTC.
    public var time: String
    public var from: Int
    public var to: Int
    public var reason: String
    public var stableConcurrency: Double
    public var panicConcurrency: Double
    public var panicking: Bool

    public init(
        time: String, from: Int, to: Int, reason: String, stableConcurrency: Double, panicConcurrency: Double,
        panicking: Bool
    ) {
        self.time = time
        self.from = from
        self.to = to
        self.reason = reason
        self.stableConcurrency = stableConcurrency
        self.panicConcurrency = panicConcurrency
        self.panicking = panicking
    }
}
