import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import Metrics
import NIOCore
import NIOWebSocket
import PlumbAPI
import PlumbHost
import PlumbKit
import Synchronization

/// API Gateway's WebSocket API for the plugins: upgrades `GET /apps/<plugin><path>` where a plugin declares WebSocket
/// routes, and turns the connection's life into invocations through the host's pipeline.
///
/// - `$connect` runs first, with the query string and headers; if it fails the client gets an error frame and a close
///   (1008 for a 4xx, 1013 for a throttle, 1011 for a 5xx).
/// - Each text frame is one invocation: the route whose name equals the frame's JSON `action`, else `$default`. A
///   non-empty response body goes back to the sender; an error becomes `{"type": "error", "code", "message"}`.
/// - Binary frames close the connection with 1003; frames over `maxFrameBytes` with 1009 (the protocol layer).
/// - `$disconnect` runs after the connection has gone, whatever the reason.
/// - Sends never wait: frames go into the connection's channel through a per-event-loop outbox; a client that does not
///   read fills only its own outbound buffer and is closed with 1008 when that passes `sendBufferBytes`, so a
///   broadcast never waits for it.
/// - Ping/pong every `pingInterval`; a connection that sends no frame for `idleTimeout` is closed with 1001.
final class WebSocketGateway: Sendable {
    struct Settings: Sendable {
        var maxFrameBytes = 32 * 1_024
        var sendBufferBytes = 1_048_576
        var idleTimeout: Duration = .seconds(600)
        var pingInterval: Duration = .seconds(30)
    }

    struct Endpoint: Sendable {
        let plugin: String
        let path: String
        let connect: HostedFunction?
        let disconnect: HostedFunction?
        let fallback: HostedFunction?
        let actions: [String: HostedFunction]
    }

    let host: PluginHost
    let settings: Settings
    let endpoints: [String: Endpoint]
    let logger: Logger
    private let counter = Atomic<UInt64>(0)
    private let prefix = String(UInt32.random(in: 0...UInt32.max), radix: 36)
    let connectionsGauge: Gauge
    let framesIn: Counter
    let framesOut: Counter
    let slowConsumers: Counter

    init(host: PluginHost, settings: Settings, logger: Logger = Logger(label: "plumb.websocket")) {
        self.host = host
        self.settings = settings
        self.logger = logger
        var byPath: [String: (plugin: String, functions: [(route: String, function: HostedFunction)])] = [:]
        for f in host.functions {
            guard case .webSocket(let path, let route) = f.trigger else { continue }
            let full = "/apps/\(f.pluginName)\(path)"
            byPath[full, default: (f.pluginName, [])].functions.append((route, f))
        }
        var endpoints: [String: Endpoint] = [:]
        for (path, entry) in byPath {
            var actions: [String: HostedFunction] = [:]
            for (route, f) in entry.functions where !route.hasPrefix("$") { actions[route] = f }
            func named(_ route: String) -> HostedFunction? { entry.functions.first { $0.route == route }?.function }
            endpoints[path] = Endpoint(
                plugin: entry.plugin, path: path, connect: named("$connect"), disconnect: named("$disconnect"),
                fallback: named("$default"), actions: actions)
        }
        self.endpoints = endpoints
        connectionsGauge = Gauge(label: "Plumb/WebSocket/Connections")
        framesIn = Counter(label: "Plumb/WebSocket/FramesReceived")
        framesOut = Counter(label: "Plumb/WebSocket/FramesSent")
        slowConsumers = Counter(label: "Plumb/WebSocket/SlowConsumersClosed")
    }

    /// Open connections (the host's registry is the one list of them).
    var count: Int { host.connections.count }

    private let outboxes = Mutex<[ObjectIdentifier: EventLoopOutbox]>([:])

    /// The outbox of an event loop, made on first use.
    func outbox(for eventLoop: any EventLoop) -> EventLoopOutbox {
        outboxes.withLock { o in
            let key = ObjectIdentifier(eventLoop as AnyObject)
            if let existing = o[key] { return existing }
            let made = EventLoopOutbox(eventLoop: eventLoop)
            o[key] = made
            return made
        }
    }

