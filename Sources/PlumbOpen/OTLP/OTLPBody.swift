import Foundation
import PlumbAPI
import PlumbStore
import SwiftProtobuf

/// The two encodings of OTLP/HTTP, told apart by `Content-Type`; the answer is sent in the request's encoding.
public enum OTLPEncoding: Sendable {
    case protobuf, json

    public var contentType: String {
        switch self {
        case .protobuf: "application/x-protobuf"
        case .json: "application/json"
        }
    }

    /// The encoding of a request's `Content-Type`; nil for one OTLP does not define (the caller answers 415).
    public init?(contentType: String?) {
        let media = (contentType ?? "").split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) }
        switch media?.lowercased() {
        case "application/x-protobuf", "application/protobuf": self = .protobuf
        case "application/json": self = .json
        default: return nil
        }
    }
}

/// A refused OTLP request: its status (400, 413, 415) and what was wrong, sent as OTLP's `google.rpc.Status` body.
public typealias OTLPError = PlumbError

/// Reading an OTLP/HTTP request body: `Content-Encoding: gzip` inflated within the size limit, then the protobuf
/// or JSON message. JSON follows OTLP's rules, which differ from protobuf's canonical JSON: trace and span ids are
/// hex, enums may be integers, 64-bit integers may be strings or numbers, unknown fields are ignored.
public enum OTLPBody {
    /// The message in `body`, decoded by `encoding` after `contentEncoding` (none, `identity` or `gzip`).
    public static func decode<M: SwiftProtobuf.Message>(
        _ type: M.Type, _ body: [UInt8], encoding: OTLPEncoding, contentEncoding: String?, limit: Int
    ) throws(OTLPError) -> M {
        let bytes = try inflate(body, contentEncoding: contentEncoding, limit: limit)
        do {
            switch encoding {
            case .protobuf:
                return try M(serializedBytes: bytes)
            case .json:
                var options = JSONDecodingOptions()
                options.ignoreUnknownFields = true
                return try M(jsonUTF8Bytes: bytes, options: options)
            }
        } catch {
            let what = encoding == .json ? "OTLP JSON" : "a protobuf"
            throw OTLPError("the body is not \(what) \(String(describing: M.self).otlpMessageName): \(error)")
        }
    }

    static func inflate(_ body: [UInt8], contentEncoding: String?, limit: Int) throws(OTLPError) -> [UInt8] {
        switch contentEncoding?.lowercased().trimmingCharacters(in: .whitespaces) {
        case nil, "", "identity":
            return body
        case "gzip", "x-gzip":
            do {
                return try Zlib.gunzip(body, limit: limit)
            } catch {
                if error.description.hasPrefix("it inflates to more than") {
                    throw OTLPError(status: 413, code: "RequestEntityTooLarge", "the gzip body: \(error)")
                }
                throw OTLPError("the body is not gzip as its Content-Encoding says: \(error)")
            }
        case let other?:
            throw OTLPError(
                status: 415, code: "UnsupportedMediaType",
                "Content-Encoding '\(other)' is not one OTLP/HTTP uses (gzip, or none)")
        }
    }

    /// A trace or span id as OTLP's JSON writes it, hex, whatever the decoder made of it. The protobuf JSON decoder
    /// reads `bytes` fields as base64, and hex digits are base64 characters: a 32-digit hex trace id decodes to 24
    /// bytes, whose base64 is the hex text again. `expected` is the id's real length (16 for a trace, 8 for a span).
    public static func hexID(_ data: Data, expected: Int, encoding: OTLPEncoding) -> String? {
        if data.isEmpty { return nil }
        if encoding == .json, data.count == expected * 3 / 2 {
            let text = data.base64EncodedString()
            return text.utf8.allSatisfy {
                ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) || ($0 >= 0x41 && $0 <= 0x46)
            }
                ? text.lowercased() : nil
        }
        guard data.count == expected else { return nil }
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(expected * 2)
        for byte in data {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xF)])
        }
        let text = String(decoding: out, as: UTF8.self)
        return text == String(repeating: "0", count: expected * 2) ? nil : text
    }

    /// A `google.rpc.Status` (`code` 3, INVALID_ARGUMENT, for a 4xx; 14, UNAVAILABLE, for a 503) as OTLP/HTTP
    /// answers a refused request, in the request's encoding.
    public static func status(httpStatus: Int, message: String, encoding: OTLPEncoding) -> [UInt8] {
        let code: Int32 =
            switch httpStatus {
            case 401: 16
            case 403: 7
            case 413: 8
            case 429: 8
            case 503: 14
            case 500...: 13
            default: 3
            }
        switch encoding {
        case .json:
            let object: [String: Any] = ["code": Int(code), "message": message]
            return Array(
                (try? JSONSerialization.data(withJSONObject: object, options: [.withoutEscapingSlashes])) ?? Data())
        case .protobuf:
            var out: [UInt8] = [0x08]
            appendVarint(UInt64(code), to: &out)
            let text = Array(message.utf8)
            out.append(0x12)
            appendVarint(UInt64(text.count), to: &out)
            out += text
            return out
        }
    }

    /// `google.rpc.Status` in JSON (its `details` left out).
    struct StatusBody: Encodable {
        let code: Int32
        let message: String
    }

    static func appendVarint(_ value: UInt64, to out: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            out.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }
}

