import Foundation
import PlumbAPI
import PlumbLogs

/// OTLP logs (`POST /v1/logs`): each log record becomes one event, in the log group and stream its resource names.
///
/// - Group: `otlp.log_group` (default `{service.name}`), stream: `otlp.log_stream` (default
///   `{service.instance.id}`); `{key}` is the resource attribute `key` (`unknown_service` for a missing
///   `service.name`, `default` for another missing attribute). Characters a group or stream name may not hold
///   become `_`. The groups under `/plumb/` are the server's own and refused.
/// - The event's time is the record's time, else the time it was observed, else now (milliseconds).
/// - The message is one JSON object, so filter patterns select on every part of it:
///   `{"severity":"ERROR","severityNumber":17,"body":…,"attributes":{…},"traceId":"…","spanId":"…","scope":"…"}`
///   (`body` as its type: a string, a number, an object …; absent parts left out). `{ $.severity = "ERROR" }`,
///   `{ $.traceId = "5b8efff798038103d269b633813fc60c" }`, `{ $.attributes.user = "ada" }`.
/// - A record that cannot be stored (older than 14 days, more than 2 hours ahead, over 256 KB once written) is
///   refused alone and counted in `partial_success`.
public struct OTLPLogsDecoder: Sendable {
    public let groupTemplate: String
    public let streamTemplate: String

    public init(groupTemplate: String = "{service.name}", streamTemplate: String = "{service.instance.id}") {
        self.groupTemplate = groupTemplate
        self.streamTemplate = streamTemplate
    }

    public struct Batch: Sendable {
        public var streams: [(group: String, stream: String, events: [InputLogEvent])] = []
        public var records = 0
        public var rejected = 0
        public var problem: String?
        public var events: Int { streams.reduce(0) { $0 + $1.events.count } }

        mutating func refuse(_ message: String, count: Int = 1) {
            rejected += count
            if problem == nil { problem = message }
        }
    }

    typealias Request = Opentelemetry_Proto_Collector_Logs_V1_ExportLogsServiceRequest

    /// The most records one request may carry (SDKs send 512): they are stored in one transaction.
    public static let maxRecords = 100_000

    public func decode(
        _ body: [UInt8], encoding: OTLPEncoding, contentEncoding: String?, limit: Int, nowMillis: Int64
    ) throws(OTLPError) -> Batch {
        let request = try OTLPBody.decode(
            Request.self, body, encoding: encoding, contentEncoding: contentEncoding, limit: limit)
        let records = request.resourceLogs.reduce(0) { $0 + $1.scopeLogs.reduce(0) { $0 + $1.logRecords.count } }
        guard records <= Self.maxRecords else {
            throw OTLPError(
                status: 413, code: "RequestEntityTooLarge",
                "\(records) log records in one request (at most \(Self.maxRecords)): send smaller batches")
        }
        return decode(request, encoding: encoding, nowMillis: nowMillis)
    }

    func decode(_ request: Request, encoding: OTLPEncoding, nowMillis: Int64) -> Batch {
        var batch = Batch()
        var order: [String: Int] = [:]
        for (r, resourceLogs) in request.resourceLogs.enumerated() {
            let attributes = resourceLogs.resource.attributes
            let group = Self.name(render(groupTemplate, attributes), allowed: Self.isGroupCharacter)
            let stream = Self.name(render(streamTemplate, attributes), allowed: Self.isStreamCharacter)
            let records = resourceLogs.scopeLogs.reduce(0) { $0 + $1.logRecords.count }
            batch.records += records
            guard !group.hasPrefix("/plumb/") else {
                batch.refuse(
                    "resourceLogs[\(r)]: log groups under /plumb/ are written by the server only", count: records)
                continue
            }
            let slot: Int
            if let existing = order["\(group)\u{0}\(stream)"] {
                slot = existing
            } else {
                slot = batch.streams.count
                order["\(group)\u{0}\(stream)"] = slot
                batch.streams.append((group, stream, []))
            }
            for (s, scopeLogs) in resourceLogs.scopeLogs.enumerated() {
                let scope = scopeLogs.scope.name
                for (i, record) in scopeLogs.logRecords.enumerated() {
                    let at = "resourceLogs[\(r)].scopeLogs[\(s)].logRecords[\(i)]"
                    let nanos = record.timeUnixNano != 0 ? record.timeUnixNano : record.observedTimeUnixNano
                    let millis = nanos == 0 ? nowMillis : Int64(nanos / 1_000_000)
                    guard millis >= nowMillis - LogLimits.maxAgeMillis else {
                        batch.refuse("\(at): the record is more than 14 days old")
                        continue
                    }
                    guard millis <= nowMillis + LogLimits.maxFutureMillis else {
                        batch.refuse("\(at): the record is more than 2 hours in the future")
                        continue
                    }
                    let message = Self.message(record, scope: scope, encoding: encoding)
                    guard message.utf8.count + LogLimits.eventOverhead <= LogLimits.maxEventBytes else {
                        batch.refuse("\(at): the record is over \(LogLimits.maxEventBytes / 1_024) KB once written")
                        continue
                    }
                    batch.streams[slot].events.append(InputLogEvent(timestamp: millis, message: message))
                }
            }
        }
        batch.streams.removeAll { $0.events.isEmpty }
        return batch
    }