    /// The upgrade decision for the HTTP server: WebSocket endpoints upgrade, everything else stays HTTP.
    func shouldUpgrade(
        _ head: HTTPRequest, channel: any Channel
    ) -> ShouldUpgradeResult<WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>> {
        let target = head.path ?? "/"
        let path = target.split(separator: "?", maxSplits: 1).first.map(String.init) ?? target
        guard head.method == .get, let endpoint = endpoints[path] else { return .dontUpgrade }
        let uri = URI(target)
        let parsedQuery = FormQuery.parse(uri.query)
        var parsedHeaders: [String: String] = [:]
        for field in head.headerFields { parsedHeaders[field.name.canonicalName] = field.value }
        let query = parsedQuery
        let headers = parsedHeaders
        return .upgrade([:]) { inbound, outbound, _ in
            try await self.serve(
                endpoint, query: query, headers: headers, inbound: inbound, outbound: outbound, channel: channel)
        }
    }

    private func newID() -> String {
        let n = counter.wrappingAdd(1, ordering: .relaxed).newValue
        return prefix + "-" + String(n, radix: 36) + String(UInt16.random(in: 0...UInt16.max), radix: 36)
    }

    private func request(
        _ endpoint: Endpoint, _ id: String, query: [String: String], headers: [String: String], body: [UInt8]
    ) -> FunctionRequest {
        FunctionRequest(
            method: .post, path: endpoint.path, query: query, headers: headers, body: body, connectionID: id)
    }

    /// The frame a client gets for an error: `{"code": "…", "message": "…", "type": "error"}`.
    struct ErrorFrame: Encodable {
        var code: String
        var message: String
        var type = "error"
    }

    /// The one field of a client's frame the gateway routes on.
    struct ActionFrame: Decodable {
        var action: String?
    }

    static let frameEncoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()

    static func errorFrame(code: String, message: String) -> String {
        let data = (try? frameEncoder.encode(ErrorFrame(code: code, message: message))) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    static func errorFrame(_ error: FunctionError) -> String { errorFrame(code: error.code, message: error.message) }

    /// Runs one connection: `$connect`, the frames, `$disconnect`. An error of the protocol layer (a text frame that
    /// is not UTF-8, say) is thrown on after `$disconnect`, so that layer closes with its own code (1007).
    private func serve(
        _ endpoint: Endpoint, query: [String: String], headers: [String: String],
        inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, channel: any Channel
    ) async throws {
        let id = newID()
        let connection = WebSocketConnection(id: id, limit: settings.sendBufferBytes, channel: channel, gateway: self)
        connection.outbound = outbound
        host.connections.register(id, plugin: endpoint.plugin, sink: connection)
        // While members come and go, "slow consumers closed" is a 0, not "no data".
        slowConsumers.increment(by: 0)
        connectionsGauge.record(count)
        defer {
            host.connections.remove(id)
            connectionsGauge.record(count)
        }
        var accepted = true
        var ended: (any Error)?
        connect: if let connect = endpoint.connect {
            do {
                let response = try await host.invoke(
                    connect, request(endpoint, id, query: query, headers: headers, body: []))
                if response.status >= 400 {
                    let message = String(decoding: response.body.prefix(500), as: UTF8.self)
                    connection.send(Self.errorFrame(code: "ConnectRefused", message: message))
                    await connection.closeAndWait(
                        code: response.status == 429 ? 1013 : response.status >= 500 ? 1011 : 1008,
                        reason: "connect refused")
                    accepted = false
                    break connect
                }
                if !response.body.isEmpty { connection.send(String(decoding: response.body, as: UTF8.self)) }
            } catch {
                let e =
                    error as? FunctionError ?? FunctionError(status: 500, code: "ServiceException", message: "\(error)")
                connection.send(Self.errorFrame(e))
                await connection.closeAndWait(
                    code: e.status == 429 ? 1013 : e.status >= 500 ? 1011 : 1008, reason: String(e.message.prefix(100)))
                accepted = false
                break connect
            }
            ended = await receive(
                endpoint, id, query: query, headers: headers, inbound: inbound, connection: connection)
        }
        if endpoint.connect == nil {
            ended = await receive(
                endpoint, id, query: query, headers: headers, inbound: inbound, connection: connection)
        }
        connection.finish()
        // $disconnect follows an accepted $connect only, as with API Gateway.
        if accepted, let disconnect = endpoint.disconnect {
            do {
                _ = try await host.invoke(disconnect, request(endpoint, id, query: query, headers: headers, body: []))
            } catch {
                logger.warning("$disconnect failed", metadata: ["connection": "\(id)", "error": "\(error)"])
            }
        }
        if let ended { throw ended }
    }

    /// Hands each frame to its function until the client goes; returns the protocol layer's error, if it ended one.
    private func receive(
        _ endpoint: Endpoint, _ id: String, query: [String: String], headers: [String: String],
        inbound: WebSocketInboundStream, connection: WebSocketConnection
    ) async -> (any Error)? {
        do {
            for try await message in inbound.messages(maxSize: settings.maxFrameBytes) {
                connection.touch()
                framesIn.increment()
                switch message {
                case .binary:
                    await connection.closeAndWait(code: 1003, reason: "binary frames are not supported; send JSON text")
                    return nil
                case .text(let text):
                    let function = Self.action(of: text).flatMap { endpoint.actions[$0] } ?? endpoint.fallback
                    guard let function else {
                        let known = endpoint.actions.keys.sorted().joined(separator: ", ")
                        connection.send(
                            Self.errorFrame(
                                code: "UnknownAction", message: "no route for this frame; actions: \(known)"))
                        continue
                    }
                    do {
                        let response = try await host.invoke(
                            function, request(endpoint, id, query: query, headers: headers, body: Array(text.utf8)))
                        if !response.body.isEmpty { connection.send(String(decoding: response.body, as: UTF8.self)) }
                    } catch let error as FunctionError {
                        connection.send(Self.errorFrame(error))
                    }
                }
            }
        } catch {
            // The protocol layer closes with its own code (1007 not UTF-8, 1009 too big, 1002 protocol error).
            logger.debug("connection ended: \(error)", metadata: ["connection": "\(id)"])
            return error
        }
        return nil
    }

    /// The frame's JSON `action`, if it is a JSON object with one; cheap enough to run on every frame.
    static func action(of text: String) -> String? {
        guard text.utf8.first == UInt8(ascii: "{"), text.contains("\"action\"") else { return nil }
        return (try? JSONDecoder().decode(ActionFrame.self, from: Data(text.utf8)))?.action
    }

    /// Tells every member the server is going away (1001, RFC 6455) and waits for the close frames to be sent.
    func closeAll(reason: String) async {
        await withTaskGroup(of: Void.self) { group in
            for connection in host.connections.sinks.compactMap({ $0 as? WebSocketConnection }) {
                group.addTask { await connection.closeAndWait(code: 1001, reason: reason) }
            }
        }
    }

    /// Closes connections that have sent nothing for the idle timeout; runs until cancelled.
    func sweepIdle() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1))
            let now = ContinuousClock.now
            let idle = host.connections.sinks.compactMap { $0 as? WebSocketConnection }.filter {
                now - $0.lastActivity > settings.idleTimeout
            }
            for connection in idle { connection.close(code: 1001, reason: "idle for \(settings.idleTimeout)") }
        }
    }
}

