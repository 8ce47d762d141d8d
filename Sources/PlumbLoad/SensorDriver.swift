import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// The sensor path: each simulated detector holds one long-lived chunked `POST /apps/sensors/ingest` (a device's
/// stream) and sends a realistic 16-field reading (about 450 bytes) as one chunk every 1/`perDetector` seconds, the
/// detectors' phases spread evenly over the period. The server answers each chunk with an acknowledgement line after
/// its commit; latency is from the reading's intended send time (corrected) and actual write (uncorrected) to the
/// line acknowledging it. A rejected reading or a lost connection is an error; after a lost connection the detector
/// reconnects and carries on (readings it had in flight are not resent).
public enum SensorDriver {
    public struct Options: Sendable {
        public var detectors: [String]
        /// Readings per second per detector (2 ≈ 1 KB/s).
        public var perDetector: Double = 2
        public var path = "/apps/sensors/ingest"
        public init(detectors: [String]) { self.detectors = detectors }
    }

    public static func run(
        _ plan: RunPlan, options: Options, progress: (@Sendable (LoadProgress) -> Void)? = nil
    ) async throws -> RunResult {
        guard !options.detectors.isEmpty else { throw LoadError("no detectors to simulate") }
        guard options.perDetector > 0, options.perDetector <= 1_000 else {
            throw LoadError("readings per detector must be in (0, 1000] per second")
        }
        let clock = RunClock(plan: plan, delay: 0.5)
        let recorders = LoopRecorders(group: Runner.group)
        let wallStart = Int64(Date().timeIntervalSince1970 * 1_000)
        let slots = options.detectors.enumerated().map { i, id in
            SensorSlot(
                index: i, count: options.detectors.count, detector: id, options: options, plan: plan, clock: clock,
                wallStart: wallStart,
                loop: Runner.group.next(), recorders: recorders)
        }
        // Connect in waves so thousands of detectors do not overflow the server's accept backlog.
        for (i, slot) in slots.enumerated() {
            slot.loop.execute { slot.connect() }
            if i % 256 == 255 { try await Task.sleep(for: .milliseconds(20)) }
        }
        let (stats, seconds) = try await Runner.run(
            plan: plan, clock: clock, recorders: recorders, finished: { slots.allSatisfy { $0.isFinished } },
            progress: progress,
            abandon: {
                var open = 0
                for slot in slots { open += (try? await slot.loop.submit { slot.abandon() }.get()) ?? 0 }
                return open
            })
        return RunResult(stats: stats, seconds: seconds, connections: options.detectors.count)
    }

    /// One reading of `detector`: the 16 fields the detectors send, values drawn around plausible levels.
    static func reading(detector: String, timestamp: Int64, index: Int, rng: inout SplitMix64) -> String {
        var out: [UInt8] = []
        appendReading(&out, detector: Array(detector.utf8), timestamp: timestamp, index: index, rng: &rng)
        return String(decoding: out, as: UTF8.self)
    }

    /// The same reading written as bytes (the generator's hot path: no strings, no formatter).
    static func appendReading(
        _ out: inout [UInt8], detector: [UInt8], timestamp: Int64, index: Int, rng: inout SplitMix64
    ) {
        func gauss() -> Double {
            // Irwin–Hall: the sum of 4 uniforms, centred and scaled to unit variance.
            var sum = 0.0
            for _ in 0..<4 { sum += Double(rng.next() >> 11) / Double(1 << 53) }
            return (sum - 2) * 1.7320508
        }
        let rate = max(0, 1.2 + gauss() * 0.1)
        let events = max(0, Int(rate * 60 + gauss() * 3))
        out.reserveCapacity(out.count + 480)
        out += key0
        out += detector
        out += key1
        appendInt(&out, Int(timestamp))
        out += key2
        appendInt(&out, events)
        out += key3
        appendInt(&out, events / 5)
        out += key4
        appendFixed(&out, rate, 4)
        out += key5
        appendFixed(&out, 18 + 4 * sin(Double(index) / 600) + gauss() * 0.2, 3)
        out += key6
        appendFixed(&out, 1013 + gauss() * 2, 2)
        out += key7
        appendFixed(&out, 45 + gauss() * 5, 2)
        out += key8
        appendFixed(&out, 29.4 + gauss() * 0.02, 4)
        out += key9
        appendFixed(&out, 1.1 + gauss() * 0.05, 4)
        out += key10
        appendFixed(&out, abs(0.3 + gauss() * 0.05), 4)
        out += key11
        appendInt(&out, 800 + Int(gauss() * 40))
        out += key12
        appendInt(&out, 5100 + Int(gauss() * 200))
        out += key13
        appendFixed(&out, 3.9 - Double(index) * 1e-6, 5)
        out += key14
        appendInt(&out, -70 + Int(gauss() * 3))
        out += key15
    }

