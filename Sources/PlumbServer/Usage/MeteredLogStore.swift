import PlumbAPI
import PlumbLogs
import PlumbMetrics

/// The log store with its intake counted in `Plumb/Usage` (`LogEventsIngested`, `LogBytesIngested`): every path
/// into the store (the API, OTLP, the functions' and the server's own logs, the audit trail) goes through `put` or
/// `append`, so counting here counts all of it, once it is stored.
struct MeteredLogStore: LogStoring {
    let base: any LogStoring

    var clock: @Sendable () -> Int64 { base.clock }

    func put(group: String, stream: String, events: [InputLogEvent]) async throws -> [Sample] {
        let samples = try await base.put(group: group, stream: stream, events: events)
        count(group, events)
        return samples
    }

    func append(_ batches: [(group: String, stream: String, events: [InputLogEvent])]) async throws -> [Sample] {
        let samples = try await base.append(batches)
        for batch in batches { count(batch.group, batch.events) }
        return samples
    }

    /// CloudWatch Logs' billed size of an event: its UTF-8 message and 26 bytes.
    func count(_ group: String, _ events: [InputLogEvent]) {
        UsageCounters.logIngest(
            group: group, events: events.count, bytes: events.reduce(0) { $0 + $1.message.utf8.count + 26 })
    }

    func createGroup(_ name: String) async throws -> Bool { try await base.createGroup(name) }
    func createStream(group: String, stream: String) async throws -> Bool {
        try await base.createStream(group: group, stream: stream)
    }
    func groups(prefix: String?) async throws -> [LogGroupSummary] { try await base.groups(prefix: prefix) }
    func streams(group: String) async throws -> [LogStreamSummary] { try await base.streams(group: group) }
    func filter(_ query: LogQuery) async throws -> LogPage { try await base.filter(query) }
    func events(in group: String, after: Int64, limit: Int) async throws -> [LogEvent] {
        try await base.events(in: group, after: after, limit: limit)
    }
    func lastEventID() async throws -> Int64 { try await base.lastEventID() }
    func setRetention(group: String, days: Int?) async throws { try await base.setRetention(group: group, days: days) }
    func deleteGroup(_ name: String) async throws { try await base.deleteGroup(name) }
    func applyRetention() async throws -> Int { try await base.applyRetention() }
    var metricFilters: [(filter: MetricFilter, fromFile: Bool)] { base.metricFilters }
    func setMetricFilters(_ list: [MetricFilter]) { base.setMetricFilters(list) }
    func setAPIMetricFilters(_ list: [MetricFilter]) { base.setAPIMetricFilters(list) }
    func storedMetricFilterDocuments() async throws -> [String: String] { try await base.storedMetricFilterDocuments() }
    func storeMetricFilterDocument(name: String, document: String?) async throws {
        try await base.storeMetricFilterDocument(name: name, document: document)
    }
}
