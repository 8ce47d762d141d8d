/// A silence: from `startsAt` to `endsAt`, state changes of the alarms it matches notify no topic. The
/// notifications are held and recorded in each alarm's history instead, as Alertmanager's silences hold its
/// notifications. Expiring a silence ends it early; expired silences stay listed for `Silences.expiredRetention`.
public struct Silence: Sendable, Equatable {
    public enum State: String, Sendable {
        case active, pending, expired
    }

    public var id: String
    public var matcher: SilenceMatcher
    /// Who made it: the caller's audit name (`admin`, `user:ana`).
    public var createdBy: String
    public var comment: String
    /// Epoch seconds.
    public var startsAt: Int64
    /// Epoch seconds; the silence holds nothing from this second on.
    public var endsAt: Int64
    public var createdAt: Int64
    /// Who expired it before its end, if anyone.
    public var expiredBy: String?

    public init(
        id: String, matcher: SilenceMatcher, createdBy: String, comment: String, startsAt: Int64, endsAt: Int64,
        createdAt: Int64, expiredBy: String? = nil
    ) {
        self.id = id
        self.matcher = matcher
        self.createdBy = createdBy
        self.comment = comment
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.createdAt = createdAt
        self.expiredBy = expiredBy
    }

    public func state(at now: Int64) -> State {
        if now >= endsAt { return .expired }
        return now < startsAt ? .pending : .active
    }

    /// Whether it holds `alarm`'s notifications at `now`.
    public func holds(_ alarm: String, at now: Int64) -> Bool {
        state(at: now) == .active && matcher.matches(alarm)
    }
}
