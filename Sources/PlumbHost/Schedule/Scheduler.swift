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
        /// What its runs are recorded under: the function's name, or an EventBridge rule's target.
        public var key: String
        /// The JSON the function gets, instead of `{"time", "schedule"}` (a rule target's `Input`, or EventBridge's
        /// scheduled event, made per run by `ruleEvent`).
        public var input: String?
        /// The rule an entry comes from (its scheduled events name it).
        public var rule: String?

        public init(
            function: String, schedule: ScheduleExpression, key: String? = nil, input: String? = nil,
            rule: String? = nil
        ) {
            self.function = function
            self.schedule = schedule
            self.key = key ?? function
            self.input = input
            self.rule = rule
        }
    }

    public let entries: [Entry]
    /// The ARN prefix of rules (`arn:aws:events:REGION:ACCOUNT:rule/`), for the events of rules' targets.
    public var ruleARNPrefix = "arn:aws:events:us-east-1:000000000000:rule/"
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
                // A Lambda handler gets EventBridge's scheduled event, from its managed rule `plumb.NAME`.
                entries.append(
                    Entry(
                        function: function.name, schedule: try ScheduleExpression(text),
                        rule: function.pluginName == PluginHost.lambdaPlugin ? "plumb.\(function.name)" : nil))
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
        for entry in entries + (try await ruleEntries()) {
            let last = try await queue.lastScheduledRun(of: entry.key)
            guard let last else {
                // First sight of this schedule: start counting from now.
                try await queue.recordScheduledRun(of: entry.key, at: now)
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
            let body: [UInt8]
            if let input = entry.input {
                body = Array(input.utf8)
            } else if let rule = entry.rule {
                body = ruleEvent(rule: rule, time: cursor)
            } else {
                let payload: [String: Any] = [
                    "time": TimeParsing.format(cursor), "schedule": entry.schedule.description,
                ]
                body = Array((try? JSONSerialization.data(withJSONObject: payload, options: [.sortedKeys])) ?? Data())
            }
            try await queue.enqueue(function: entry.function, payload: body, now: Double(now))
            try await queue.recordScheduledRun(of: entry.key, at: cursor)
            queued(entry.function)
            fired.append(entry.function)
        }
        return fired
    }
}

extension Scheduler {
    /// The enabled rules' targets made through the EventBridge API (read each tick: a rule put on any node fires
    /// on the leader within a second). A rule whose document or expression does not read is skipped and logged.
    func ruleEntries() async throws -> [Entry] {
        var entries: [Entry] = []
        for (name, document) in try await queue.scheduleRules().sorted(by: { $0.key < $1.key }) {
            guard let rule = try? JSONDecoder().decode(ScheduleRule.self, from: Data(document.utf8)),
                rule.state == "ENABLED"
            else { continue }
            guard let schedule = try? ScheduleExpression(rule.scheduleExpression) else {
                logger.error("schedule rule \(name): '\(rule.scheduleExpression)' does not parse; skipped")
                continue
            }
            for target in rule.targets {
                entries.append(
                    Entry(
                        function: target.function, schedule: schedule,
                        key: ScheduleRule.runKey(rule: rule.name, target: target.id), input: target.input,
                        rule: rule.name))
            }
        }
        return entries
    }

    /// EventBridge's scheduled event: `{"version": "0", "id", "detail-type": "Scheduled Event", "source":
    /// "aws.events", "account", "time", "region", "resources": [rule ARN], "detail": {}}`.
    func ruleEvent(rule: String, time: Int64) -> [UInt8] {
        let parts = ruleARNPrefix.split(separator: ":", omittingEmptySubsequences: false)
        let event: [String: Any] = [
            "version": "0", "id": UUID().uuidString.lowercased(), "detail-type": "Scheduled Event",
            "source": "aws.events", "account": parts.count > 4 ? String(parts[4]) : "",
            "time": TimeParsing.format(time), "region": parts.count > 3 ? String(parts[3]) : "",
            "resources": [ruleARNPrefix + rule], "detail": [String: Any](),
        ]
        return Array((try? JSONSerialization.data(withJSONObject: event, options: [.sortedKeys])) ?? Data())
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
        // Runs with no entries too: rules made through the EventBridge API are read each tick.
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do { if leads() { try await scheduler.tick(now: Int64(Date().timeIntervalSince1970)) } } catch {
                scheduler.logger.error("scheduler: \(error)")
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(1)) }
        }
    }
}