    static let key0 = Array("{\"detector\":\"".utf8), key1 = Array("\",\"timestamp\":".utf8),
        key2 = Array(",\"event_count\":".utf8)
    static let key3 = Array(",\"coincidence_count\":".utf8), key4 = Array(",\"rate_hz\":".utf8),
        key5 = Array(",\"temperature_c\":".utf8)
    static let key6 = Array(",\"pressure_hpa\":".utf8), key7 = Array(",\"humidity_pct\":".utf8),
        key8 = Array(",\"sipm_voltage_v\":".utf8)
    static let key9 = Array(",\"sipm_current_ua\":".utf8), key10 = Array(",\"dead_time_ms\":".utf8),
        key11 = Array(",\"adc_peak\":".utf8)
    static let key12 = Array(",\"adc_area\":".utf8), key13 = Array(",\"battery_v\":".utf8),
        key14 = Array(",\"rssi_dbm\":".utf8)
    static let key15 = Array(",\"firmware\":\"muon-fw 2.4.1 (build 7f3a9c, \\\"stable\\\")\"}".utf8)

    static func appendInt(_ out: inout [UInt8], _ value: Int) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        var v = value.magnitude
        if v == 0 {
            out.append(48)
            return
        }
        var digits:
            (
                UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                UInt8, UInt8, UInt8, UInt8, UInt8
            ) =
                (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var n = 0
        withUnsafeMutableBytes(of: &digits) { d in
            while v > 0 {
                d[n] = UInt8(48 + v % 10)
                v /= 10
                n += 1
            }
            for i in stride(from: n - 1, through: 0, by: -1) { out.append(d[i]) }
        }
    }

    static func appendFixed(_ out: inout [UInt8], _ x: Double, _ decimals: Int) {
        var scale = 1
        for _ in 0..<decimals { scale *= 10 }
        let n = Int((abs(x) * Double(scale)).rounded())
        if x < 0 && n > 0 { out.append(UInt8(ascii: "-")) }
        appendInt(&out, n / scale)
        out.append(UInt8(ascii: "."))
        var fraction = n % scale
        var div = scale / 10
        while div > 0 {
            out.append(UInt8(48 + fraction / div))
            fraction %= div
            div /= 10
        }
    }

    /// `x` with `decimals` digits after the point, without Foundation's formatter.
    static func fixed(_ x: Double, _ decimals: Int) -> String {
        var out: [UInt8] = []
        appendFixed(&out, x, decimals)
        return String(decoding: out, as: UTF8.self)
    }
}

final class SensorSlot: ConnectionSlot, @unchecked Sendable {
    let index: Int
    let options: SensorDriver.Options
    let plan: RunPlan
    let clock: RunClock
    let loop: any EventLoop
    let box: LoopRecorders.Box
    let wallStart: Int64
    let phase: Double
    var rng: SplitMix64
    var channel: (any Channel)?
    var parser = ResponseParser()
    var line = ByteBuffer()
    var inFlight: [(intended: UInt64, sent: UInt64, chunk: ByteBuffer)] = []
    /// Readings a lost connection left unacknowledged: sent again first on the next connection, as a device does
    /// (the server's idempotency on detector and timestamp keeps a resend from doubling a reading).
    var resend: [(intended: UInt64, sent: UInt64, chunk: ByteBuffer)] = []
    var k = 0
    let detectorBytes: [UInt8]
    var scratch: [UInt8] = []
    static let crlf: [UInt8] = [13, 10]
    var timer: Scheduled<Void>?
    var done = false
    private let finished = Atomic<Bool>(false)
    var isFinished: Bool { finished.load(ordering: .relaxed) }

