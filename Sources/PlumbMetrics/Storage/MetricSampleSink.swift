/// Where another store hands the samples it derives from its own writes (the log store's metric filters).
///
/// `append` is synchronous and returns only once the samples are durable, so the caller can call it inside its own
/// transaction and refuse that transaction when it throws: a batch is then applied whole (events and samples) or not
/// at all, never half. `MetricStore` is the embedded implementation (one journal entry per call).
public protocol MetricSampleSink: Sendable {
    /// Stores `samples` durably, or throws and stores none of them.
    func append(_ samples: [Sample]) throws
}

extension MetricStore: MetricSampleSink, MetricStoring {}
