import Foundation

/// Decimal float grammar `[-+]?digits[.digits][(e|E)[-+]?digits]`; exact (Clinger's fast path) when the
/// mantissa fits 2^53 and the power of ten is ≤ 22, otherwise delegated to the standard library.
func parseDecimal(_ b: UnsafeBufferPointer<UInt8>, _ s: Int, _ e: Int) -> Double? {
    var i = s
    var negative = false
    if b[i] == UInt8(ascii: "-") || b[i] == UInt8(ascii: "+") {
        negative = b[i] == UInt8(ascii: "-")
        i += 1
    }
    var mantissa: UInt64 = 0
    var digits = 0
    var scale = 0
    var intDigits = 0
    while i < e, case let d = b[i] &- 48, d < 10 {
        if digits < 19 {
            mantissa = mantissa * 10 + UInt64(d)
            digits += mantissa > 0 ? 1 : 0
        } else {
            scale += 1
        }
        intDigits += 1
        i += 1
    }
    var fracDigits = 0
    if i < e && b[i] == UInt8(ascii: ".") {
        i += 1
        while i < e, case let d = b[i] &- 48, d < 10 {
            if digits < 19 {
                mantissa = mantissa * 10 + UInt64(d)
                digits += mantissa > 0 ? 1 : 0
                scale -= 1
            }
            fracDigits += 1
            i += 1
        }
    }
    guard intDigits + fracDigits > 0 else { return nil }
    var exponent = 0
    if i < e && (b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E")) {
        i += 1
        var expNegative = false
        if i < e && (b[i] == UInt8(ascii: "-") || b[i] == UInt8(ascii: "+")) {
            expNegative = b[i] == UInt8(ascii: "-")
            i += 1
        }
        var expDigits = 0
        while i < e, case let d = b[i] &- 48, d < 10 {
            if exponent < 100_000 { exponent = exponent * 10 + Int(d) }
            expDigits += 1
            i += 1
        }
        guard expDigits > 0 else { return nil }
        if expNegative { exponent = -exponent }
    }
    guard i == e else { return nil }
    let power = scale + exponent
    if mantissa < (1 << 53) && abs(power) <= 22 {
        var v = Double(mantissa)
        v = power >= 0 ? v * decimalPowersOfTen[power] : v / decimalPowersOfTen[-power]
        return negative ? -v : v
    }
    return Double(String(decoding: UnsafeBufferPointer(rebasing: b[s..<e]), as: UTF8.self))
}

private let decimalPowersOfTen: [Double] = (0...22).map { pow(10, Double($0)) }
