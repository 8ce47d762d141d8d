import Foundation

/// The series one selector read, laid out flat: every series' times and values in two arrays, series `k` at
/// `offsets[k]..<offsets[k + 1]`. The evaluation loops walk them through buffer pointers, touching no reference
/// counts per series and step.
struct SeriesSet {
    var labels: [PromLabels] = []
    var offsets: [Int] = [0]
    var times: [Int64] = []
    var values: [Double] = []

    init(_ series: [PromSeries]) {
        labels.reserveCapacity(series.count)
        offsets.reserveCapacity(series.count + 1)
        let total = series.reduce(0) { $0 + $1.times.count }
        times.reserveCapacity(total)
        values.reserveCapacity(total)
        for s in series {
            labels.append(s.labels)
            times.append(contentsOf: s.times)
            values.append(contentsOf: s.values)
            offsets.append(times.count)
        }
    }

    var count: Int { labels.count }

    /// Runs `body` with the three arrays as buffers.
    @inline(__always)
    func withBuffers<R>(
        _ body: (UnsafeBufferPointer<Int>, UnsafeBufferPointer<Int64>, UnsafeBufferPointer<Double>) -> R
    ) -> R {
        offsets.withUnsafeBufferPointer { o in
            times.withUnsafeBufferPointer { t in values.withUnsafeBufferPointer { v in body(o, t, v) } }
        }
    }

    /// The index of the first time in `lo..<hi` greater than `x` (`hi` when none is).
    @inline(__always)
    static func upperBound(_ times: UnsafeBufferPointer<Int64>, _ lo: Int, _ hi: Int, _ x: Int64) -> Int {
        var (lo, hi) = (lo, hi)
        while lo < hi {
            let mid = (lo + hi) >> 1
            if times[mid] <= x { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// The index of the first time in `lo..<hi` not less than `x`.
    @inline(__always)
    static func lowerBound(_ times: UnsafeBufferPointer<Int64>, _ lo: Int, _ hi: Int, _ x: Int64) -> Int {
        var (lo, hi) = (lo, hi)
        while lo < hi {
            let mid = (lo + hi) >> 1
            if times[mid] < x { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }
}

/// Where a node's reads of each series stopped at its last evaluation: steps move forward, so the next bound is
/// usually a step or two further and found by walking, not by a binary search. A time earlier than the last one (a
/// subquery's window going back) searches again.
final class Cursors {
    var reference: Int64 = .min
    var positions: [Int] = []
    var windowStarts: [Int] = []

    /// The first index in `lo..<hi` whose time is greater than `x` (not less than `x` when `strict` is false),
    /// starting from `from` when `x` did not go back.
    @inline(__always)
    static func bound(
        _ times: UnsafeBufferPointer<Int64>, _ lo: Int, _ hi: Int, _ x: Int64, from: Int?, strict: Bool
    ) -> Int {
        if var p = from, p >= lo, p <= hi {
            if strict {
                while p < hi && times[p] <= x { p += 1 }
            } else {
                while p < hi && times[p] < x { p += 1 }
            }
            return p
        }
        return strict ? SeriesSet.upperBound(times, lo, hi, x) : SeriesSet.lowerBound(times, lo, hi, x)
    }
}

/// Series assembled from a node's vectors at successive times: each element goes to the series of its slot (or of
/// its labels when it has none).
struct SeriesAssembly {
    var index: [PromLabels: Int] = [:]
    var bySlot: [Int] = []
    var series: [PromSeries] = []

    mutating func append(_ s: PromSample, at time: Int64) {
        var i = s.slot >= 0 && s.slot < bySlot.count ? bySlot[s.slot] : -1
        if i < 0 {
            if let found = index[s.labels] {
                i = found
            } else {
                i = series.count
                index[s.labels] = i
                series.append(PromSeries(labels: s.labels))
            }
            if s.slot >= 0 {
                if s.slot >= bySlot.count {
                    bySlot.append(contentsOf: repeatElement(-1, count: s.slot - bySlot.count + 1))
                }
                bySlot[s.slot] = i
            }
        }
        series[i].times.append(time)
        series[i].values.append(s.value)
    }
}

/// What one node derived per slot of its input: labels, and whether two slots gave the same labels (then its output
/// must be checked for duplicates at each step).
final class SlotTable {
    var labels: [PromLabels?] = []
    var owners: [PromLabels: Int] = [:]
    var collides = false

    @inline(__always)
    func get(_ slot: Int) -> PromLabels? { slot >= 0 && slot < labels.count ? labels[slot] : nil }

    func set(_ slot: Int, _ made: PromLabels) {
        if slot >= labels.count { labels.append(contentsOf: repeatElement(nil, count: slot - labels.count + 1)) }
        labels[slot] = made
        if let owner = owners[made], owner != slot { collides = true } else { owners[made] = slot }
    }
}