    init(
        index: Int, count: Int, detector: String, options: SensorDriver.Options, plan: RunPlan, clock: RunClock,
        wallStart: Int64,
        loop: any EventLoop, recorders: LoopRecorders
    ) {
        self.index = index
        self.detectorBytes = Array(detector.utf8)
        self.options = options
        self.plan = plan
        self.clock = clock
        self.loop = loop
        self.box = recorders.box(for: loop)
        self.wallStart = wallStart
        self.phase = Double(index) / Double(count) / options.perDetector
        self.rng = SplitMix64(seed: UInt64(index) &* 0x9E37_79B9 &+ 7)
    }

    func connect() {
        ClientBootstrap(group: loop)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(SlotHandler(slot: self))
                }
            }
            .connect(host: plan.target.host, port: plan.target.port).whenComplete { result in
                switch result {
                case .success(let channel):
                    self.channel = channel
                    self.parser = ResponseParser()
                    self.line.clear()
                    let head =
                        "POST \(self.options.path) HTTP/1.1\r\nHost: \(self.plan.target.host)\r\nContent-Type: application/x-ndjson\r\n"
                        + "Transfer-Encoding: chunked\r\n\r\n"
                    channel.writeAndFlush(channel.allocator.buffer(string: head), promise: nil)
                    self.schedule()
                case .failure(let error):
                    if self.clock.measured(RunClock.now()) { self.box.stats.error("connect: \(error)") }
                    self.retry()
                }
            }
    }

    func retry() {
        if (done && resend.isEmpty) || RunClock.now() >= clock.end + UInt64(plan.drain * 1e9) { return finish() }
        _ = loop.scheduleTask(in: .milliseconds(200)) { self.connect() }
    }

    func intended(_ k: Int) -> UInt64 { clock.at(phase + Double(k) / options.perDetector) }

    /// Sends the readings that are due and arms the timer for the next.
    func schedule() {
        guard let channel, !(done && resend.isEmpty) else { return }
        let now = RunClock.now()
        var wrote = false
        if !resend.isEmpty {
            for item in resend {
                channel.write(item.chunk, promise: nil)
                inFlight.append((item.intended, now, item.chunk))
                box.stats.resent += 1
            }
            resend.removeAll()
            wrote = true
        }
        while true {
            let due = intended(k)
            if due >= clock.end {
                done = true
                break
            }
            if due > now {
                timer = loop.scheduleTask(deadline: .uptimeNanoseconds(due)) {
                    self.timer = nil
                    self.schedule()
                }
                break
            }
            scratch.removeAll(keepingCapacity: true)
            SensorDriver.appendReading(
                &scratch, detector: detectorBytes,
                timestamp: wallStart + Int64((phase + Double(k) / options.perDetector) * 1_000), index: k, rng: &rng)
            scratch.append(0x0A)
            var buffer = channel.allocator.buffer(capacity: scratch.count + 12)
            buffer.writeString(String(scratch.count, radix: 16))
            buffer.writeBytes(SensorSlot.crlf)
            buffer.writeBytes(scratch)
            buffer.writeBytes(SensorSlot.crlf)
            box.stats.bytesSent += buffer.readableBytes
            channel.write(buffer, promise: nil)
            wrote = true
            inFlight.append((due, now, buffer))
            k += 1
        }
        if wrote { channel.flush() }
        if done && inFlight.isEmpty { endStream() }
    }

    /// The end of the stream, once every reading is acknowledged (as a device that finishes its upload): the last
    /// chunk, then the connection closes. Ending streams while readings are in flight would measure the server's
    /// teardown of thousands of streams in the last readings' latency.
    func endStream() {
        // Not before the schedule's end (and a moment for the others' last acknowledgements): the detectors' phases
        // spread their last readings over the final interval, and an early finisher's teardown would land on them.
        let endAt = clock.end + 250_000_000
        if RunClock.now() < endAt {
            guard timer == nil else { return }
            timer = loop.scheduleTask(deadline: .uptimeNanoseconds(endAt)) {
                self.timer = nil
                self.endStream()
            }
            return
        }
        channel?.writeAndFlush(channel!.allocator.buffer(string: "0\r\n\r\n"), promise: nil)
        finish()
    }

    func received(_ buffer: inout ByteBuffer) {
        box.stats.bytesReceived += buffer.readableBytes
        var lines: [ByteBuffer] = []
        var ended = false
        var status = 200
        do {
            try parser.feed(&buffer) { event in
                switch event {
                case .head(let s): status = s
                case .body(var part): lines.append(part.readSlice(length: part.readableBytes)!)
                case .end: ended = true
                }
            }
        } catch {
            box.stats.error("\(error)")
            channel?.close(promise: nil)
            return
        }
        if status >= 300 {
            box.stats.error("HTTP \(status)")
            box.stats.statuses[status, default: 0] += 1
        }
        for var part in lines {
            line.writeBuffer(&part)
            while let newline = line.readableBytesView.firstIndex(of: 0x0A) {
                let ack = line.readSlice(length: newline - line.readerIndex + 1)!
                acknowledge(ack)
            }
            line.discardReadBytes()
        }
        if ended { channel?.close(promise: nil) }
    }

    /// One acknowledgement line: `"lines":[first,last]` readings, `"rejected":n` of them refused.
    func acknowledge(_ ack: ByteBuffer) {
        let view = ack.readableBytesView
        let now = RunClock.now()
        guard let lines = Self.integers(after: Self.linesMarker, in: view) else {
            box.stats.error(String(decoding: view.prefix(200), as: UTF8.self))
            return
        }
        let count = lines.count == 2 ? lines[1] - lines[0] + 1 : 0
        let rejected = Self.integers(after: Self.rejectedMarker, in: view)?.first ?? 0
        for i in 0..<min(count, inFlight.count) {
            let (intended, sent, _) = inFlight.removeFirst()
            guard clock.measured(intended) else { continue }
            box.stats.record(correctedNanos: now &- intended, uncorrectedNanos: now &- sent)
            box.stats.statuses[200, default: 0] += 1
            if i < rejected { box.stats.error("rejected: " + String(decoding: view.prefix(300), as: UTF8.self)) }
        }
        if done && inFlight.isEmpty { endStream() }
    }

    /// The comma-separated integers right after `marker` (up to `]`, `,"` or `}`).
    static let linesMarker = Array("\"lines\":[".utf8)
    static let rejectedMarker = Array("\"rejected\":".utf8)

    static func integers(after marker: [UInt8], in view: ByteBufferView) -> [Int]? {
        guard let range = view.find(marker) else { return nil }
        var out: [Int] = []
        var value = 0
        var digits = 0
        var i = range.upperBound
        while i < view.endIndex {
            let c = view[i]
            if c >= 48 && c <= 57 {
                value = value * 10 + Int(c - 48)
                digits += 1
            } else if c == UInt8(ascii: ",") && marker.last == UInt8(ascii: "[") {
                out.append(value)
                value = 0
                digits = 0
            } else {
                break
            }
            i += 1
        }
        if digits > 0 { out.append(value) }
        return out
    }

    func failed(_ error: any Error) {
        if clock.measured(RunClock.now()) { box.stats.error("\(error)") }
    }

    func closed() {
        channel = nil
        timer?.cancel()
        timer = nil
        if !inFlight.isEmpty && clock.measured(RunClock.now()) {
            box.stats.error("a stream closed with \(inFlight.count) readings unacknowledged (resent)")
        }
        resend = inFlight + resend
        inFlight.removeAll()
        if RunClock.now() >= clock.end + UInt64(plan.drain * 1e9) || (done && resend.isEmpty) {
            finish()
        } else {
            retry()
        }
    }

    func abandon() -> Int {
        done = true
        let open = (inFlight + resend).filter { clock.measured($0.intended) }.count
        inFlight.removeAll()
        resend.removeAll()
        finish()
        return open
    }

    func finish() {
        done = true
        timer?.cancel()
        channel?.close(promise: nil)
        finished.store(true, ordering: .relaxed)
    }
}