/// Frames waiting for one event loop: a broadcast to a thousand members becomes one task on each event loop that
/// writes every frame (encoding a shared text once) and flushes each channel once, instead of a task per frame.
final class EventLoopOutbox: @unchecked Sendable {
    // @unchecked: `state` is a Mutex; `flushList` is only touched on `eventLoop`.
    let eventLoop: any EventLoop
    private let state = Mutex<(items: [(WebSocketConnection, String)], scheduled: Bool)>(([], false))
    private var flushList: [WebSocketConnection] = []

    init(eventLoop: any EventLoop) { self.eventLoop = eventLoop }

    func append(_ connection: WebSocketConnection, _ text: String) {
        let schedule = state.withLock { s -> Bool in
            s.items.append((connection, text))
            if s.scheduled { return false }
            s.scheduled = true
            return true
        }
        if schedule { eventLoop.execute { self.drain() } }
    }

    /// On the event loop.
    private func drain() {
        let items = state.withLock { s -> [(WebSocketConnection, String)] in
            s.scheduled = false
            defer { s.items.removeAll(keepingCapacity: true) }
            return s.items
        }
        var lastText = ""
        var lastBuffer: ByteBuffer?
        for (connection, text) in items where connection.isOpenForData {
            let buffer: ByteBuffer
            if let lastBuffer, text == lastText {
                buffer = lastBuffer
            } else {
                buffer = connection.channel.allocator.buffer(string: text)
                lastBuffer = buffer
                lastText = text
            }
            connection.channel.write(WebSocketFrame(fin: true, opcode: .text, data: buffer), promise: nil)
            if !connection.needsFlush {
                connection.needsFlush = true
                flushList.append(connection)
            }
        }
        for connection in flushList {
            connection.needsFlush = false
            connection.channel.flush()
            connection.checkBuffered()
        }
        flushList.removeAll(keepingCapacity: true)
        if let gateway = items.first?.0.gateway { gateway.framesOut.increment(by: items.count) }
    }
}

