import Foundation
import Synchronization

/// The Lambda Runtime API's side of one process instance: the runtime asks for its next invocation (a long poll)
/// and posts that invocation's response or error; the host hands over one invocation at a time and waits for the
/// answer, as Lambda's execution environment does. Framework-free: the server's HTTP routes and the host's
/// instance call it.
///
/// The first `next` means the runtime finished its init (Lambda's Init phase); `/init/error` or the process ending
/// before that is an init failure.
public final class LambdaRuntimeSession: Sendable {
    /// One invocation as the runtime receives it (`/invocation/next`'s body and headers).
    public struct Invocation: Sendable, Equatable {
        public var requestID: String
        public var payload: [UInt8]
        /// Epoch milliseconds (`Lambda-Runtime-Deadline-Ms`).
        public var deadline: Int64
        public var functionARN: String
        public var traceID: String
        public var clientContext: String?
        public var cognitoIdentity: String?

        public init(
            requestID: String, payload: [UInt8], deadline: Int64, functionARN: String, traceID: String,
            clientContext: String? = nil, cognitoIdentity: String? = nil
        ) {
            self.requestID = requestID
            self.payload = payload
            self.deadline = deadline
            self.functionARN = functionARN
            self.traceID = traceID
            self.clientContext = clientContext
            self.cognitoIdentity = cognitoIdentity
        }
    }

    /// What the runtime answered.
    public enum Outcome: Sendable, Equatable {
        case response([UInt8])
        /// `/error`: the body is Lambda's error JSON (`errorMessage`, `errorType`, `stackTrace`); `type` is the
        /// `Lambda-Runtime-Function-Error-Type` header.
        case error(type: String?, body: [UInt8])
    }

    /// Why a session ended, as the host reports it.
    public struct Ended: Error, Sendable, Equatable {
        public var reason: String
        /// `/init/error`'s body, when the runtime reported its init failure itself.
        public var initError: [UInt8]?

        public init(reason: String, initError: [UInt8]? = nil) {
            self.reason = reason
            self.initError = initError
        }
    }

    /// A refusal of a runtime call, with the status the Runtime API answers.
    public struct Refused: Error, Sendable, Equatable {
        public var status: Int
        public var message: String
    }

    enum Phase {
        case initializing
        case idle
        case busy(Invocation)
        case ended(Ended)
    }

    struct State {
        var phase = Phase.initializing
        /// The runtime's `next` waiting for an invocation.
        var next: CheckedContinuation<Invocation?, Never>?
        /// The invocation handed over but not yet taken by a `next`.
        var pending: Invocation?
        /// The host waiting for the first `next` (init done).
        var ready: CheckedContinuation<Void, any Error>?
        var isReady = false
        /// The host waiting for the current invocation's outcome.
        var outcome: CheckedContinuation<Outcome, any Error>?
    }

    /// The unguessable part of the runtime's address (each instance has its own listener; this names the session).
    public let id: String
    private let state = Mutex(State())
    private let runtime = Mutex<Int32?>(nil)

    /// The runtime's process id, once it is started: the Runtime API answers it (and its descendants) only.
    public var runtimePID: Int32? { runtime.withLock { $0 } }

    public func attach(runtimePID pid: Int32) { runtime.withLock { $0 = pid } }

    public init(id: String = UUID().uuidString.lowercased()) {
        self.id = id
    }

    // MARK: The runtime's calls (the HTTP routes)

    /// `GET /2018-06-01/runtime/invocation/next`: waits for the next invocation; nil once the session has ended.
    public func next() async -> Invocation? {
        await withCheckedContinuation { (continuation: CheckedContinuation<Invocation?, Never>) in
            var resume: (() -> Void)?
            state.withLock { s in
                switch s.phase {
                case .ended:
                    resume = { continuation.resume(returning: nil) }
                    return
                case .busy:
                    // A runtime that asks again without answering: the invocation stays open; this call waits.
                    break
                case .initializing, .idle:
                    s.phase = .idle
                }
                if !s.isReady {
                    s.isReady = true
                    if let ready = s.ready {
                        s.ready = nil
                        resume = { ready.resume() }
                    }
                }
                if let pending = s.pending {
                    s.pending = nil
                    s.phase = .busy(pending)
                    let previous = resume
                    resume = {
                        previous?()
                        continuation.resume(returning: pending)
                    }
                } else {
                    if let old = s.next { old.resume(returning: nil) }
                    s.next = continuation
                }
            }
            resume?()
        }
    }

