import Foundation

/// Distinct byte spans of one request body, found again by hash and compared byte for byte with the body: an
/// open-addressing table of indices into flat arrays, so interning allocates only when the table grows.
struct SpanIndex {
    private var slots = [Int32](repeating: -1, count: 64)
    private var hashes: [UInt64] = []
    private var starts: [Int] = []
    private var ends: [Int] = []
    private var values: [Int32] = []

    func find(_ h: UInt64, _ b: UnsafeBufferPointer<UInt8>, _ s: Int, _ e: Int) -> Int32? {
        let mask = slots.count - 1
        var i = Self.home(h) & mask
        while true {
            let entry = slots[i]
            if entry < 0 { return nil }
            let k = Int(entry)
            if hashes[k] == h, ends[k] - starts[k] == e - s,
                memcmp(b.baseAddress! + starts[k], b.baseAddress! + s, e - s) == 0
            {
                return values[k]
            }
            i = (i + 1) & mask
        }
    }

    mutating func add(_ h: UInt64, _ s: Int, _ e: Int, _ value: Int32) {
        if (hashes.count + 1) * 2 > slots.count { grow() }
        let k = Int32(hashes.count)
        hashes.append(h)
        starts.append(s)
        ends.append(e)
        values.append(value)
        place(k)
    }

    private mutating func place(_ k: Int32) {
        let mask = slots.count - 1
        var i = Self.home(hashes[Int(k)]) & mask
        while slots[i] >= 0 { i = (i + 1) & mask }
        slots[i] = k
    }

    /// FNV-1a's low bits depend only on the low bits of each byte: spread the whole hash before masking.
    private static func home(_ h: UInt64) -> Int { Int(truncatingIfNeeded: (h &* 0x9E37_79B9_7F4A_7C15) >> 32) }

    private mutating func grow() {
        slots = [Int32](repeating: -1, count: slots.count * 2)
        for k in hashes.indices { place(Int32(k)) }
    }
}
