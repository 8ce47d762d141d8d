import Crypto
import Foundation

/// scrypt (RFC 7914): the memory-hard key derivation Plumb hashes passwords and security answers with.
public enum Scrypt {
    public struct Parameters: Sendable, Equatable, Codable {
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

    public static func derive(password: [UInt8], salt: [UInt8], parameters: Parameters, length: Int = 32) throws -> [UInt8] {
        guard parameters.valid, length > 0 else { throw Invalid() }
        let (n, r, p) = (parameters.n, parameters.r, parameters.p)
        let blockWords = 32 * r
        var b = pbkdf2(password: password, salt: salt, length: p * 128 * r)
        var words = [UInt32](repeating: 0, count: p * blockWords)
        for i in words.indices {
            words[i] = UInt32(b[4 * i]) | UInt32(b[4 * i + 1]) << 8 | UInt32(b[4 * i + 2]) << 16 | UInt32(b[4 * i + 3]) << 24
        }
        var v = [UInt32](repeating: 0, count: n * blockWords)
        var scratch = [UInt32](repeating: 0, count: blockWords)
        words.withUnsafeMutableBufferPointer { w in
            v.withUnsafeMutableBufferPointer { v in
                scratch.withUnsafeMutableBufferPointer { t in
                    for i in 0..<p { roMix(w.baseAddress! + i * blockWords, r: r, n: n, v: v.baseAddress!, scratch: t.baseAddress!) }
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
            message += [UInt8(block >> 24), UInt8((block >> 16) & 0xFF), UInt8((block >> 8) & 0xFF), UInt8(block & 0xFF)]
            out += Array(HMAC<SHA256>.authenticationCode(for: message, using: key))
            block += 1
        }
        return Array(out.prefix(length))
    }

    static func roMix(_ x: UnsafeMutablePointer<UInt32>, r: Int, n: Int, v: UnsafeMutablePointer<UInt32>, scratch: UnsafeMutablePointer<UInt32>) {
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
        var x = (b + (2 * r - 1) * 16).withMemoryRebound(to: UInt32.self, capacity: 16) { p in (0..<16).map { p[$0] } }
        for i in 0..<(2 * r) {
            for k in 0..<16 { x[k] ^= b[i * 16 + k] }
            salsa8(&x)
            // Even blocks to the first half, odd to the second.
            let target = (i % 2 == 0 ? i / 2 : r + i / 2) * 16
            for k in 0..<16 { y[target + k] = x[k] }
        }
        b.update(from: y, count: 32 * r)
    }

    @inline(__always)
    static func salsa8(_ b: inout [UInt32]) {
        var x = b
        @inline(__always) func r(_ a: UInt32, _ n: UInt32) -> UInt32 { (a << n) | (a >> (32 - n)) }
        for _ in 0..<4 {
            x[4] ^= r(x[0] &+ x[12], 7); x[8] ^= r(x[4] &+ x[0], 9); x[12] ^= r(x[8] &+ x[4], 13); x[0] ^= r(x[12] &+ x[8], 18)
            x[9] ^= r(x[5] &+ x[1], 7); x[13] ^= r(x[9] &+ x[5], 9); x[1] ^= r(x[13] &+ x[9], 13); x[5] ^= r(x[1] &+ x[13], 18)
            x[14] ^= r(x[10] &+ x[6], 7); x[2] ^= r(x[14] &+ x[10], 9); x[6] ^= r(x[2] &+ x[14], 13); x[10] ^= r(x[6] &+ x[2], 18)
            x[3] ^= r(x[15] &+ x[11], 7); x[7] ^= r(x[3] &+ x[15], 9); x[11] ^= r(x[7] &+ x[3], 13); x[15] ^= r(x[11] &+ x[7], 18)
            x[1] ^= r(x[0] &+ x[3], 7); x[2] ^= r(x[1] &+ x[0], 9); x[3] ^= r(x[2] &+ x[1], 13); x[0] ^= r(x[3] &+ x[2], 18)
            x[6] ^= r(x[5] &+ x[4], 7); x[7] ^= r(x[6] &+ x[5], 9); x[4] ^= r(x[7] &+ x[6], 13); x[5] ^= r(x[4] &+ x[7], 18)
            x[11] ^= r(x[10] &+ x[9], 7); x[8] ^= r(x[11] &+ x[10], 9); x[9] ^= r(x[8] &+ x[11], 13); x[10] ^= r(x[9] &+ x[8], 18)
            x[12] ^= r(x[15] &+ x[14], 7); x[13] ^= r(x[12] &+ x[15], 9); x[14] ^= r(x[13] &+ x[12], 13); x[15] ^= r(x[14] &+ x[13], 18)
        }
        for i in 0..<16 { b[i] = b[i] &+ x[i] }
    }
}