    /// `POST …/invocation/{id}/response`.
    public func respond(requestID: String, body: [UInt8]) throws(Refused) {
        try finish(requestID: requestID, with: .response(body))
    }

    /// `POST …/invocation/{id}/error`.
    public func fail(requestID: String, type: String?, body: [UInt8]) throws(Refused) {
        try finish(requestID: requestID, with: .error(type: type, body: body))
    }

    /// `POST /2018-06-01/runtime/init/error`: the runtime could not start; the session ends.
    public func initError(type: String?, body: [UInt8]) throws(Refused) {
        // After init an init error is not the runtime's to report (Lambda refuses it too): the session goes on.
        if state.withLock({ $0.isReady }) {
            throw Refused(status: 403, message: "the runtime's init is over")
        }
        end(Ended(reason: "the runtime reported an init error (\(type ?? "unknown"))", initError: body))
    }

    private func finish(requestID: String, with outcome: Outcome) throws(Refused) {
        let waiting: CheckedContinuation<Outcome, any Error>? = try state.withLock { s throws(Refused) in
            guard case .busy(let invocation) = s.phase else {
                throw Refused(status: 400, message: "no invocation is in progress")
            }
            guard invocation.requestID == requestID else {
                throw Refused(status: 400, message: "invocation \(requestID) is not the one in progress")
            }
            s.phase = .idle
            defer { s.outcome = nil }
            return s.outcome
        }
        waiting?.resume(returning: outcome)
    }

    // MARK: The host's calls

    /// Waits until the runtime's init is done (its first `next`), or throws why it never will be.
    public func ready() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let result: Result<Void, Ended>? = state.withLock { s in
                if case .ended(let ended) = s.phase { return .failure(ended) }
                if s.isReady { return .success(()) }
                s.ready = continuation
                return nil
            }
            if let result { continuation.resume(with: result) }
        }
    }

    /// Hands `invocation` to the runtime and waits for its answer; throws `Ended` when the session ends first.
    public func invoke(_ invocation: Invocation) async throws -> Outcome {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Outcome, any Error>) in
            var resume: (() -> Void)?
            state.withLock { s in
                switch s.phase {
                case .ended(let ended):
                    resume = { continuation.resume(throwing: ended) }
                    return
                case .busy:
                    resume = {
                        continuation.resume(throwing: Ended(reason: "an invocation is already in progress"))
                    }
                    return
                case .initializing, .idle:
                    guard s.outcome == nil, s.pending == nil else {
                        resume = {
                            continuation.resume(throwing: Ended(reason: "an invocation is already in progress"))
                        }
                        return
                    }
                }
                s.outcome = continuation
                if let next = s.next {
                    s.next = nil
                    s.phase = .busy(invocation)
                    resume = { next.resume(returning: invocation) }
                } else {
                    s.pending = invocation
                }
            }
            resume?()
        }
    }

    /// Ends the session (the process exited or was killed): every wait ends, with `reason`.
    public func end(_ ended: Ended) {
        let waiting = state.withLock { s -> [() -> Void] in
            if case .ended = s.phase { return [] }
            s.phase = .ended(ended)
            var resumes: [() -> Void] = []
            if let next = s.next { resumes.append { next.resume(returning: nil) } }
            if let ready = s.ready { resumes.append { ready.resume(throwing: ended) } }
            if let outcome = s.outcome { resumes.append { outcome.resume(throwing: ended) } }
            s.next = nil
            s.ready = nil
            s.outcome = nil
            s.pending = nil
            return resumes
        }
        for resume in waiting { resume() }
    }

    public var hasEnded: Bool {
        state.withLock { s in
            if case .ended = s.phase { return true }
            return false
        }
    }
}
