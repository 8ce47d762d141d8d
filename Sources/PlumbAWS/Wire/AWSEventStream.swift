import PlumbStore

/// AWS's event stream framing (`application/vnd.amazon.eventstream`), the body of streaming answers such as CloudWatch
/// Logs' StartLiveTail: each message is its total length and its headers' length (big-endian 32-bit), the CRC-32 of
/// those eight bytes, the headers, the payload, and the CRC-32 of everything before it. Headers here are all strings
/// (type 7: a 16-bit length, then the bytes).
public enum AWSEventStream {
    public static let contentType = "application/vnd.amazon.eventstream"

    /// The format's limit on a message is 16 MB; writers keep theirs far below it, and one past it is refused.
    static let maxPayloadBytes = 16 * 1_048_576 - 1_024

    /// One message of `:message-type` `event`, its JSON payload typed by `:event-type`.
    public static func event(_ type: String, json payload: [UInt8]) throws -> [UInt8] {
        try message(
            headers: [(":message-type", "event"), (":event-type", type), (":content-type", "application/json")],
            payload: payload)
    }

    /// One modelled exception of the stream (`SessionTimeoutException`…), which ends it.
    public static func exception(_ type: String, json payload: [UInt8]) throws -> [UInt8] {
        try message(
            headers: [
                (":message-type", "exception"), (":exception-type", type), (":content-type", "application/json"),
            ],
            payload: payload)
    }

    static func message(headers: [(name: String, value: String)], payload: [UInt8]) throws -> [UInt8] {
        guard payload.count <= maxPayloadBytes else {
            throw AWSError(code: "InternalFailure", "an event stream message over 16 MB", status: 500)
        }
        var head: [UInt8] = []
        for (name, value) in headers {
            let nameBytes = Array(name.utf8.prefix(255))
            let valueBytes = Array(value.utf8.prefix(Int(UInt16.max)))
            head.append(UInt8(nameBytes.count))
            head += nameBytes
            head.append(7)
            head += bigEndian(UInt16(valueBytes.count))
            head += valueBytes
        }
        let total = 12 + head.count + payload.count + 4
        var bytes = bigEndian(UInt32(total)) + bigEndian(UInt32(head.count))
        bytes += bigEndian(Zlib.crc32(bytes))
        bytes += head
        bytes += payload
        bytes += bigEndian(Zlib.crc32(bytes))
        return bytes
    }

    static func bigEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        withUnsafeBytes(of: value.bigEndian) { Array($0) }
    }
}
