import CoreMetrics
import Foundation
import PlumbAPI
import Synchronization

/// The swift-metrics backend of the server process: everything recorded through `Counter`, `Timer`,
/// `Recorder`, `Gauge` and `Meter` is kept here, exposed to Prometheus, and reported into the `MetricStore`.
///
/// Labels map to CloudWatch names: `Plumb/Functions/Invocations` is metric `Invocations` in namespace
/// `Plumb/Functions`; a label without `/` (such as Hummingbird's `hb.requests`) goes to `Plumb/Server`.
public final class PlumbMetricsFactory: MetricsFactory, Sendable {
    private struct Handlers {
        var counters: [HandlerID: PlumbCounter] = [:]
        var floatingCounters: [HandlerID: PlumbFloatingCounter] = [:]
        var recorders: [HandlerID: PlumbRecorder] = [:]
    }
    private let handlers = Mutex(Handlers())

    public init() {}

    public func makeCounter(label: String, dimensions: [(String, String)]) -> CounterHandler {
        handler(label, dimensions, \.counters) { PlumbCounter(id: $0) }
    }

    public func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> FloatingPointCounterHandler {
        handler(label, dimensions, \.floatingCounters) { PlumbFloatingCounter(id: $0) }
    }

    public func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> RecorderHandler {
        recorder(label: label, dimensions: dimensions, kind: aggregate ? .distribution : .gauge)
    }

    public func makeMeter(label: String, dimensions: [(String, String)]) -> MeterHandler {
        recorder(label: label, dimensions: dimensions, kind: .gauge)
    }

    public func makeTimer(label: String, dimensions: [(String, String)]) -> TimerHandler {
        recorder(label: label, dimensions: dimensions, kind: .timer)
    }

    private func recorder(label: String, dimensions: [(String, String)], kind: PlumbRecorder.Kind) -> PlumbRecorder {
        handler(label, dimensions, \.recorders) { PlumbRecorder(id: $0, kind: kind) }
    }

    /// The handler of `label` and `dimensions` in `table`, made by `make` the first time: the same label and
    /// dimensions always get the same handler.
    private func handler<Handler: Sendable>(
        _ label: String, _ dimensions: [(String, String)], _ table: WritableKeyPath<Handlers, [HandlerID: Handler]>,
        _ make: (HandlerID) -> Handler
    ) -> Handler {
        let id = HandlerID(label: label, dimensions: dimensions)
        return handlers.withLock { h in
            if let found = h[keyPath: table][id] { return found }
            let made = make(id)
            h[keyPath: table][id] = made
            return made
        }
    }

    public func destroyCounter(_ handler: CounterHandler) {
        guard let c = handler as? PlumbCounter else { return }
        handlers.withLock { _ = $0.counters.removeValue(forKey: c.id) }
    }

    public func destroyFloatingPointCounter(_ handler: FloatingPointCounterHandler) {
        guard let c = handler as? PlumbFloatingCounter else { return }
        handlers.withLock { _ = $0.floatingCounters.removeValue(forKey: c.id) }
    }

    public func destroyMeter(_ handler: MeterHandler) { destroyRecorder(handler) }
    public func destroyRecorder(_ handler: RecorderHandler) { destroyRecorder(handler as AnyObject) }
    public func destroyTimer(_ handler: TimerHandler) { destroyRecorder(handler as AnyObject) }

    private func destroyRecorder(_ handler: AnyObject) {
        guard let r = handler as? PlumbRecorder else { return }
        handlers.withLock { _ = $0.recorders.removeValue(forKey: r.id) }
    }

    var allCounters: [PlumbCounter] { handlers.withLock { Array($0.counters.values) } }
    var allFloatingCounters: [PlumbFloatingCounter] { handlers.withLock { Array($0.floatingCounters.values) } }
    var allRecorders: [PlumbRecorder] { handlers.withLock { Array($0.recorders.values) } }

    /// The CloudWatch series a label and its dimensions report to.
    static func seriesKey(for id: HandlerID) -> SeriesKey {
        if let slash = id.label.lastIndex(of: "/") {
            return SeriesKey(
                namespace: String(id.label[..<slash]), name: String(id.label[id.label.index(after: slash)...]),
                dimensions: id.dimensions)
        }
        return SeriesKey(namespace: "Plumb/Server", name: id.label, dimensions: id.dimensions)
    }

    /// Everything recorded since the last call, as samples stamped `timestamp` (high resolution).
    /// Series whose names or dimensions the store would reject are left out.
    public func takeSamples(timestamp: Int64, validator: DatumValidator) -> [Sample] {
        var samples: [Sample] = []
        func valid(_ key: SeriesKey) -> Bool {
            (try? validator.checkNamespace(key.namespace, at: "")) != nil
                && (try? validator.checkName(key.name, what: "", at: "")) != nil
                && (try? validator.checkDimensions(key.dimensions, at: "")) != nil
        }
        for counter in allCounters {
            guard let delta = counter.takeDelta() else { continue }
            let key = Self.seriesKey(for: counter.id)
            guard valid(key) else { continue }
            samples.append(
                Sample(
                    series: key, unit: .count, timestamp: timestamp, resolution: .high, value: .single(Double(delta))))
        }
        for counter in allFloatingCounters {
            guard let delta = counter.takeDelta() else { continue }
            let key = Self.seriesKey(for: counter.id)
            guard valid(key) else { continue }
            samples.append(
                Sample(series: key, unit: .count, timestamp: timestamp, resolution: .high, value: .single(delta)))
        }
        for recorder in allRecorders {
            let interval = recorder.takeInterval()
            let key = Self.seriesKey(for: recorder.id)
            guard !interval.isEmpty, valid(key) else { continue }
            samples.append(
                Sample(
                    series: key, unit: recorder.kind == .timer ? .milliseconds : nil, timestamp: timestamp,
                    resolution: .high, value: .distribution(interval)))
        }
        return samples
    }
}