/// One connection's send side. Data frames go through its event loop's `EventLoopOutbox` straight into the channel;
/// NIO's outbound buffer is the send queue, and a connection whose buffer passes the limit is closed as a slow
/// consumer. Closes go through the protocol layer's writer so its close handshake stays right.
final class WebSocketConnection: ConnectionSink, @unchecked Sendable {
    // @unchecked: `lastSeen` is a Mutex; `needsFlush` is only touched on the channel's event loop; `outbound` is set
    // once before the connection is used.

    let id: String
    let limit: Int
    let channel: any Channel
    unowned let gateway: WebSocketGateway
    let outbox: EventLoopOutbox
    var outbound: WebSocketOutboundWriter?
    var needsFlush = false
    /// When the client last sent a frame (the idle timeout).
    private let lastSeen = Mutex(ContinuousClock.now)
    private let open = Atomic<Bool>(true)
    private let slow = Atomic<Bool>(false)

    init(id: String, limit: Int, channel: any Channel, gateway: WebSocketGateway) {
        self.id = id
        self.limit = limit
        self.channel = channel
        self.gateway = gateway
        outbox = gateway.outbox(for: channel.eventLoop)
    }

    var lastActivity: ContinuousClock.Instant { lastSeen.withLock { $0 } }

    func touch() { lastSeen.withLock { $0 = .now } }

    var isOpenForData: Bool { open.load(ordering: .relaxed) }

    @discardableResult
    func send(_ text: String) -> PostResult { enqueue(text) }

    func enqueue(_ text: String) -> PostResult {
        guard open.load(ordering: .relaxed) else { return slow.load(ordering: .relaxed) ? .overflowed : .gone }
        outbox.append(self, text)
        return .queued
    }

    /// On the event loop, after a flush: more than `limit` bytes waiting means the client is not reading.
    func checkBuffered() {
        guard let buffered = try? channel.syncOptions?.getOption(.bufferedWritableBytes), buffered > limit else {
            return
        }
        guard open.exchange(false, ordering: .relaxed) else { return }
        slow.store(true, ordering: .relaxed)
        gateway.slowConsumers.increment()
        gateway.logger.warning(
            "closing a slow consumer",
            metadata: ["connection": "\(id)", "buffered_bytes": "\(buffered)", "limit_bytes": "\(limit)"])
        forceClose(code: 1008, reason: "slow consumer")
    }

    /// Ends data frames and sends a close frame after those already queued (the outbox runs first on the loop).
    func close(code: Int, reason: String) {
        guard open.exchange(false, ordering: .relaxed) else { return }
        Task { await self.sendClose(code: code, reason: reason) }
    }

    func closeAndWait(code: Int, reason: String) async {
        guard open.exchange(false, ordering: .relaxed) else { return }
        await sendClose(code: code, reason: reason)
    }

    private func sendClose(code: Int, reason: String) async {
        // Let frames already handed to the outbox reach the channel first.
        try? await channel.eventLoop.submit {}.get()
        try? await outbound?.close(WebSocketErrorCode(codeNumber: code), reason: reason)
    }

    /// The inbound side has ended.
    func finish() {
        open.store(false, ordering: .relaxed)
    }

    /// A consumer that does not read cannot take a close frame through the protocol writer (it waits for the socket
    /// to drain): the close frame goes straight into the channel behind what is already there, and the socket is
    /// closed once the frame has reached the kernel — the client reads the close code after the data it had not
    /// read — or after 10 s if it never gets there.
    private func forceClose(code: Int, reason: String) {
        let channel = self.channel
        var data = channel.allocator.buffer(capacity: 2 + reason.utf8.count)
        data.write(webSocketErrorCode: WebSocketErrorCode(codeNumber: code))
        data.writeString(reason)
        let frame = WebSocketFrame(fin: true, opcode: .connectionClose, data: data)
        let deadline = channel.eventLoop.scheduleTask(in: .seconds(10)) { channel.close(promise: nil) }
        channel.writeAndFlush(frame).whenComplete { _ in
            deadline.cancel()
            channel.close(promise: nil)
        }
    }
}
