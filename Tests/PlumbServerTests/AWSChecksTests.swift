import Foundation
import PlumbAPI
import Synchronization
import Testing

@testable import PlumbAWS

/// Pieces of the AWS endpoint checked on their own: the operation's own check over several resources, the periods
/// of GetMetricData's queries, and the event stream's framing.
@Suite("AWS API: checks")
struct AWSChecksTests {
    /// Every check a caller saw: (Plumb's action, resource, AWS action handed to it).
    final class Seen: Sendable {
        let checks = Mutex<[String]>([])
    }

    @Test("an operation's own check over several resources hands each one the AWS action; later checks get none")
    func authorizeEach() throws {
        let seen = Seen()
        let caller = AWSCaller(user: "u", secret: "s") { action, resource in
            let aws = AWSOperation.current?.take() ?? "-"
            seen.checks.withLock { $0.append("\(action) \(resource) \(aws)") }
        }
        try AWSOperation.$current.withValue(AWSOperation(action: "cloudwatch:DisableAlarmActions")) {
            try caller.authorizeEach("alarms:PutAlarm", ["alarm/a", "alarm/prod-pager"])
            try caller.authorize("functions:InvokeFunction", "function/f")
        }
        #expect(
            seen.checks.withLock { $0 } == [
                "alarms:PutAlarm alarm/a cloudwatch:DisableAlarmActions",
                "alarms:PutAlarm alarm/prod-pager cloudwatch:DisableAlarmActions",
                "functions:InvokeFunction function/f -",
            ])
        let operation = AWSOperation(action: "x:Y")
        #expect(operation.countOnce() && !operation.countOnce(), "a request is counted once")
    }

    static func metric(_ id: String, returned: Bool = true) -> MetricDataQuery {
        MetricDataQuery(
            id: id, returnData: returned,
            source: .metric(SeriesKey(namespace: "N", name: id, dimensions: []), .sum))
    }

    static func expression(_ id: String, _ text: String) throws -> MetricDataQuery {
        MetricDataQuery(id: id, source: .expression(try MetricMath.parse(text), text: text))
    }

    @Test("an expression takes the period of what it reads; mixed inputs or a different Period are refused")
    func periods() throws {
        let queries = [
            Self.metric("a"), Self.metric("b"), try Self.expression("e", "a * 2"), try Self.expression("f", "e + 1"),
        ]
        let periods = try CloudWatchService.periods(of: queries, given: ["a": 60, "b": 300])
        #expect(periods == ["a": 60, "b": 300, "e": 60, "f": 60])
        #expect(throws: AWSError.self) {
            try CloudWatchService.periods(
                of: queries + [try Self.expression("g", "a + b")], given: ["a": 60, "b": 300])
        }
        #expect(throws: AWSError.self) {
            try CloudWatchService.periods(of: queries, given: ["a": 60, "b": 300, "e": 300])
        }
        // A constant expression takes its own Period, else the one period of the request.
        let constant = try Self.expression("k", "10")
        #expect(try CloudWatchService.periods(of: [Self.metric("a"), constant], given: ["a": 60])["k"] == 60)
        #expect(throws: AWSError.self) {
            try CloudWatchService.periods(
                of: [Self.metric("a"), Self.metric("b"), constant], given: ["a": 60, "b": 300])
        }
        #expect(throws: AWSError.self) { try CloudWatchService.periods(of: [Self.metric("a")], given: [:]) }
    }

    @Test("an event stream message: lengths, the prelude's and the message's CRC-32, string headers")
    func eventStreamFraming() throws {
        let bytes = try AWSEventStream.event("sessionUpdate", json: Array(#"{"a":1}"#.utf8))
        func u32(_ at: Int) -> UInt32 { bytes[at..<at + 4].reduce(0) { $0 << 8 | UInt32($1) } }
        #expect(Int(u32(0)) == bytes.count)
        let headersLength = Int(u32(4))
        #expect(u32(8) == crc32(Array(bytes[0..<8])))
        #expect(u32(bytes.count - 4) == crc32(Array(bytes[0..<bytes.count - 4])))
        #expect(Array(bytes[12 + headersLength..<bytes.count - 4]) == Array(#"{"a":1}"#.utf8))
        // The first header: ":message-type" (13 bytes), type 7, "event" (5 bytes).
        #expect(bytes[12] == 13 && String(decoding: bytes[13..<26], as: UTF8.self) == ":message-type")
        #expect(bytes[26] == 7 && bytes[27] == 0 && bytes[28] == 5)
        #expect(String(decoding: bytes[29..<34], as: UTF8.self) == "event")
        #expect(throws: AWSError.self) {
            try AWSEventStream.event("big", json: [UInt8](repeating: 0x20, count: 17 * 1_048_576))
        }
    }

    /// CRC-32 (IEEE), written out here so the test does not check the code with itself.
    func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }
}
