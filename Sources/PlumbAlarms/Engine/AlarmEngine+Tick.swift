import Foundation
import Metrics
import PlumbAPI
import PlumbMetrics
import PlumbStore

extension AlarmEngine {
    /// What one evaluation tick did.
    public struct TickReport: Sendable {
        public var evaluated = 0
        public var failed = 0
        public var transitions: [AlarmTransition] = []
    }

    /// Evaluates every metric alarm that is due at `now`, then every composite, persists the transitions and
    /// runs their actions.
    ///
    /// - Parameter fence: asked again once the evaluation is done, before anything is applied: a node that has lost
    ///   the cluster's lease meanwhile drops the tick instead of notifying after the new leader has started.
    @discardableResult
    public func tick(now: Int64, fence: @Sendable () -> Bool = { true }) async -> TickReport {
        let due: [MetricAlarm] = registry.withLock { r in
            r.metricNames.compactMap { name -> MetricAlarm? in
                guard let entry = r.entries[name], case .metric(let alarm) = entry.definition else { return nil }
                let interval = alarm.evaluationInterval
                if let last = entry.lastEvaluatedAt, floorDivide(last, interval) == floorDivide(now, interval) {
                    return nil
                }
                return alarm
            }
        }
        let results = await evaluate(due, now: now)
        var report = TickReport()
        var transitions: [AlarmTransition] = []
        // Applied and stored under `writes`, so a re-read of other nodes' writes never lands in between.
        await writes.withLock {
            guard fence() else {
                logger.warning("alarm tick dropped: this node stopped leading while it evaluated")
                return
            }
            do {
                try await catchUpBeforeWriting()
            } catch {
                logger.error("alarm tick dropped: \(error)")
                return
            }
            registry.withLock { r in
                for (alarm, outcome) in results {
                    guard var entry = r.entries[alarm.name], case .metric(let current) = entry.definition,
                        current == alarm
                    else { continue }
                    guard let (range, evaluation) = outcome else {
                        report.failed += 1
                        continue
                    }
                    report.evaluated += 1
                    entry.lastEvaluatedAt = now
                    let newState: AlarmState
                    switch evaluation.outcome {
                    case .state(let s): newState = s
                    case .keepCurrent: newState = entry.state
                    }
                    if newState != entry.state {
                        let reason = StateReason.text(for: evaluation, alarm: alarm, from: entry.state, to: newState)
                        let transition = AlarmTransition(
                            alarm: entry.definition, oldState: entry.state, newState: newState, reason: reason,
                            reasonData: ReasonData.json(alarm: alarm, evaluation: evaluation, range: range, now: now),
                            timestamp: now, topics: alarm.actions.topics(for: newState))
                        entry.apply(transition)
                        transitions.append(transition)
                    }
                    r.entries[alarm.name] = entry
                }
                transitions += Self.evaluateComposites(&r, now: now)
            }
            await record(transitions)
        }
        report.transitions = transitions
        await runActions(transitions)
        return report
    }

    /// Sets an alarm's state by hand (CloudWatch's SetAlarmState): held until the alarm's next evaluation.
    public func setState(
        _ name: String, _ state: AlarmState, reason: String, reasonData: String? = nil, now: Int64
    ) async throws(AlarmError) {
        guard reason.utf8.count <= 1_023 else { throw AlarmError("reason must be at most 1023 bytes") }
        if let reasonData, reasonData.utf8.count > 4_000 { throw AlarmError("reason_data must be at most 4000 bytes") }
        let transitions = try await writes.withLock { () async throws(AlarmError) -> [AlarmTransition] in
            try await catchUpBeforeWriting()
            let result: Result<[AlarmTransition], AlarmError> = registry.withLock { r in
                guard var entry = r.entries[name] else { return .failure(.notFound(name)) }
                let transition = AlarmTransition(
                    alarm: entry.definition, oldState: entry.state, newState: state, reason: reason,
                    reasonData: reasonData,
                    timestamp: now, topics: state == entry.state ? [] : entry.definition.actions.topics(for: state))
                entry.apply(transition)
                r.entries[name] = entry
                // Composites that read this alarm follow at once; a composite set by hand holds until the next tick.
                return .success([transition] + Self.evaluateComposites(&r, now: now, holding: name))
            }
            let transitions = try result.get()
            if let error = await record(transitions), store?.isShared == true {
                // The other nodes would never see this state: not set (the stored one is read back, when it can be).
                registry.withLock { r in
                    for t in transitions { r.entries[t.alarm.name]?.revision = -1 }
                }
                try? await catchUp(force: true)
                throw AlarmError.storeFailed("the state could not be stored", error)
            }
            return transitions
        }
        await runActions(transitions)
    }

    /// Series read per transaction.
    static let readChunk = 256

