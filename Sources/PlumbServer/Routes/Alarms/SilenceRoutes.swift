import Foundation
import Hummingbird
import PlumbAPI
import PlumbAlarms

/// The silences API as a controller: `/api/v1/silences` — list, create (`POST`, the caller becomes its creator) and
/// expire (`DELETE`) silences, which hold the notifications of the alarms they match.
struct SilenceRoutes {
    let silences: Silences
    let clock: @Sendable () -> Int64

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
            guard let wanted = Silence.State(rawValue: state) else {
                throw APIError("state must be active, pending or expired")
            }
            list = list.filter { $0.state(at: now) == wanted }
        }
        if let alarm = query["alarm"] { list = list.filter { $0.matcher.matches(alarm) } }
        return try Response.json(SilenceListResponse(silences: list.map { SilenceDescription($0, now: now) }))
    }

    @Sendable func create(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        let body = try await request.decodeJSON(CreateSilenceRequest.self, limit: 16 * 1_024)
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
        let silence = try await silences.add(
            matcher, duration: Int64(seconds.rounded(.up)), createdBy: context.caller.auditName, comment: body.comment,
            now: now)
        return try Response.json(SilenceDescription(silence, now: now), status: .created)
    }

    /// Ends the silence now (Alertmanager's "expire"); it stays listed as expired.
    @Sendable func expire(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        let id = context.parameters.get("id").map { $0.removingPercentEncoding ?? $0 } ?? ""
        let now = clock()
        let silence = try await silences.expire(id: id, by: context.caller.auditName, now: now)
        return try Response.json(SilenceDescription(silence, now: now))
    }
}
