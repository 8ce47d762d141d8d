/// RFC 3492 Punycode: the `xn--` form of an internationalised domain label (IDNA's A-label), so that an address
/// typed as `bö@bücher.de` and as `bö@xn--bcher-kva.de` is one identity, and what reaches SMTP is ASCII.
public enum Punycode {
    static let base = 36, tMin = 1, tMax = 26, skew = 38, damp = 700, initialBias = 72, initialN = 128

    /// The Punycode of `label` (without `xn--`); nil on overflow.
    public static func encode(_ label: String) -> String? {
        let input = label.unicodeScalars.map { Int($0.value) }
        var output = String(String.UnicodeScalarView(label.unicodeScalars.filter(\.isASCII)))
        let basic = output.unicodeScalars.count
        var handled = basic
        if basic > 0 { output.append("-") }
        var n = initialN
        var delta = 0
        var bias = initialBias
        while handled < input.count {
            guard let m = input.filter({ $0 >= n }).min(), (m - n) <= (Int.max - delta) / (handled + 1) else {
                return nil
            }
            delta += (m - n) * (handled + 1)
            n = m
            for c in input {
                if c < n {
                    guard delta < Int.max else { return nil }
                    delta += 1
                }
                guard c == n else { continue }
                var q = delta
                var k = base
                while true {
                    let t = threshold(k, bias)
                    if q < t { break }
                    output.append(digit(t + (q - t) % (base - t)))
                    q = (q - t) / (base - t)
                    k += base
                }
                output.append(digit(q))
                bias = adapt(delta, handled + 1, first: handled == basic)
                delta = 0
                handled += 1
            }
            delta += 1
            n += 1
        }
        return output
    }

    /// The label a Punycode string (without `xn--`) stands for; nil when it is not valid Punycode.
    public static func decode(_ text: String) -> String? {
        let scalars = Array(text.unicodeScalars)
        var output: [Int] = []
        var position = 0
        if let dash = scalars.lastIndex(of: "-") {
            for s in scalars[..<dash] {
                guard s.isASCII else { return nil }
                output.append(Int(s.value))
            }
            position = dash + 1
        }
        var n = initialN
        var i = 0
        var bias = initialBias
        while position < scalars.count {
            let old = i
            var w = 1
            var k = base
            while true {
                guard position < scalars.count, let d = value(scalars[position]) else { return nil }
                position += 1
                guard d <= (Int.max - i) / w else { return nil }
                i += d * w
                let t = threshold(k, bias)
                if d < t { break }
                guard w <= Int.max / (base - t) else { return nil }
                w *= base - t
                k += base
            }
            bias = adapt(i - old, output.count + 1, first: old == 0)
            guard i / (output.count + 1) <= 0x10FFFF - n else { return nil }
            n += i / (output.count + 1)
            i %= output.count + 1
            guard Unicode.Scalar(UInt32(n)) != nil, n >= 0x80 else { return nil }
            output.insert(n, at: i)
            i += 1
        }
        var view = String.UnicodeScalarView()
        for v in output {
            guard let s = Unicode.Scalar(UInt32(v)) else { return nil }
            view.append(s)
        }
        return String(view)
    }

    static func threshold(_ k: Int, _ bias: Int) -> Int {
        k <= bias ? tMin : (k >= bias + tMax ? tMax : k - bias)
    }

    static func adapt(_ delta: Int, _ points: Int, first: Bool) -> Int {
        var delta = first ? delta / damp : delta / 2
        delta += delta / points
        var k = 0
        while delta > ((base - tMin) * tMax) / 2 {
            delta /= base - tMin
            k += base
        }
        return k + (base - tMin + 1) * delta / (delta + skew)
    }

    static func digit(_ d: Int) -> Character {
        Character(Unicode.Scalar(UInt8(d < 26 ? 97 + d : 22 + d)))
    }

    static func value(_ s: Unicode.Scalar) -> Int? {
        switch s.value {
        case 48...57: Int(s.value) - 22
        case 65...90: Int(s.value) - 65
        case 97...122: Int(s.value) - 97
        default: nil
        }
    }
}