    /// `template` with each `{key}` replaced by the resource attribute's value.
    func render(_ template: String, _ attributes: [OTelKeyValue]) -> String {
        var out = ""
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            out += rest[..<open]
            let key = String(rest[rest.index(after: open)..<close])
            out += OTLPAttributes.find(key, in: attributes) ?? (key == "service.name" ? "unknown_service" : "default")
            rest = rest[rest.index(after: close)...]
        }
        return out + rest
    }

    static func isGroupCharacter(_ c: Character) -> Bool {
        c.isASCII && (c.isLetter || c.isNumber || "_-/.#".contains(c))
    }

    static func isStreamCharacter(_ c: Character) -> Bool {
        c != ":" && c != "*" && !c.unicodeScalars.contains { $0.value < 32 || $0.value == 127 }
    }

    /// A name made of allowed characters, 1 to 512 bytes.
    static func name(_ text: String, allowed: (Character) -> Bool) -> String {
        var out = String(text.map { allowed($0) ? $0 : "_" })
        while out.utf8.count > 512 { out.removeLast() }
        return out.isEmpty ? "default" : out
    }

    static let severityNames = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"]

    /// The event's message: the record as one JSON object.
    static func message(
        _ record: Opentelemetry_Proto_Logs_V1_LogRecord, scope: String, encoding: OTLPEncoding
    ) -> String {
        var json = JSONText()
        let number = record.severityNumber.rawValue
        let severity =
            !record.severityText.isEmpty
            ? record.severityText : (1...24).contains(number) ? severityNames[(number - 1) / 4] : nil
        if let severity { json.field("severity", string: severity) }
        if number != 0 { json.field("severityNumber", raw: String(number)) }
        if record.hasBody, record.body.value != nil {
            if case .stringValue(let s) = record.body.value {
                json.field("body", string: s)
            } else {
                json.field("body", raw: OTLPAttributes.jsonText(OTLPAttributes.json(record.body)))
            }
        }
        if !record.attributes.isEmpty {
            json.field("attributes", raw: OTLPAttributes.jsonText(OTLPAttributes.object(record.attributes)))
        }
        if let trace = OTLPBody.hexID(record.traceID, expected: 16, encoding: encoding) {
            json.field("traceId", string: trace)
        }
        if let span = OTLPBody.hexID(record.spanID, expected: 8, encoding: encoding) {
            json.field("spanId", string: span)
        }
        if !record.eventName.isEmpty { json.field("eventName", string: record.eventName) }
        if !scope.isEmpty { json.field("scope", string: scope) }
        return json.finished
    }
}

/// A JSON object written field by field, in order.
struct JSONText {
    var text = "{"
    var empty = true

    mutating func field(_ name: String, raw: String) {
        if !empty { text += "," }
        empty = false
        text += "\"\(name)\":" + raw
    }

    mutating func field(_ name: String, string: String) {
        field(name, raw: Self.quoted(string))
    }

    var finished: String { text + "}" }

    static func quoted(_ s: String) -> String {
        var out = ""
        PlumbLogHandler.appendString(s, to: &out)
        return out
    }
}
