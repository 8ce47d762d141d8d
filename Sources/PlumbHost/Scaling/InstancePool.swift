import Dispatch
import Logging
import PlumbKit
import Synchronization

/// One execution environment of a function: a plugin instance and the handler bound to it.
///
/// Its mutable fields are only touched under the owning pool's lock.
final class FunctionInstance: @unchecked Sendable {
    let id: Int
    let handler: @Sendable (FunctionRequest, FunctionContext) async throws -> FunctionResponse
    /// Whether it can still serve (a process instance whose process died cannot).
    let isAlive: @Sendable () -> Bool
    var provisioned: Bool
    var inFlight = 0
    var retired = false

    init(id: Int, provisioned: Bool, started: InstancePool.Started) {
        self.id = id
        self.provisioned = provisioned
        self.handler = started.handler
        self.isAlive = started.isAlive
    }
}

/// The warm instances of one function, Lambda's execution environments.
///
/// An invocation checks out an instance with a free slot (provisioned ones first, then the most recently used, so
/// the rest go idle and can be reclaimed); when none has one it creates an instance itself and waits for its
/// initialiser — a cold start, counted in `ColdStarts` with its `InitDuration`. The autoscaler moves the pool
/// towards a desired size with `scale(to:)`: it creates instances in the background ahead of demand and reclaims
/// idle ones, never the provisioned ones and never one that is running.
///
/// The pool also integrates busy slots over time, so the autoscaler reads the true average concurrency between two
/// samples however short the invocations are.
public final class InstancePool: Sendable {
    public typealias Handler = @Sendable (FunctionRequest, FunctionContext) async throws -> FunctionResponse
    public typealias Factory = @Sendable () async throws -> Started

    /// What an initialiser gives: the instance's handler, and whether the instance is still alive (checked before
    /// a warm instance is handed out: one whose process died while idle is dropped, not given an invocation).
    public struct Started: Sendable {
        public var handler: Handler
        public var isAlive: @Sendable () -> Bool

        public init(handler: @escaping Handler, isAlive: @escaping @Sendable () -> Bool = { true }) {
            self.handler = handler
            self.isAlive = isAlive
        }
    }

    struct State {
        /// Instances with a free slot, most recently used last.
        var provisionedAvailable: [FunctionInstance] = []
        var onDemandAvailable: [FunctionInstance] = []
        var instances = 0
        var provisionedInstances = 0
        var initializing = 0
        var provisionedTarget = 0
        var nextID = 1
        /// Busy slots now, and their integral (slot-nanoseconds) since the last sample.
        var busy = 0
        var provisionedBusy = 0
        var busyIntegral: Double = 0
        var provisionedBusyIntegral: Double = 0
        var lastChange: UInt64 = 0
        var lastSample: UInt64 = 0
        var coldStarts = 0
        var initFailures = 0
    }

    /// Invocations one instance serves at once (Lambda: 1).
    public let perInstanceConcurrency: Int
    let factory: Factory
    let metrics: Metrics
    let logger: Logger
    private let state: Mutex<State>

    struct Metrics: Sendable {
        let coldStarts: @Sendable () -> Void
        let initDuration: @Sendable (Int64) -> Void
        let instances: @Sendable (Int) -> Void
    }

    init(perInstanceConcurrency: Int, factory: @escaping Factory, metrics: Metrics, logger: Logger) {
        self.perInstanceConcurrency = max(1, perInstanceConcurrency)
        self.factory = factory
        self.metrics = metrics
        self.logger = logger
        let now = DispatchTime.now().uptimeNanoseconds
        state = Mutex(State(lastChange: now, lastSample: now))
    }

    /// What a checkout gives the invocation.
    struct Lease {
        let instance: FunctionInstance
        /// Set when this invocation waited for the instance's initialiser.
        let initNanoseconds: Int64?
        /// Whether the instance is a provisioned one, and whether the function has provisioned concurrency at all.
        let provisioned: Bool
        let hasProvisioned: Bool
    }

    /// A snapshot for the API, the metrics and the autoscaler.
    public struct Snapshot: Sendable, Equatable {
        public var instances: Int
        public var provisionedInstances: Int
        public var initializing: Int
        public var busySlots: Int
        public var coldStarts: Int
        public var initFailures: Int
    }

    public var snapshot: Snapshot {
        state.withLock { s in
            Snapshot(
                instances: s.instances, provisionedInstances: s.provisionedInstances, initializing: s.initializing,
                busySlots: s.busy, coldStarts: s.coldStarts, initFailures: s.initFailures)
        }
    }

    private static func account(_ s: inout State, now: UInt64) {
        if now > s.lastChange {
            let dt = Double(now - s.lastChange)
            s.busyIntegral += Double(s.busy) * dt
            s.provisionedBusyIntegral += Double(s.provisionedBusy) * dt
            s.lastChange = now
        }
    }

