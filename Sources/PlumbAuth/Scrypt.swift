import Crypto
import Foundation

/// scrypt (RFC 7914): the memory-hard key derivation Plumb hashes passwords and security answers with.
public enum Scrypt {
    public struct Parameters: Sendable, Hashable, Codable {
        /// CPU/memory cost, a power of two above 1.
        public var n: Int
        public var r: Int
        public var p: Int

        public init(n: Int, r: Int, p: Int) {
            self.n = n
            self.r = r
            self.p = p
        }

        /// 2^15, 8, 1: 32 MiB and tens of milliseconds per hash on a server core (OWASP's minimum is 2^17 with r 8;
        /// the benchmark reports what this costs).
        public static let `default` = Parameters(n: 1 << 15, r: 8, p: 1)

        public var valid: Bool { n > 1 && n & (n - 1) == 0 && r >= 1 && p >= 1 && r * p < 1 << 30 && n <= 1 << 24 }
    }

    public struct Invalid: Error, CustomStringConvertible, Sendable {
        public var description: String { "scrypt parameters must have N a power of two in 2…2^24, r ≥ 1, p ≥ 1" }
    }

    public static func derive(
        password: [UInt8], salt: [UInt8], parameters: Parameters, length: Int = 32
    ) throws -> [UInt8] {
        guard parameters.valid, length > 0 else { throw Invalid() }
        let (n, r, p) = (parameters.n, parameters.r, parameters.p)
        let blockWords = 32 * r
        var b = pbkdf2(password: password, salt: salt, length: p * 128 * r)
        var words = [UInt32](repeating: 0, count: p * blockWords)
        for i in words.indices {
            words[i] =
                UInt32(b[4 * i]) | UInt32(b[4 * i + 1]) << 8 | UInt32(b[4 * i + 2]) << 16 | UInt32(b[4 * i + 3]) << 24
        }
        var v = [UInt32](repeating: 0, count: n * blockWords)
        var scratch = [UInt32](repeating: 0, count: blockWords)
        words.withUnsafeMutableBufferPointer { w in
            v.withUnsafeMutableBufferPointer { v in
                scratch.withUnsafeMutableBufferPointer { t in
                    for i in 0..<p {
                        roMix(w.baseAddress! + i * blockWords, r: r, n: n, v: v.baseAddress!, scratch: t.baseAddress!)
                    }
                }
            }
        }
        for i in words.indices {
            let x = words[i]
            b[4 * i] = UInt8(x & 0xFF)
            b[4 * i + 1] = UInt8((x >> 8) & 0xFF)
            b[4 * i + 2] = UInt8((x >> 16) & 0xFF)
            b[4 * i + 3] = UInt8(x >> 24)
        }
        return pbkdf2(password: password, salt: b, length: length)
    }

    /// PBKDF2-HMAC-SHA256 with one iteration (all scrypt needs).
    static func pbkdf2(password: [UInt8], salt: [UInt8], length: Int) -> [UInt8] {
        let key = SymmetricKey(data: password)
        var out: [UInt8] = []
        out.reserveCapacity(length)
        var block: UInt32 = 1
        while out.count < length {
            var message = salt
            message += [
                UInt8(block >> 24), UInt8((block >> 16) & 0xFF), UInt8((block >> 8) & 0xFF), UInt8(block & 0xFF),
            ]
            out += Array(HMAC<SHA256>.authenticationCode(for: message, using: key))
            block += 1
        }
        return Array(out.prefix(length))
    }

    static func roMix(
        _ x: UnsafeMutablePointer<UInt32>, r: Int, n: Int, v: UnsafeMutablePointer<UInt32>,
        scratch: UnsafeMutablePointer<UInt32>
    ) {
        let words = 32 * r
        for i in 0..<n {
            (v + i * words).update(from: x, count: words)
            blockMix(x, r: r, scratch: scratch)
        }
        for _ in 0..<n {
            let j = Int(x[(2 * r - 1) * 16] & UInt32(n - 1))
            let vj = v + j * words
            for k in 0..<words { x[k] ^= vj[k] }
            blockMix(x, r: r, scratch: scratch)
        }
    }

    static func blockMix(_ b: UnsafeMutablePointer<UInt32>, r: Int, scratch y: UnsafeMutablePointer<UInt32>) {
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 16) { xb in
            let x = xb.baseAddress!
            x.update(from: b + (2 * r - 1) * 16, count: 16)
            for i in 0..<(2 * r) {
                let bi = b + i * 16
                for k in 0..<16 { x[k] ^= bi[k] }
                salsa8(x)
                // Even blocks to the first half, odd to the second.
                (y + (i % 2 == 0 ? i / 2 : r + i / 2) * 16).update(from: x, count: 16)
            }
        }
        b.update(from: y, count: 32 * r)
    }

    /// Salsa20/8 on 16 words in place, in locals.
    @inline(__always)
    static func salsa8(_ b: UnsafeMutablePointer<UInt32>) {
        @inline(__always) func r(_ a: UInt32, _ n: UInt32) -> UInt32 { (a << n) | (a >> (32 - n)) }
        var (x0, x1, x2, x3, x4, x5, x6, x7) = (b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7])
        var (x8, x9, x10, x11, x12, x13, x14, x15) = (b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15])
        for _ in 0..<4 {
            x4 ^= r(x0 &+ x12, 7)
            x8 ^= r(x4 &+ x0, 9)
            x12 ^= r(x8 &+ x4, 13)
            x0 ^= r(x12 &+ x8, 18)
            x9 ^= r(x5 &+ x1, 7)
            x13 ^= r(x9 &+ x5, 9)
            x1 ^= r(x13 &+ x9, 13)
            x5 ^= r(x1 &+ x13, 18)
            x14 ^= r(x10 &+ x6, 7)
            x2 ^= r(x14 &+ x10, 9)
            x6 ^= r(x2 &+ x14, 13)
            x10 ^= r(x6 &+ x2, 18)
            x3 ^= r(x15 &+ x11, 7)
            x7 ^= r(x3 &+ x15, 9)
            x11 ^= r(x7 &+ x3, 13)
            x15 ^= r(x11 &+ x7, 18)
            x1 ^= r(x0 &+ x3, 7)
            x2 ^= r(x1 &+ x0, 9)
            x3 ^= r(x2 &+ x1, 13)
            x0 ^= r(x3 &+ x2, 18)
            x6 ^= r(x5 &+ x4, 7)
            x7 ^= r(x6 &+ x5, 9)
            x4 ^= r(x7 &+ x6, 13)
            x5 ^= r(x4 &+ x7, 18)
            x11 ^= r(x10 &+ x9, 7)
            x8 ^= r(x11 &+ x10, 9)
            x9 ^= r(x8 &+ x11, 13)
            x10 ^= r(x9 &+ x8, 18)
            x12 ^= r(x15 &+ x14, 7)
            x13 ^= r(x12 &+ x15, 9)
            x14 ^= r(x13 &+ x12, 13)
            x15 ^= r(x14 &+ x13, 18)
        }
        b[0] &+= x0
        b[1] &+= x1
        b[2] &+= x2
        b[3] &+= x3
        b[4] &+= x4
        b[5] &+= x5
        b[6] &+= x6
        b[7] &+= x7
        b[8] &+= x8
        b[9] &+= x9
        b[10] &+= x10
        b[11] &+= x11
        b[12] &+= x12
        b[13] &+= x13
        b[14] &+= x14
        b[15] &+= x15
    }
}
