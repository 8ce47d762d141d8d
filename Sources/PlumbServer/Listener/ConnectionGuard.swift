import Metrics
import NIOCore
import NIOTLS

/// Puts deadlines on every phase of an HTTP/1.1 connection and answers what NIO's HTTP parser cannot.
///
/// It sits first in the pipeline (after TLS), on raw bytes, so it sees a request before anything else does:
/// - the head must arrive within `header_timeout` (counted from the connection's opening for the first request, from
///   its first byte for later ones), or the client gets 408;
/// - the body within `body_timeout` of the head's end, or 408;
/// - between requests, with every response written, a connection waits `idle_timeout` and is closed silently;
/// - a head over `max_head_bytes` (or 1,000 fields) gets 431, where NIO's parser used to fail without an answer.
///
/// A head that arrives in pieces is held here until it is complete (or another request ends in the same read), so a
/// client trickling its head costs a buffer append per read, not a run of NIO's HTTP parser and the handlers behind
/// it; a head that arrives in one read, the usual case, is passed on at once without a copy. The HTTP handlers
/// themselves are only added (`startHTTP`) when the first head is complete: a connection that never sends one costs
/// this handler and a timer, and closes as cheaply.
///
/// After an answer it stops passing bytes on, half-closes and drains the input for a moment before closing (a
/// lingering close, as Apache and nginx do), so the client reads the answer instead of a reset. A 408 is only written
/// when no response is under way on the connection; otherwise the connection is just closed. WebSocket upgrades (101)
/// and HTTP/2 connections (ALPN `h2`) leave its care: they have their own pings and idle timeouts.
final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    /// The `http:` settings as the guard uses them.
    struct Limits: Sendable {
        var headerTimeout: TimeAmount
        var bodyTimeout: TimeAmount
        var idleTimeout: TimeAmount
        var maxHeadBytes: Int
        var maxHeaderFields: Int
        /// How long the input is drained after an answer before the connection is closed.
        var linger: TimeAmount = .seconds(2)

        init(_ settings: ServerConfig.HTTPSettings) {
            headerTimeout = .nanoseconds(Int64(settings.headerTimeout * 1e9))
            bodyTimeout = .nanoseconds(Int64(settings.bodyTimeout * 1e9))
            idleTimeout = .nanoseconds(Int64(settings.idleTimeout * 1e9))
            maxHeadBytes = settings.maxHeadBytes
            maxHeaderFields = ServerConfig.HTTPSettings.maxHeaderFields
        }
    }

    /// Why the guard closed a connection: the `Reason` dimension of `Plumb/HTTP/ConnectionsClosed`.
    enum Reason: String {
        case headerTimeout = "header_timeout"
        case bodyTimeout = "body_timeout"
        case idleTimeout = "idle_timeout"
        case headTooLarge = "head_too_large"
        case malformed
    }

    private let limits: Limits
    private var framing: RequestFraming
    private var context: ChannelHandlerContext?
    private var openedAt = NIODeadline.now()
    private var headStartedAt = NIODeadline.now()
    private var headEndedAt = NIODeadline.now()
    private var lastResponseEndedAt: NIODeadline?
    private var requestsSeen = 0
    /// Requests whose head was read and whose response has not ended.
    private var unanswered = 0
    /// A response head was written and its end not yet.
    private var responding = false
    /// Switched protocols or HTTP/2: no more HTTP/1.1 framing here.
    private var passthrough = false
    /// Answered (or closing): input is drained, output refused.
    private var closing = false
    /// The bytes of an incomplete head, not yet passed on.
    private var heldHead: ByteBuffer?
    /// Whether anything was passed on since the last `channelReadComplete`.
    private var passedOn = false
    /// Adds the HTTP handlers behind this one; called once, when the first head is complete.
    private var startHTTP: ((any Channel) -> EventLoopFuture<Void>)?
    /// Told when the connection ends before `startHTTP` was called.
    private var abandoned: (() -> Void)?
    /// `startHTTP` was called and its future has not completed: reads queue in `heldHead`.
    private var starting = false
    private var timer: Scheduled<Void>?
    private var timerDeadline: NIODeadline?

    init(limits: Limits, startHTTP: @escaping (any Channel) -> EventLoopFuture<Void>, abandoned: @escaping () -> Void) {
        self.limits = limits
        self.framing = RequestFraming(maxHeadBytes: limits.maxHeadBytes, maxHeaderFields: limits.maxHeaderFields)
        self.startHTTP = startHTTP
        self.abandoned = abandoned
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        openedAt = .now()
        rearm()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelTimer()
        abandon()
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelTimer()
        abandon()
        context.fireChannelInactive()
    }

    private func abandon() {
        if startHTTP != nil, let abandoned {
            startHTTP = nil
            abandoned()
        }
        abandoned = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if closing { return }
        if passthrough {
            passedOn = true
            return context.fireChannelRead(data)
        }
        var buffer = unwrapInboundIn(data)
        let events = buffer.withUnsafeReadableBytes { framing.consume($0) }
        let now = NIODeadline.now()
        for event in events {
            switch event {
            case .headStarted:
                headStartedAt = requestsSeen == 0 ? openedAt : now
            case .headEnded:
                requestsSeen += 1
                unanswered += 1
                headEndedAt = now
            case .requestEnded:
                break
            case .headTooLarge:
                return answer(unanswered == 0 ? .headTooLarge(limit: limits.maxHeadBytes) : nil, reason: .headTooLarge)
            case .malformed:
                return answer(unanswered <= 1 && !responding ? .badRequest : nil, reason: .malformed)
            }
        }
        let firstHeadComplete = events.contains { if case .headEnded = $0 { true } else { false } }
        if starting || (startHTTP != nil && !firstHeadComplete)
            || (framing.phase == .head && events.allSatisfy({ $0 == .headStarted }))
        {
            // Only (the start of) an incomplete head, or nothing to pass it to yet: hold it.
            hold(&buffer)
        } else if let start = startHTTP {
            startHTTP = nil
            abandoned = nil
            starting = true
            hold(&buffer)
            start(context.channel).assumeIsolated().whenComplete { [self] result in
                starting = false
                guard case .success = result else { return context.close(promise: nil) }
                guard let held = heldHead else { return }
                heldHead = nil
                context.fireChannelRead(wrapInboundOut(held))
                context.fireChannelReadComplete()
            }
        } else {
            if var held = heldHead {
                heldHead = nil
                held.writeBuffer(&buffer)
                context.fireChannelRead(wrapInboundOut(held))
            } else {
                context.fireChannelRead(data)
            }
            passedOn = true
        }
        rearm()
    }

    private func hold(_ buffer: inout ByteBuffer) {
        if heldHead == nil {
            heldHead = buffer
        } else {
            heldHead!.writeBuffer(&buffer)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if closing {
            context.read()  // keep draining, whatever the back-pressure further in says
        } else if passedOn {
            passedOn = false
            context.fireChannelReadComplete()
        } else {
            // Nothing was passed on: whoever throttles reads further in has no reason to, so ask for more.
            context.read()
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case let channelEvent as ChannelEvent where channelEvent == .inputClosed && closing:
            context.close(promise: nil)
            return
        case let tls as TLSUserEvent:
            if case .handshakeCompleted(let negotiated) = tls, negotiated == "h2" {
                passthrough = true
                rearm()
            }
        case is ChannelShouldQuiesceEvent:
            // Shutting down: a connection between requests, or still sending a head, has nothing to finish. (Before
            // the first request's head no HTTP handler exists yet that would close it.)
            if !passthrough && unanswered == 0 && (framing.phase == .betweenRequests || framing.phase == .head) {
                context.close(promise: nil)
            }
        default:
            break
        }
        context.fireUserInboundEventTriggered(event)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if closing {
            promise?.fail(ChannelError.outputClosed)
            return
        }
        if framing.phase == .awaitingUpgrade, unanswered == 1, case .byteBuffer(let bytes) = unwrapOutboundIn(data) {
            let switched = bytes.readableBytesView.starts(with: "HTTP/1.1 101".utf8)
            framing.upgradeAnswered(switched: switched)
            if switched {
                passthrough = true
                unanswered = 0
                rearm()
            }
        }
        context.write(data, promise: promise)
    }

    // MARK: Responses, as the HTTP handlers further in report them (`ResponseTracker`).

    /// A response head (not an interim 1xx) was written.
    func responseStarted() {
        responding = true
    }

    /// A response's end was written.
    func responseEnded() {
        responding = false
        unanswered = max(0, unanswered - 1)
        lastResponseEndedAt = .now()
        rearm()
    }

    // MARK: Deadlines

    /// The deadline of the phase the connection is in; nil while the server, not the client, is to act.
    private var deadline: NIODeadline? {
        if closing || passthrough { return nil }
        switch framing.phase {
        case .head:
            return headStartedAt + limits.headerTimeout
        case .body:
            return headEndedAt + limits.bodyTimeout
        case .betweenRequests:
            guard unanswered == 0 else { return nil }
            if let lastResponseEndedAt { return lastResponseEndedAt + limits.idleTimeout }
            return openedAt + limits.headerTimeout
        case .awaitingUpgrade, .opaque:
            return nil
        }
    }

    private func rearm() {
        let next = deadline
        guard next != timerDeadline else { return }
        cancelTimer()
        guard let next, let context else { return }
        timerDeadline = next
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: next) { [self] in
            timer = nil
            timerDeadline = nil
            expired()
        }
    }

    private func cancelTimer() {
        timer?.cancel()
        timer = nil
        timerDeadline = nil
    }

    private func expired() {
        guard let context, !closing else { return }
        guard let due = deadline, due <= .now() else { return rearm() }
        switch framing.phase {
        case .head:
            answer(
                unanswered == 0 ? .requestTimeout(phase: "head", seconds: seconds(limits.headerTimeout)) : nil,
                reason: .headerTimeout)
        case .body:
            answer(
                unanswered == 1 && !responding
                    ? .requestTimeout(phase: "body", seconds: seconds(limits.bodyTimeout)) : nil,
                reason: .bodyTimeout)
        case .betweenRequests, .awaitingUpgrade, .opaque:
            Self.count(lastResponseEndedAt == nil ? .headerTimeout : .idleTimeout)
            closing = true
            context.close(promise: nil)
        }
    }

    /// Writes `answer` (if any), half-closes, drains the input for `linger`, then closes.
    private func answer(_ answer: GuardAnswer?, reason: Reason) {
        guard let context else { return }
        Self.count(reason)
        closing = true
        heldHead = nil
        cancelTimer()
        guard let answer else { return context.close(promise: nil) }
        context.writeAndFlush(wrapOutboundOut(.byteBuffer(answer.bytes(allocator: context.channel.allocator))))
            .assumeIsolated().whenComplete { _ in
                context.close(mode: .output).assumeIsolated().whenFailure { _ in context.close(promise: nil) }
            }
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: limits.linger) { context.close(promise: nil) }
        context.read()
    }

    private func seconds(_ amount: TimeAmount) -> Double { Double(amount.nanoseconds) / 1e9 }

    private static func count(_ reason: Reason) {
        Counter(label: "Plumb/HTTP/ConnectionsClosed", dimensions: [("Reason", reason.rawValue)]).increment()
    }
}

@available(*, unavailable)
extension ConnectionGuard: Sendable {}
