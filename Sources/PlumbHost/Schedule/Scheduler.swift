import Foundation
import Logging
import PlumbAPI
import PlumbMetrics
import ServiceLifecycle

/// Fires scheduled functions (EventBridge → Lambda): at each run time the function gets an async event
/// `{"time": "…", "schedule": "…"}` through the async queue, so a run that fails is retried by Lambda's rules.
///
/// The last run of each function is kept in the queue's database. After downtime, a function whose runs were
/// missed runs once at start (not once per missed run) and the log says how many were missed.
public struct Scheduler: Sendable {
    public struct Entry: Sendable {
        public var function: String
        public var schedule: ScheduleExpression

        public init(function: String, schedule: ScheduleExpression) {
            self.function = function
            self.schedule = schedule
        }
    }

    public let entries: [Entry]
    let queue: any AsyncEventStoring
    let logger: Logger
    /// Told each run queued (the function's name): the host counts it as an async event accepted, as EventBridge's
    /// invocations of a Lambda function are.
    var queued: @Sendable (String) -> Void = { _ in }

    /// Collects every `.schedule` function; an invalid expression is an error naming the function.
    public init(
        host: PluginHost, queue: any AsyncEventStoring, logger: Logger = Logger(label: "plumb.scheduler")
    ) throws {
        var entries: [Entry] = []
        for function in host.functions {
            guard case .schedule(let text) = function.trigger else { continue }
            do {
                entries.append(Entry(function: function.name, schedule: try ScheduleExpression(text)))
            } catch {
                throw ScheduleError("function \(function.name): \(error.message)")
            }
        }
        self.init(entries: entries, queue: queue, logger: logger)
        queued = { [host] name in host.function(named: name)?.countAsyncEvent() }
    }

    public init(entries: [Entry], queue: any AsyncEventStoring, logger: Logger = Logger(label: "plumb.scheduler")) {
        self.entries = entries
        self.queue = queue
        self.logger = logger
    }

    /// Queues every run due at `now` (epoch seconds) and records it; returns the functions fired.
    @discardableResult
    public func tick(now: Int64) async throws -> [String] {
        var fired: [String] = []
        for entry in entries {
            let last = try await queue.lastScheduledRun(of: entry.function)
            guard let last else {
                // First sight of this schedule: start counting from now.
                try await queue.recordScheduledRun(of: entry.function, at: now)
                continue
            }
            guard let due = entry.schedule.next(after: last), due <= now else { continue }
            var missed = 0
            var cursor = due
            while let after = entry.schedule.next(after: cursor), after <= now, missed < 10_000 {
                missed += 1
                cursor = after
            }
            if missed > 0 {
                logger.warning(
                    "runs missed while Plumb was down; running once now",
                    metadata: [
                        "function": "\(entry.function)", "missed": "\(missed)", "schedule": "\(entry.schedule)",
                    ])
            }
            let payload: [String: Any] = ["time": TimeParsing.format(cursor), "schedule": entry.schedule.description]
            let body = (try? JSONSerialization.data(withJSONObject: payload, options: [.sortedKeys])) ?? Data()
            try await queue.enqueue(function: entry.function, payload: Array(body), now: Double(now))
            try await queue.recordScheduledRun(of: entry.function, at: cursor)
            queued(entry.function)
            fired.append(entry.function)
        }
        return fired
    }
}

/// Ticks the scheduler every second of wall-clock time, while `leads` says so (in a cluster, on the leader only:
/// a schedule fires once, not once per node).
public struct SchedulerService: Service {
    public let scheduler: Scheduler
    public let leads: @Sendable () -> Bool

    public init(scheduler: Scheduler, leads: @escaping @Sendable () -> Bool = { true }) {
        self.scheduler = scheduler
        self.leads = leads
    }

    public func run() async throws {
        guard !scheduler.entries.isEmpty else {
            try? await gracefulShutdown()
            return
        }
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do { if leads() { try await scheduler.tick(now: Int64(Date().timeIntervalSince1970)) } } catch {
                scheduler.logger.error("scheduler: \(error)")
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(1)) }
        }
    }
}
