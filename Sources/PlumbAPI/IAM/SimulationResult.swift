/// The policy simulator's decision, as IAM evaluates it: an explicit deny wins, else an allow is needed, else the
/// request is implicitly denied. The deciding statement is named (policy, index, Sid) unless the deny is implicit.
public struct SimulationResult: Codable, Sendable, Equatable {
    /// `allowed`, `explicit-deny` or `implicit-deny`.
    public var decision: String
    public var allowed: Bool
    /// One line for people: "allowed by read-only statement 0 (ReadEverything)".
    public var explanation: String
    public var policy: String?
    /// The statement's index in its policy.
    public var statement: Int?
    public var sid: String?

    public init(decision: String, allowed: Bool, explanation: String, policy: String?, statement: Int?, sid: String?) {
        self.decision = decision
        self.allowed = allowed
        self.explanation = explanation
        self.policy = policy
        self.statement = statement
        self.sid = sid
    }
}
