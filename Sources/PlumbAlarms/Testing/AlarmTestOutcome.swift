/// What an alarm unit-test file came to: the tests that passed, and every failure and file error.
public struct AlarmTestOutcome: Sendable {
    public var passed: [String] = []
    /// Failed expectations and file errors, each naming its file and line.
    public var failures: [String] = []
    public var ok: Bool { failures.isEmpty }

    public init() {}
}
