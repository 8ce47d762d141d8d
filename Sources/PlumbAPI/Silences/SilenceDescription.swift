/// One silence as the API shows it (`GET/POST /api/v1/silences`, `DELETE /api/v1/silences/{id}`): while active, it
/// holds the notifications of the alarms it matches (Alertmanager's silences).
public struct SilenceDescription: Sendable, Equatable, Codable {
    public var id: String
    /// Exactly one of `alarm` (an exact name) and `match` (a glob with `*`).
    public var alarm: String?
    public var match: String?
    public var createdBy: String
    public var comment: String
    /// RFC 3339 (UTC).
    public var startsAt: String
    public var endsAt: String
    public var createdAt: String
    /// `active`, `pending` or `expired`.
    public var state: String
    /// Who expired it early, when someone did.
    public var expiredBy: String?

    public init(
        id: String, alarm: String?, match: String?, createdBy: String, comment: String, startsAt: String,
        endsAt: String, createdAt: String,
        state: String, expiredBy: String?
    ) {
        self.id = id
        self.alarm = alarm
        self.match = match
        self.createdBy = createdBy
        self.comment = comment
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.createdAt = createdAt
        self.state = state
        self.expiredBy = expiredBy
    }
}

/// The answer of `GET /api/v1/silences`.
public struct SilenceListResponse: Sendable, Equatable, Codable {
    public var silences: [SilenceDescription]

    public init(silences: [SilenceDescription]) {
        self.silences = silences
    }
}
