import Foundation

/// Reads a `query_range` answer (`{"status":"success","data":{"resultType":"matrix","result":[{"metric":{…},
/// "values":[[1796540059.999,"3"],…]},…]}}`) straight from its bytes: a read of thousands of series gets one
/// dictionary of labels and one array of points per series, no tree of JSON values. Anything else is nil.
struct MatrixParser {
    private let bytes: UnsafeRawBufferPointer
    private var index = 0

    static func parse(_ bytes: UnsafeRawBufferPointer) -> [([String: String], [(Int64, Double)])]? {
        var parser = MatrixParser(bytes: bytes)
        return parser.answer()
    }

    private init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    private mutating func answer() -> [([String: String], [(Int64, Double)])]? {
        guard take("{") else { return nil }
        var result: [([String: String], [(Int64, Double)])]?
        repeat {
            guard let key = string(), take(":") else { return nil }
            if key == "data" {
                guard take("{") else { return nil }
                repeat {
                    guard let inner = string(), take(":") else { return nil }
                    if inner == "result" {
                        guard let series = seriesList() else { return nil }
                        result = series
                    } else if !skipValue() {
                        return nil
                    }
                } while take(",")
                guard take("}") else { return nil }
            } else if !skipValue() {
                return nil
            }
        } while take(",")
        guard take("}") else { return nil }
        return result
    }

    private mutating func seriesList() -> [([String: String], [(Int64, Double)])]? {
        guard take("[") else { return nil }
        var list: [([String: String], [(Int64, Double)])] = []
        if take("]") { return list }
        repeat {
            guard take("{") else { return nil }
            var labels: [String: String] = [:]
            var points: [(Int64, Double)] = []
            repeat {
                guard let key = string(), take(":") else { return nil }
                switch key {
                case "metric":
                    guard take("{") else { return nil }
                    if !take("}") {
                        repeat {
                            guard let name = string(), take(":"), let value = string() else { return nil }
                            labels[name] = value
                        } while take(",")
                        guard take("}") else { return nil }
                    }
                case "values":
                    guard take("[") else { return nil }
                    if !take("]") {
                        repeat {
                            guard take("["), let time = number(), take(","), let value = quotedNumber(), take("]"),
                                let milliseconds = Int64(exactly: (time * 1_000).rounded())
                            else { return nil }
                            points.append((milliseconds, value))
                        } while take(",")
                        guard take("]") else { return nil }
                    }
                default:
                    guard skipValue() else { return nil }
                }
            } while take(",")
            guard take("}") else { return nil }
            list.append((labels, points))
        } while take(",")
        guard take("]") else { return nil }
        return list
    }

    /// A number written as a string (`"12.5"`, `"NaN"`, `"+Inf"`).
    private mutating func quotedNumber() -> Double? {
        guard take("\"") else { return nil }
        let start = index
        while index < bytes.count, bytes[index] != 0x22 { index += 1 }
        guard index < bytes.count else { return nil }
        let text = UnsafeRawBufferPointer(rebasing: bytes[start..<index])
        index += 1
        return Self.double(text)
    }

    private mutating func skipSpace() {
        while index < bytes.count, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[index]) { index += 1 }
    }

    private mutating func take(_ character: Unicode.Scalar) -> Bool {
        skipSpace()
        guard index < bytes.count, bytes[index] == UInt8(character.value) else { return false }
        index += 1
        return true
    }

    private mutating func string() -> String? {
        guard take("\"") else { return nil }
        let start = index
        var plain = true
        while index < bytes.count, bytes[index] != 0x22 {
            if bytes[index] == 0x5C {
                plain = false
                index += 1
            }
            index += 1
        }
        guard index < bytes.count else { return nil }
        let raw = UnsafeRawBufferPointer(rebasing: bytes[start..<index])
        index += 1
        guard plain else {
            // Escapes: the general reader decodes them.
            var quoted = [UInt8(ascii: "\"")]
            quoted.append(contentsOf: raw)
            quoted.append(UInt8(ascii: "\""))
            return (try? JSONDecoder().decode(String.self, from: Data(quoted)))
        }
        return String(validating: raw, as: UTF8.self)
    }

    private mutating func number() -> Double? {
        skipSpace()
        let start = index
        while index < bytes.count,
            (0x30...0x39).contains(bytes[index]) || [0x2D, 0x2B, 0x2E, 0x65, 0x45].contains(bytes[index])
        {
            index += 1
        }
        return Self.double(UnsafeRawBufferPointer(rebasing: bytes[start..<index]))
    }

    /// A decimal number's value, read where it lies (at most 63 bytes, as VictoriaMetrics writes them).
    static func double(_ text: UnsafeRawBufferPointer) -> Double? {
        guard !text.isEmpty, text.count < 64 else { return nil }
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: 64) { buffer in
            for (i, byte) in text.enumerated() { buffer[i] = CChar(bitPattern: byte) }
            buffer[text.count] = 0
            var end: UnsafeMutablePointer<CChar>?
            let value = strtod(buffer.baseAddress!, &end)
            guard let end, end - buffer.baseAddress! == text.count else { return nil }
            return value
        }
    }

    /// Skips any JSON value (strings, numbers, literals, nested arrays and objects).
    private mutating func skipValue() -> Bool {
        skipSpace()
        guard index < bytes.count else { return false }
        switch bytes[index] {
        case 0x22: return string() != nil
        case 0x7B, 0x5B:
            let open = bytes[index]
            let close: UInt8 = open == 0x7B ? 0x7D : 0x5D
            index += 1
            skipSpace()
            if index < bytes.count, bytes[index] == close {
                index += 1
                return true
            }
            repeat {
                if open == 0x7B {
                    guard string() != nil, take(":") else { return false }
                }
                guard skipValue() else { return false }
            } while take(",")
            skipSpace()
            guard index < bytes.count, bytes[index] == close else { return false }
            index += 1
            return true
        default:
            let start = index
            while index < bytes.count, ![0x2C, 0x7D, 0x5D, 0x20, 0x0A, 0x0D, 0x09].contains(bytes[index]) { index += 1 }
            return index > start
        }
    }
}
