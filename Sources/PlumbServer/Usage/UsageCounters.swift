import Metrics
import PlumbMetrics

/// The `Plumb/Usage` counters the server's edges record, through the one metrics path (the bootstrapped factory):
/// what the stores take in and what the API serves, as the `UsageService` prices them. Ingest caused by an API call
/// carries the caller (`UsageAttribution`).
enum UsageCounters {
    /// One ingest request into the metric store (PutMetricData, line protocol, remote write, OTLP, a scrape) that
    /// stored `samples` samples: CloudWatch prices the requests, and the samples are the store's load.
    static func metricIngest(samples: Int) {
        let dimensions = UsageAttribution.dimensions([])
        Counter(label: "Plumb/Usage/MetricRequests", dimensions: dimensions).increment()
        if samples > 0 { Counter(label: "Plumb/Usage/MetricSamples", dimensions: dimensions).increment(by: samples) }
    }

    /// Log events taken into a log group, in CloudWatch Logs' billed size: each event's UTF-8 message plus 26
    /// bytes.
    static func logIngest(group: String, events: Int, bytes: Int) {
        guard events > 0 else { return }
        let dimensions = UsageAttribution.dimensions([("LogGroup", group)])
        Counter(label: "Plumb/Usage/LogEventsIngested", dimensions: dimensions).increment(by: events)
        Counter(label: "Plumb/Usage/LogBytesIngested", dimensions: dimensions).increment(by: bytes)
    }

    /// One call of the platform API by `user` (`admin-token` for the admin token), and for each of its groups.
    static func apiRequest(user: String, groups: [String] = []) {
        Counter(label: "Plumb/Usage/APIRequests", dimensions: [("User", user)]).increment()
        for group in groups {
            Counter(label: "Plumb/Usage/GroupAPIRequests", dimensions: [("Group", group)]).increment()
        }
    }
}
