import Foundation
import Hummingbird
import Logging
import PlumbAPI
import PlumbAlarms
import PlumbLogs
import ServiceLifecycle

/// The metric filters API as a controller: `GET /api/v1/metric-filters`, `PUT` and `DELETE
/// /api/v1/metric-filters/{name}`. Filters declared in alert files are listed but changed in their files.
///
/// The body of a `PUT` is the alert file's metric filter (`MetricFilterDocument`, JSON or YAML), read by the
/// alert-file parser so that its refusals name the field as a file's would.
/// Reads the API-created metric filters again every `interval` when the log store is shared: a filter created or
/// deleted through one node applies on every node within that time.
struct SharedMetricFilterRefresh: Service {
    let logs: any LogStoring
    var interval: Duration = .seconds(5)
    let logger: Logger

    func run() async throws {
        var failing = false
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            do {
                try await MetricFilterRoutes.installAPIFilters(logs)
                failing = false
            } catch {
                if !failing { logger.warning("metric filters not read again from the shared store: \(error)") }
                failing = true
            }
        }
    }
}

struct MetricFilterRoutes {
    let store: any LogStoring

    /// Parses the stored API documents and installs them (at start and after each change).
    static func installAPIFilters(_ store: any LogStoring) async throws {
        var list: [MetricFilter] = []
        for (name, document) in try await store.storedMetricFilterDocuments() {
            if case .success(let filter) = AlertFileParser.parseMetricFilterDocument(document, name: name) {
                list.append(filter)
            }
        }
        store.setAPIMetricFilters(list)
    }

    func register(api: RouterGroup<PlumbRequestContext>) {
        api.get("metric-filters", use: list)
        api.put("metric-filters/:name", use: put)
        api.delete("metric-filters/:name", use: delete)
    }

    @Sendable func list(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        try .json(
            MetricFiltersResponse(
                metricFilters: store.metricFilters.map { MetricFilterDescription($0.filter, fromFile: $0.fromFile) }))
    }

    /// Creates or replaces a filter made through the API. Filters on the audit group, in a platform namespace, or
    /// replacing one on the audit group are the admin's.
    @Sendable func put(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        let name = try LogRoutes.parameter("name", context)
        if store.metricFilters.contains(where: { $0.filter.name == name && $0.fromFile }) {
            throw APIError(
                status: 409, code: "ResourceConflict", "metric filter '\(name)' is declared in an alert file")
        }
        let document = String(decoding: try await request.collectBody(limit: 16 * 1_024), as: UTF8.self)
        let filter: MetricFilter
        switch AlertFileParser.parseMetricFilterDocument(document, name: name) {
        case .failure(let errors):
            throw APIError(
                errors.errors.map { $0.field.isEmpty ? $0.message : "\($0.field): \($0.message)" }.joined(
                    separator: "; "))
        case .success(let parsed): filter = parsed
        }
        if filter.group == PlatformNames.auditGroup {
            try PlatformNames.requireAdmin(context.caller, "a metric filter on \(PlatformNames.auditGroup)")
        }
        if PlatformNames.isPlatformNamespace(filter.namespace) {
            try PlatformNames.requireAdmin(context.caller, "namespace '\(filter.namespace)'")
        }
        if let old = store.metricFilters.first(where: { $0.filter.name == name }),
            old.filter.group == PlatformNames.auditGroup
        {
            try PlatformNames.requireAdmin(context.caller, "a metric filter on \(PlatformNames.auditGroup)")
        }
        try await store.storeMetricFilterDocument(name: name, document: document)
        try await Self.installAPIFilters(store)
        return try .json(MetricFilterDescription(filter, fromFile: false))
    }

    /// Deletes a filter made through the API (one on the audit group is the admin's).
    @Sendable func delete(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        let name = try LogRoutes.parameter("name", context)
        guard let existing = store.metricFilters.first(where: { $0.filter.name == name && !$0.fromFile }) else {
            throw APIError(
                status: 404, code: "ResourceNotFoundException", "no metric filter '\(name)' created through the API")
        }
        if existing.filter.group == PlatformNames.auditGroup {
            try PlatformNames.requireAdmin(context.caller, "a metric filter on \(PlatformNames.auditGroup)")
        }
        try await store.storeMetricFilterDocument(name: name, document: nil)
        try await Self.installAPIFilters(store)
        return Response(status: .noContent)
    }
}
