import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import PlumbAPI
import PlumbAlarms
import PlumbMetrics
import PlumbNotify
import PlumbStore

/// `GET /alarms/{name}?exp=…&sig=…`: the read-only alarm page that alarm mails link to. Public (no token): the
/// link's own signature is the credential (`AlarmLinks`), for one alarm and until it expires.
///
/// Its answer is an HTML page (free-form: `AlarmPageView` renders it, with an inline SVG chart), not a wire type; a
/// refusal is an `ErrorBody`, or a small HTML page for a browser (`Accept: text/html`).
struct AlarmPageRoutes {
    let alarms: AlarmEngine
    let source: any AlarmDataSource
    let links: AlarmLinks
    let clock: @Sendable () -> Int64

    /// History items the page shows, newest first.
    static let historyItems = 25

    func register(on router: Router<PlumbRequestContext>) {
        router.get("alarms/:name", use: page)
    }

    /// Checks name, exp and sig (400 naming the one that is malformed), then the signature and the expiry (403),
    /// and only then looks the alarm up (404). A browser gets the refusal as a small page, anything else as JSON.
    @Sendable func page(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        do {
            let link = try AlarmLinkRequest.parse(
                rawName: context.parameters.get("name"), query: request.queryDictionary)
            let now = clock()
            try link.authorize(links, now: now)
            guard let status = alarms.status(link.name) else {
                throw APIError(
                    status: 404, code: "ResourceNotFound",
                    "name: no alarm named '\(Checked.shown(link.name))' (it was deleted or renamed)")
            }
            return Self.html(try await view(status, expires: link.expires, now: now).html(), status: .ok)
        } catch let error as any PlumbAPI.HTTPResponseError where Self.wantsHTML(request) {
            return Self.html(
                AlarmPageView.errorPage(status: error.status, code: error.code, message: error.message),
                status: .init(code: error.status))
        }
    }

    func view(_ status: AlarmEngine.Status, expires: Int64, now: Int64) async throws -> AlarmPageView {
        let history = (try? await alarms.history(of: status.definition.name, limit: Self.historyItems)) ?? []
        var chart: AlarmChart?
        var problem: String?
        var children: [(name: String, state: String)] = []
        switch status.definition {
        case .metric(let alarm):
            do {
                chart = alarm.chart(try await source.chartDatapoints(for: alarm, at: now))
            } catch {
                problem = "the metric store could not be read (\(Checked.shown("\(error)", limit: 200)))"
            }
        case .composite(let composite):
            children = composite.rule.references.map { ($0, alarms.status($0)?.state.rawValue ?? "missing") }
        }
        return AlarmPageView(
            status: status, history: history, chart: chart, chartProblem: problem, children: children,
            linkExpires: expires, now: now)
    }

    static func wantsHTML(_ request: Request) -> Bool {
        request.headers[.accept]?.contains("text/html") == true
    }

    /// An HTML answer that loads nothing from outside, is not cached or indexed, and sends no Referer onwards (the
    /// address holds the signature).
    static func html(_ text: String, status: HTTPResponse.Status) -> Response {
        Response(
            status: status,
            headers: [
                .contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
                .contentSecurityPolicy:
                    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'",
                HTTPField.Name("Referrer-Policy")!: "no-referrer", .xContentTypeOptions: "nosniff",
                HTTPField.Name("X-Robots-Tag")!: "noindex",
            ],
            body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
