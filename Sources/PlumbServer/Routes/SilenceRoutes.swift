import PlumbAPI
import Foundation
import Hummingbird
import PlumbAlarms
import PlumbMetrics

/// `/api/v1/silences`: list, create (`POST`, the caller becomes its creator) and expire (`DELETE`) silences, which
/// hold the notifications of the alarms they match.
struct SilenceRoutes {
    let silences: Silences
    let clock: @Sendable () -> Int64

    /// One silence as the API shows it.
    struct SilenceDescription: Encodable {
        let id: String
        /// Exactly one of `alarm` (an exact name) and `match` (a glob with `*`).
        let alarm: String?
        let match: String?
        let createdBy: String
        let comment: String
        let startsAt: String
        let endsAt: String
        let createdAt: String
        /// `active`, `pending` or `expired`.
        let state: String
        let expiredBy: String?

        init(_ s: Silence, now: Int64) {
            id = s.id
            if case .alarm(let name) = s.matcher { (alarm, match) = (name, nil) } else { (alarm, match) = (nil, s.matcher.text) }
            createdBy = s.createdBy
            comment = s.comment
            startsAt = TimeParsing.format(s.startsAt)
            endsAt = TimeParsing.format(s.endsAt)
            createdAt = TimeParsing.format(s.createdAt)
            state = s.state(at: now).rawValue
            expiredBy = s.expiredBy
        }
    }

    /// The silence holding an alarm, inside the alarm's description: what `plumb alarms` prints as "silenced until
    /// … by … (comment)".
    struct SilenceSummary: Encodable {
        let id: String
        let until: String
        let createdBy: String
        let comment: String

        init(_ s: Silence) {
            id = s.id
            until = TimeParsing.format(s.endsAt)
            createdBy = s.createdBy
            comment = s.comment
        }
    }

    struct CreateRequest: Decodable {
        let alarm: String?
        let match: String?
        /// `30m`, `2h`, `1d`…
        let duration: String
        let comment: String
    }

    struct ListResponse: Encodable { let silences: [SilenceDescription] }

    func register(api: RouterGroup<PlumbRequestContext>) {
        api.get("silences", use: list)
        api.post("silences", use: create)
        api.delete("silences/:id", use: expire)
    }

    /// Active and pending silences first, then those expired in the last five days; `state` and `alarm` (the
    /// silences matching that alarm name) filter.
    @Sendable func list(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        let query = request.queryDictionary
        let now = clock()
        var list = silences.list(now: now)
        if let state = query["state"] {
            guard let wanted = Silence.State(rawValue: state) else { throw APIError("state must be active, pending or expired") }
            list = list.filter { $0.state(at: now) == wanted }
        }
        if let alarm = query["alarm"] { list = list.filter { $0.matcher.matches(alarm) } }
        return try Response.json(ListResponse(silences: list.map { SilenceDescription($0, now: now) }))
    }

    @Sendable func create(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        let body = try await request.decodeJSON(CreateRequest.self, limit: 16 * 1_024)
        let matcher: SilenceMatcher
        switch (body.alarm, body.match) {
        case (let name?, nil): matcher = .alarm(name)
        case (nil, let glob?): matcher = .pattern(glob)
        default: throw APIError("give exactly one of alarm (an alarm's name) and match (a glob such as 'sensors-*')")
        }
        guard let seconds = TimeParsing.duration(body.duration), seconds.isFinite, seconds < Double(Int64.max) else {
            throw APIError("duration must be a duration such as 30m, 2h or 1d")
        }
        let now = clock()
        let silence = try silences.add(
            matcher, duration: Int64(seconds.rounded(.up)), createdBy: context.caller.auditName, comment: body.comment, now: now)
        return try Response.json(SilenceDescription(silence, now: now), status: .created)
    }

    /// Ends the silence now (Alertmanager's "expire"); it stays listed as expired.
    @Sendable func expire(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        let id = context.parameters.get("id").map { $0.removingPercentEncoding ?? $0 } ?? ""
        let now = clock()
        let silence = try silences.expire(id: id, by: context.caller.auditName, now: now)
        return try Response.json(SilenceDescription(silence, now: now))
    }
}