    /// Evaluates due metric alarms concurrently. Alarms on the same series and period share one read of the
    /// store; a failed read yields nil for its alarms.
    func evaluate(
        _ alarms: [MetricAlarm], now: Int64
    ) async -> [(MetricAlarm, ([EvaluationDatapoint], AlarmEvaluation)?)] {
        guard !alarms.isEmpty else { return [] }
        let math = alarms.filter { $0.metrics != nil }
        if !math.isEmpty {
            return await evaluate(alarms.filter { $0.metrics == nil }, now: now) + evaluateMath(math, now: now)
        }
        struct GroupKey: Hashable {
            let series: SeriesKey
            let period: Int64
        }
        var grouped: [GroupKey: [MetricAlarm]] = [:]
        for alarm in alarms { grouped[GroupKey(series: alarm.series, period: alarm.period), default: []].append(alarm) }
        let groups = Array(grouped.values)
        let lanes = min(parallelism, groups.count)
        let source = self.source
        let logger = self.logger
        return await withTaskGroup(of: [(MetricAlarm, ([EvaluationDatapoint], AlarmEvaluation)?)].self) { taskGroup in
            for lane in 0..<lanes {
                taskGroup.addTask {
                    var out: [(MetricAlarm, ([EvaluationDatapoint], AlarmEvaluation)?)] = []
                    let mine = stride(from: lane, to: groups.count, by: lanes).map { groups[$0] }
                    // One read transaction per chunk of series.
                    for chunkStart in stride(from: 0, to: mine.count, by: Self.readChunk) {
                        let chunk = mine[chunkStart..<min(chunkStart + Self.readChunk, mine.count)]
                        let requests = chunk.map { members -> AggregateRequest in
                            let first = members[0]
                            let end = floorDivide(now, first.period) * first.period
                            let longest = members.map(\.evaluationRange).max()!
                            return AggregateRequest(
                                series: first.series, period: first.period, start: end - Int64(longest) * first.period,
                                end: end, distribution: members.contains { $0.statistic.needsDistribution })
                        }
                        do {
                            let found = try await source.aggregates(requests)
                            for (members, (request, aggregates)) in zip(chunk, zip(requests, found)) {
                                for alarm in members {
                                    let range = MetricStoreDataSource.layout(
                                        aggregates, alarm: alarm, count: alarm.evaluationRange, end: request.end)
                                    out.append((alarm, (range, AlarmEvaluator.evaluate(alarm, range: range))))
                                }
                            }
                        } catch {
                            logger.warning(
                                "\(chunk.reduce(0) { $0 + $1.count }) alarms could not be evaluated: \(error)")
                            out += chunk.flatMap { $0.map { ($0, nil) } }
                        }
                    }
                    return out
                }
            }
            var all: [(MetricAlarm, ([EvaluationDatapoint], AlarmEvaluation)?)] = []
            for await part in taskGroup { all += part }
            return all
        }
    }

    /// Alarms on metric math: each alarm's metrics read together, the expression evaluated over its evaluation
    /// range, the returned series laid onto the periods (a period without a value is missing).
    func evaluateMath(
        _ alarms: [MetricAlarm], now: Int64
    ) async -> [(MetricAlarm, ([EvaluationDatapoint], AlarmEvaluation)?)] {
        var out: [(MetricAlarm, ([EvaluationDatapoint], AlarmEvaluation)?)] = []
        for alarm in alarms {
            let end = floorDivide(now, alarm.period) * alarm.period
            do {
                let range = try await source.datapoints(for: alarm, count: alarm.evaluationRange, end: end)
                out.append((alarm, (range, AlarmEvaluator.evaluate(alarm, range: range))))
            } catch {
                logger.warning("alarm \(alarm.name) (metric math) could not be evaluated: \(error)")
                out.append((alarm, nil))
            }
        }
        return out
    }

