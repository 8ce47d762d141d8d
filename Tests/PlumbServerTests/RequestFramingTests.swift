import Testing

@testable import PlumbServer

/// The guard's view of request framing: where heads and bodies end, whatever the packet boundaries.
@Suite struct RequestFramingTests {
    typealias Event = RequestFraming.Event

    /// Feeds `stream` in pieces of `chunk` bytes and collects every event.
    static func frame(
        _ stream: String, chunk: Int = .max, maxHeadBytes: Int = 65_536, maxHeaderFields: Int = 1_000
    )
        -> (events: [Event], phase: RequestFraming.Phase)
    {
        var framing = RequestFraming(maxHeadBytes: maxHeadBytes, maxHeaderFields: maxHeaderFields)
        let bytes = Array(stream.utf8)
        var events: [Event] = []
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + chunk)
            events += bytes[offset..<end].withUnsafeBytes { framing.consume($0) }
            offset = end
        }
        return (events, framing.phase)
    }

    static let pipelined =
        "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
        + "POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello world"
        + "\r\n"  // a stray empty line between requests (RFC 9112 §2.2)
        + "POST /c HTTP/1.1\r\ntransfer-encoding: gzip, Chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: t\r\n\r\n"
        + "GET /d HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"

    static let pipelinedEvents: [Event] = [
        .headStarted, .headEnded(upgrade: false), .requestEnded,
        .headStarted, .headEnded(upgrade: false), .requestEnded,
        .headStarted, .headEnded(upgrade: false), .requestEnded,
        .headStarted, .headEnded(upgrade: true), .requestEnded,
    ]

    @Test(arguments: [1, 2, 3, 7, 64, Int.max])
    func pipelinedRequestsInAnyPieces(chunk: Int) {
        let (events, phase) = Self.frame(Self.pipelined, chunk: chunk)
        #expect(events == Self.pipelinedEvents)
        #expect(phase == .awaitingUpgrade)
    }

    @Test func bodyPhaseUntilTheLastByte() {
        let (events, phase) = Self.frame("PUT / HTTP/1.1\r\nContent-Length: 10\r\n\r\n123456789")
        #expect(events == [.headStarted, .headEnded(upgrade: false)])
        #expect(phase == .body)
        let (headOnly, headPhase) = Self.frame("GET / HTTP/1.1\r\nHost: x\r\n")
        #expect(headOnly == [.headStarted])
        #expect(headPhase == .head)
        let (chunked, chunkedPhase) = Self.frame(
            "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n")
        #expect(chunked == [.headStarted, .headEnded(upgrade: false)])
        #expect(chunkedPhase == .body)  // the trailer section's empty line has not come
    }

    @Test func headLimits() {
        let big = "GET / HTTP/1.1\r\nX-Big: " + String(repeating: "a", count: 2_000) + "\r\n\r\n"
        #expect(Self.frame(big, chunk: 100, maxHeadBytes: 1_024).events == [.headStarted, .headTooLarge])
        #expect(
            Self.frame(big, maxHeadBytes: 4_096).events == [.headStarted, .headEnded(upgrade: false), .requestEnded])
        let many = "GET / HTTP/1.1\r\n" + String(repeating: "A: b\r\n", count: 11) + "\r\n"
        #expect(Self.frame(many, maxHeaderFields: 10).events == [.headStarted, .headTooLarge])
        #expect(Self.frame(many, maxHeaderFields: 11).events.last == .requestEnded)
    }

    @Test(arguments: [
        "GET / HTTP/1.1\r\nno colon here\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: 12x\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX",
    ])
    func malformedFraming(_ stream: String) {
        let (events, phase) = Self.frame(stream)
        #expect(events.last == .malformed)
        #expect(phase == .opaque)
    }

    @Test func repeatedEqualContentLengthsAreOneLength() {
        let (events, phase) = Self.frame("POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc")
        #expect(events.last == .requestEnded)
        #expect(phase == .betweenRequests)
    }

    @Test func upgradeAnswers() {
        var framing = RequestFraming(maxHeadBytes: 65_536, maxHeaderFields: 1_000)
        let head = Array("GET /ws HTTP/1.1\r\nUpgrade: websocket\r\n\r\n".utf8)
        _ = head.withUnsafeBytes { framing.consume($0) }
        #expect(framing.phase == .awaitingUpgrade)
        framing.upgradeAnswered(switched: false)
        #expect(framing.phase == .betweenRequests)
        _ = head.withUnsafeBytes { framing.consume($0) }
        framing.upgradeAnswered(switched: true)
        #expect(framing.phase == .opaque)
        // WebSocket frames after the switch are not requests.
        #expect([UInt8]([0x81, 0x85, 1, 2, 3, 4]).withUnsafeBytes { framing.consume($0) }.isEmpty)
    }

    @Test func addressRanges() throws {
        let loopback = try #require(AddressRange("127.0.0.0/8"))
        #expect(loopback.contains("127.0.0.1"))
        #expect(loopback.contains("127.255.0.9"))
        #expect(loopback.contains("::ffff:127.0.0.2"))
        #expect(!loopback.contains("128.0.0.1"))
        #expect(!loopback.contains("::1"))
        let six = try #require(AddressRange("fd00::/8"))
        #expect(six.contains("fd12::1"))
        #expect(!six.contains("fe80::1"))
        #expect(try #require(AddressRange("10.1.2.3")).contains("10.1.2.3"))
        #expect(try !#require(AddressRange("10.1.2.3")).contains("10.1.2.4"))
        #expect(AddressRange("10.0.0.0/33") == nil)
        #expect(AddressRange("localhost") == nil)
    }
}