    /// Takes a slot on a warm instance, or creates an instance (a cold start) and takes its first slot.
    func checkout(now: UInt64) async throws -> Lease {
        let per = perInstanceConcurrency
        let (warm, dropped) = state.withLock { s -> (Lease?, Int?) in
            let instance: FunctionInstance
            Self.account(&s, now: now)
            // Idle instances that died (a runtime process that exited) leave the pool instead of taking a call.
            let dead = (s.provisionedAvailable + s.onDemandAvailable).filter { $0.inFlight == 0 && !$0.isAlive() }
            for gone in dead {
                gone.retired = true
                Self.remove(gone, from: &s)
                s.instances -= 1
                if gone.provisioned { s.provisionedInstances -= 1 }
            }
            let dropped = dead.isEmpty ? nil : s.instances
            if let last = s.provisionedAvailable.last {
                instance = last
                if last.inFlight + 1 >= per { s.provisionedAvailable.removeLast() }
                s.provisionedBusy += 1
            } else if let last = s.onDemandAvailable.last {
                instance = last
                if last.inFlight + 1 >= per { s.onDemandAvailable.removeLast() }
            } else {
                s.initializing += 1
                s.coldStarts += 1
                return (nil, dropped)
            }
            instance.inFlight += 1
            s.busy += 1
            return (
                Lease(
                    instance: instance, initNanoseconds: nil, provisioned: instance.provisioned,
                    hasProvisioned: s.provisionedTarget > 0), dropped
            )
        }
        if let dropped {
            logger.warning("dropped idle instances whose process had exited")
            metrics.instances(dropped)
        }
        if let warm { return warm }
        metrics.coldStarts()
        let (started, ended, initNanos) = try await initialise()
        let (lease, count) = state.withLock { s -> (Lease, Int) in
            let instance = FunctionInstance(id: s.nextID, provisioned: false, started: started)
            s.nextID += 1
            s.initializing -= 1
            s.instances += 1
            Self.account(&s, now: ended)
            instance.inFlight = 1
            s.busy += 1
            if per > 1 { s.onDemandAvailable.append(instance) }
            return (
                Lease(
                    instance: instance, initNanoseconds: initNanos, provisioned: false,
                    hasProvisioned: s.provisionedTarget > 0), s.instances
            )
        }
        metrics.instances(count)
        return lease
    }

    /// Returns a slot; a retired instance leaves the pool once its last invocation ends.
    func checkin(_ instance: FunctionInstance, now: UInt64) {
        let per = perInstanceConcurrency
        let removed = state.withLock { s -> Int? in
            Self.account(&s, now: now)
            let wasFull = instance.inFlight >= per
            instance.inFlight -= 1
            s.busy -= 1
            if instance.provisioned { s.provisionedBusy -= 1 }
            if instance.retired {
                guard instance.inFlight == 0 else { return nil }
                if per > 1 { Self.remove(instance, from: &s) }
                s.instances -= 1
                // Only `retire` retires a provisioned instance (its process died); the autoscaler's floor replaces it.
                if instance.provisioned { s.provisionedInstances -= 1 }
                return s.instances
            }
            if instance.provisioned && instance.inFlight == 0 && s.provisionedInstances > s.provisionedTarget {
                // Provisioned concurrency was lowered while this instance ran: it becomes on-demand now.
                if !wasFull { Self.remove(instance, from: &s) }
                instance.provisioned = false
                s.provisionedInstances -= 1
                s.onDemandAvailable.append(instance)
                return nil
            }
            if wasFull {
                if instance.provisioned {
                    s.provisionedAvailable.append(instance)
                } else {
                    s.onDemandAvailable.append(instance)
                }
            }
            return nil
        }
        if let removed { metrics.instances(removed) }
    }

    /// Takes an instance out of service (its process died): no invocation gets it again, and it leaves the pool once
    /// its invocations end (`checkin`).
    func retire(_ instance: FunctionInstance) {
        state.withLock { s in
            guard !instance.retired else { return }
            instance.retired = true
            Self.remove(instance, from: &s)
        }
    }

    /// Takes every instance out of service (the function was replaced or deleted): idle ones are dropped now (a
    /// process instance's process ends with it), running ones when their invocation ends.
    func retireAll() {
        let dropped = state.withLock { s -> [FunctionInstance] in
            let idle = (s.onDemandAvailable + s.provisionedAvailable).filter { $0.inFlight == 0 }
            for instance in s.onDemandAvailable + s.provisionedAvailable { instance.retired = true }
            s.onDemandAvailable = []
            s.provisionedAvailable = []
            s.provisionedTarget = 0
            s.instances -= idle.count
            s.provisionedInstances -= idle.filter(\.provisioned).count
            return idle
        }
        if !dropped.isEmpty { metrics.instances(snapshot.instances) }
    }

    private static func remove(_ instance: FunctionInstance, from s: inout State) {
        if let i = s.onDemandAvailable.firstIndex(where: { $0 === instance }) { s.onDemandAvailable.remove(at: i) }
        if let i = s.provisionedAvailable.firstIndex(where: { $0 === instance }) {
            s.provisionedAvailable.remove(at: i)
        }
    }