    /// Composite alarms in dependency order, plus their actions suppressors.
    static func evaluateComposites(_ r: inout Registry, now: Int64, holding held: String? = nil) -> [AlarmTransition] {
        var transitions: [AlarmTransition] = []
        for name in r.compositeOrder where name != held {
            guard var entry = r.entries[name], case .composite(let composite) = entry.definition else { continue }
            let states = r.entries
            let holds = composite.rule.evaluate { states[$0]?.state }
            let newState: AlarmState = holds ? .alarm : .ok
            let suppressorInAlarm = composite.actionsSuppressor.map { states[$0]?.state == .alarm } ?? false
            if newState != entry.state {
                let children = composite.rule.references.map { "\($0) is \(states[$0]?.state.rawValue ?? "missing")" }
                let reason =
                    "Rule \(composite.ruleText) is \(holds ? "TRUE" : "FALSE"): \(children.joined(separator: ", "))"
                var transition = AlarmTransition(
                    alarm: entry.definition, oldState: entry.state, newState: newState, reason: reason, reasonData: nil,
                    timestamp: now, topics: composite.actions.topics(for: newState))
                if composite.actionsSuppressor != nil {
                    if newState == .alarm {
                        if suppressorInAlarm {
                            entry.suppression = .suppressed
                        } else if composite.waitPeriod > 0 {
                            entry.suppression = .waiting(until: now + composite.waitPeriod)
                        }
                        if entry.suppression != .none {
                            entry.deferred = transition
                            transition.topics = []
                        }
                    } else if entry.suppression != .none {
                        // The ALARM actions never ran: the matching OK actions are suppressed too.
                        transition.topics = []
                        entry.suppression = .none
                        entry.deferred = nil
                    }
                }
                entry.apply(transition)
                transitions.append(transition)
            } else if entry.state == .alarm, var deferred = entry.deferred {
                var release = false
                switch entry.suppression {
                case .none: release = true
                case .waiting(let until):
                    if suppressorInAlarm { entry.suppression = .suppressed } else if now >= until { release = true }
                case .suppressed:
                    if !suppressorInAlarm {
                        if composite.extensionPeriod > 0 {
                            entry.suppression = .extending(until: now + composite.extensionPeriod)
                        } else {
                            release = true
                        }
                    }
                case .extending(let until):
                    if suppressorInAlarm { entry.suppression = .suppressed } else if now >= until { release = true }
                }
                if release {
                    entry.suppression = .none
                    entry.deferred = nil
                    deferred.timestamp = now
                    deferred.oldState = .alarm
                    deferred.reason += " (actions released after the suppressor \(composite.actionsSuppressor ?? ""))"
                    // Not a state change: only the actions run.
                    transitions.append(deferred)
                }
            }
            r.entries[name] = entry
        }
        return transitions
    }

    /// Persists state changes with their history (under `writes`); the error when they could not be stored.
    @discardableResult
    func record(_ transitions: [AlarmTransition]) async -> (any Error)? {
        guard !transitions.isEmpty else { return nil }
        var records: [AlarmRecord] = []
        var history: [AlarmHistoryEntry] = []
        var recorded: Set<String> = []
        registry.withLock { r in
            for t in transitions {
                let name = t.alarm.name
                if let e = r.entries[name], recorded.insert(name).inserted {
                    let document: String? = if case .api(let d) = e.origin { d } else { nil }
                    records.append(
                        .init(
                            name: name, document: document, state: e.state, reason: e.reason, reasonData: e.reasonData,
                            updatedAt: e.updatedAt))
                }
                if t.oldState != t.newState || t.topics.isEmpty {
                    history.append(
                        AlarmHistoryEntry(
                            name,
                            .init(
                                type: "StateUpdate", timestamp: t.timestamp,
                                summary: "Alarm updated from \(t.oldState.rawValue) to \(t.newState.rawValue)",
                                data: StateHistoryData.json(old: t.oldState, new: t.newState, newReason: t.reason))))
                }
            }
        }
        do {
            try await persist(records, history: history)
            return nil
        } catch {
            logger.error("could not save alarm state: \(error)")
            return error
        }
    }

    /// Runs the transitions' actions and records their outcomes. The actions of an alarm an active silence matches
    /// are held instead: nothing is published, and the history says which silence held which topics.
    func runActions(_ transitions: [AlarmTransition]) async {
        var actionHistory: [AlarmHistoryEntry] = []
        for t in transitions where !t.topics.isEmpty {
            if let silence = silences.active(for: t.alarm.name, at: t.timestamp) {
                actionHistory.append(
                    AlarmHistoryEntry(
                        t.alarm.name,
                        .init(
                            type: "Action", timestamp: t.timestamp,
                            summary: "Notification held by silence \(silence.id)",
                            data: HeldNotificationData.json(silence: silence, transition: t))))
                Counter(label: "Plumb/Alarms/NotificationsHeld").increment()
                continue
            }
            for outcome in await notifier.notify(t) {
                let summary =
                    outcome.error.map { "Failed to execute action \(outcome.topic): \($0)" }
                    ?? "Successfully executed action \(outcome.topic)"
                let data = outcome.messageId.map { "{\"messageId\":\"\($0)\"}" }
                actionHistory.append(
                    AlarmHistoryEntry(
                        t.alarm.name, .init(type: "Action", timestamp: t.timestamp, summary: summary, data: data)))
                if let error = outcome.error {
                    logger.error("alarm '\(t.alarm.name)': action on topic '\(outcome.topic)' failed: \(error)")
                }
            }
        }
        guard !actionHistory.isEmpty else { return }
        do {
            try await writes.withLock { () async throws in try await persist([], history: actionHistory) }
        } catch {
            logger.error("could not save alarm action history: \(error)")
        }
    }
}

extension AlarmEngine.Entry {
    mutating func apply(_ transition: AlarmTransition) {
        state = transition.newState
        reason = transition.reason
        reasonData = transition.reasonData
        updatedAt = transition.timestamp
    }
}

@inline(__always)
func floorDivide(_ a: Int64, _ b: Int64) -> Int64 {
    Checked.floorDivision(a, b)
}
