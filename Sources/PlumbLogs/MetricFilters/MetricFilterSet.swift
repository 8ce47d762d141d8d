import PlumbMetrics
import Synchronization

/// The metric filters in force in one log store: those declared in alert files and those created through the API,
/// and their union by group (what `append` applies). Every backend keeps its filters here, so they all combine them
/// the same way.
public final class MetricFilterSet: Sendable {
    private let state = Mutex<(files: [MetricFilter], api: [MetricFilter], active: [String: [MetricFilter]])>(
        ([], [], [:]))

    public init() {}

    /// Replaces the metric filters declared in alert files.
    public func setFromFiles(_ list: [MetricFilter]) {
        state.withLock { f in
            f.files = list
            f.active = Dictionary(grouping: f.files + f.api, by: \.group)
        }
    }

    /// Replaces the metric filters created through the API.
    public func setFromAPI(_ list: [MetricFilter]) {
        state.withLock { f in
            f.api = list
            f.active = Dictionary(grouping: f.files + f.api, by: \.group)
        }
    }

    /// Every filter, by name, each with whether it came from an alert file.
    public var all: [(filter: MetricFilter, fromFile: Bool)] {
        state.withLock { f in f.files.map { ($0, true) } + f.api.map { ($0, false) } }.sorted {
            $0.filter.name < $1.filter.name
        }
    }

    /// The samples the filters of each batch's group make of its events.
    public func samples(for batches: [(group: String, stream: String, events: [InputLogEvent])]) -> [Sample] {
        let active = state.withLock { $0.active }
        guard !active.isEmpty else { return [] }
        return batches.flatMap { batch in (active[batch.group] ?? []).flatMap { $0.samples(for: batch.events) } }
    }
}