    /// Average busy slots (all, and on provisioned instances) since the previous sample; resets the integral.
    public func sample(
        now: UInt64 = DispatchTime.now().uptimeNanoseconds
    ) -> (concurrency: Double, provisionedConcurrency: Double) {
        state.withLock { s in
            Self.account(&s, now: now)
            let span = Double(max(now, s.lastSample + 1) - s.lastSample)
            let result = (s.busyIntegral / span, s.provisionedBusyIntegral / span)
            s.busyIntegral = 0
            s.provisionedBusyIntegral = 0
            s.lastSample = now
            return result
        }
    }

    /// Moves the pool towards `desired` instances: starts background initialisations when short, reclaims idle
    /// on-demand instances (least recently used first) when over. Running and provisioned instances stay.
    /// Returns how many initialisations were started and how many instances were reclaimed.
    @discardableResult
    public func scale(to desired: Int) -> (started: Int, reclaimed: Int) {
        let (start, reclaimed, count) = state.withLock { s -> (Int, Int, Int) in
            let total = s.instances + s.initializing
            if total < desired {
                let n = desired - total
                s.initializing += n
                return (n, 0, s.instances)
            }
            var reclaimed = 0
            while s.instances > desired, let index = s.onDemandAvailable.firstIndex(where: { $0.inFlight == 0 }) {
                let instance = s.onDemandAvailable.remove(at: index)
                instance.retired = true
                s.instances -= 1
                reclaimed += 1
            }
            return (0, reclaimed, s.instances)
        }
        if start > 0 {
            for _ in 0..<start { Task { await self.warm(provisioned: false) } }
        } else if reclaimed > 0 {
            metrics.instances(count)
        }
        return (start, reclaimed)
    }

    /// Keeps `count` instances provisioned: idle on-demand instances are promoted first, the rest initialised
    /// now (awaited, so a server starts with its provisioned instances ready). Lowering it demotes instances to
    /// on-demand, which the autoscaler may then reclaim.
    public func setProvisioned(_ count: Int) async throws {
        let toCreate = state.withLock { s -> Int in
            s.provisionedTarget = count
            while s.provisionedInstances > count {
                // Only idle instances change kind here; running ones are demoted when they come back.
                guard let instance = s.provisionedAvailable.first(where: { $0.inFlight == 0 }) else { break }
                Self.remove(instance, from: &s)
                instance.provisioned = false
                s.provisionedInstances -= 1
                s.onDemandAvailable.insert(instance, at: 0)
            }
            while s.provisionedInstances < count, let index = s.onDemandAvailable.lastIndex(where: { $0.inFlight == 0 })
            {
                let instance = s.onDemandAvailable.remove(at: index)
                instance.provisioned = true
                s.provisionedInstances += 1
                s.provisionedAvailable.append(instance)
            }
            let missing = max(0, count - s.provisionedInstances)
            s.initializing += missing
            return missing
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<toCreate { group.addTask { try await self.warmOrThrow(provisioned: true) } }
            try await group.waitForAll()
        }
    }

    /// Initialises instances until there are at least `count`, waiting for them; an initialiser's error is thrown.
    public func prewarm(_ count: Int) async throws {
        let n = state.withLock { s -> Int in
            let n = max(0, count - s.instances - s.initializing)
            s.initializing += n
            return n
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<n { group.addTask { try await self.warmOrThrow(provisioned: false) } }
            try await group.waitForAll()
        }
    }

    /// Creates one instance ahead of demand; the caller has counted it in `initializing`.
    func warm(provisioned: Bool) async {
        do {
            try await warmOrThrow(provisioned: provisioned)
        } catch {
            logger.error("instance initialisation failed: \(String(describing: error))")
        }
    }

    /// Runs the plugin's initialiser once (counted in `initializing` by the caller) and records `InitDuration`.
    /// Returns the handler, when it finished and how long it took; a failure is counted and uncounts the slot.
    private func initialise() async throws -> (started: Started, ended: UInt64, nanoseconds: Int64) {
        let began = DispatchTime.now().uptimeNanoseconds
        do {
            let started = try await factory()
            let ended = DispatchTime.now().uptimeNanoseconds
            metrics.initDuration(Int64(ended - began))
            return (started, ended, Int64(ended - began))
        } catch {
            state.withLock {
                $0.initializing -= 1
                $0.initFailures += 1
            }
            throw error
        }
    }

    private func warmOrThrow(provisioned: Bool) async throws {
        let (started, _, _) = try await initialise()
        let count = state.withLock { s -> Int in
            s.initializing -= 1
            // A provisioned slot may have been filled or dropped while this one initialised.
            let asProvisioned = provisioned && s.provisionedInstances < s.provisionedTarget
            let instance = FunctionInstance(id: s.nextID, provisioned: asProvisioned, started: started)
            s.nextID += 1
            s.instances += 1
            if asProvisioned {
                s.provisionedInstances += 1
                s.provisionedAvailable.append(instance)
            } else {
                // Warm instances go to the bottom: the busy ones stay on top, idle ones are reclaimed first.
                s.onDemandAvailable.insert(instance, at: 0)
            }
            return s.instances
        }
        metrics.instances(count)
    }
}