extension String {
    /// `Opentelemetry_Proto_Collector_Metrics_V1_ExportMetricsServiceRequest` → `ExportMetricsServiceRequest`.
    var otlpMessageName: String { split(separator: "_").last.map(String.init) ?? self }
}

/// The answers of an accepted export: empty, or with `partial_success` when some points or records were refused.
public enum OTLPResponse {
    public static func metrics(rejected: Int, problem: String?, encoding: OTLPEncoding) -> [UInt8] {
        var response = Opentelemetry_Proto_Collector_Metrics_V1_ExportMetricsServiceResponse()
        if rejected > 0 || problem != nil {
            response.partialSuccess.rejectedDataPoints = Int64(rejected)
            response.partialSuccess.errorMessage = problem ?? ""
        }
        return encode(response, encoding)
    }

    public static func logs(rejected: Int, problem: String?, encoding: OTLPEncoding) -> [UInt8] {
        var response = Opentelemetry_Proto_Collector_Logs_V1_ExportLogsServiceResponse()
        if rejected > 0 || problem != nil {
            response.partialSuccess.rejectedLogRecords = Int64(rejected)
            response.partialSuccess.errorMessage = problem ?? ""
        }
        return encode(response, encoding)
    }

    static func encode<M: SwiftProtobuf.Message>(_ message: M, _ encoding: OTLPEncoding) -> [UInt8] {
        switch encoding {
        case .protobuf: return (try? message.serializedBytes()) ?? []
        case .json: return (try? message.jsonUTF8Bytes()) ?? Array("{}".utf8)
        }
    }
}

/// An OTLP metrics export as an SDK sends it, for clients of Plumb written in Swift (the benchmark) and for tests:
/// one resource (`service.name`), one scope, one gauge per metric name holding every point of that name, each
/// point's labels (but `__name__`) as attributes.
public enum OTLPMetricsBody {
    public static func make(_ series: [RemoteWriteBody.Series], service: String) throws -> [UInt8] {
        var metrics: [Opentelemetry_Proto_Metrics_V1_Metric] = []
        var index: [String: Int] = [:]
        for s in series {
            let name = s.labels.first(where: { $0.name == "__name__" })?.value ?? ""
            let slot: Int
            if let found = index[name] {
                slot = found
            } else {
                slot = metrics.count
                index[name] = slot
                var metric = Opentelemetry_Proto_Metrics_V1_Metric()
                metric.name = name
                metric.gauge = Opentelemetry_Proto_Metrics_V1_Gauge()
                metrics.append(metric)
            }
            let attributes = s.labels.filter { $0.name != "__name__" }.map { label in
                var kv = Opentelemetry_Proto_Common_V1_KeyValue()
                kv.key = label.name
                kv.value.stringValue = label.value
                return kv
            }
            for sample in s.samples {
                var point = Opentelemetry_Proto_Metrics_V1_NumberDataPoint()
                point.attributes = attributes
                point.asDouble = sample.value
                point.timeUnixNano =
                    UInt64(clamping: sample.timestamp).multipliedReportingOverflow(by: 1_000_000).partialValue
                metrics[slot].gauge.dataPoints.append(point)
            }
        }
        var request = Opentelemetry_Proto_Collector_Metrics_V1_ExportMetricsServiceRequest()
        var resource = Opentelemetry_Proto_Metrics_V1_ResourceMetrics()
        var attribute = Opentelemetry_Proto_Common_V1_KeyValue()
        attribute.key = "service.name"
        attribute.value.stringValue = service
        resource.resource.attributes = [attribute]
        var scope = Opentelemetry_Proto_Metrics_V1_ScopeMetrics()
        scope.scope.name = "bench"
        scope.metrics = metrics
        resource.scopeMetrics = [scope]
        request.resourceMetrics = [resource]
        return try request.serializedBytes()
    }
}

extension OTLPMetricsBody {
    /// The protobuf bytes of an export written in OTLP's JSON encoding (for tests that write requests as text); nil
    /// for text that is not one.
    public static func protobuf(fromJSON text: String) -> [UInt8]? {
        var options = JSONDecodingOptions()
        options.ignoreUnknownFields = true
        return try? Opentelemetry_Proto_Collector_Metrics_V1_ExportMetricsServiceRequest(
            jsonUTF8Bytes: Array(text.utf8), options: options
        ).serializedBytes()
    }
}
