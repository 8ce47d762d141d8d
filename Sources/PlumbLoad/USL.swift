import Foundation

/// The Universal Scalability Law, X(N) = λN / (1 + σ(N−1) + κN(N−1)): λ the throughput of one unit of load, σ the
/// contention (serial fraction), κ the coherency cost. Fitted by non-linear least squares.
public struct USLFit: Sendable, Equatable {
    public var lambda: Double
    public var sigma: Double
    public var kappa: Double
    /// Coefficient of determination of the fit.
    public var r2: Double

    public init(lambda: Double, sigma: Double, kappa: Double, r2: Double) {
        self.lambda = lambda
        self.sigma = sigma
        self.kappa = kappa
        self.r2 = r2
    }

    public func throughput(_ n: Double) -> Double { lambda * n / (1 + sigma * (n - 1) + kappa * n * (n - 1)) }

    /// N* = √((1−σ)/κ), where throughput peaks; infinite when κ is 0.
    public var peak: Double { kappa > 0 ? ((1 - sigma) / kappa).squareRoot() : .infinity }
    public var peakThroughput: Double { peak.isFinite ? throughput(peak) : .infinity }

    /// Fits (N, X) points (N ≥ 1). The start comes from the linear form: with λ ≈ X(1)/1 (the smallest N's per-unit
    /// throughput), N·λ/X − 1 = σ(N−1) + κN(N−1) is linear in σ and κ; Levenberg–Marquardt then refines all three.
    public static func fit(_ points: [(n: Double, x: Double)]) throws -> USLFit {
        let pts = points.filter { $0.n >= 1 && $0.x > 0 }
        guard pts.count >= 3 else {
            throw LoadError("a USL fit needs at least 3 steps with throughput, got \(pts.count)")
        }
        let first = pts.min { $0.n < $1.n }!
        var lambda = first.x / first.n
        // Linear least squares for σ, κ with λ fixed: minimise Σ(y − σa − κb)², a = N−1, b = N(N−1).
        var saa = 0.0
        var sab = 0.0
        var sbb = 0.0
        var say = 0.0
        var sby = 0.0
        for p in pts {
            let y = p.n * lambda / p.x - 1
            let a = p.n - 1
            let b = p.n * (p.n - 1)
            saa += a * a
            sab += a * b
            sbb += b * b
            say += a * y
            sby += b * y
        }
        let det = saa * sbb - sab * sab
        var sigma = det != 0 ? max(0, (say * sbb - sby * sab) / det) : 0
        var kappa = det != 0 ? max(0, (saa * sby - sab * say) / det) : 0
        func residuals(_ l: Double, _ s: Double, _ k: Double) -> [Double] {
            pts.map { p in (l * p.n / (1 + s * (p.n - 1) + k * p.n * (p.n - 1)) - p.x) }
        }
        func cost(_ r: [Double]) -> Double { r.reduce(0) { $0 + $1 * $1 } }
        var mu = 1e-3
        var current = cost(residuals(lambda, sigma, kappa))
        for _ in 0..<500 {
            // Jacobian of the residuals by parameter (analytic).
            var jtj = [[Double]](repeating: [0, 0, 0], count: 3)
            var jtr = [0.0, 0, 0]
            for p in pts {
                let d = 1 + sigma * (p.n - 1) + kappa * p.n * (p.n - 1)
                let r = lambda * p.n / d - p.x
                let j = [p.n / d, -lambda * p.n * (p.n - 1) / (d * d), -lambda * p.n * p.n * (p.n - 1) / (d * d)]
                for a in 0..<3 {
                    jtr[a] += j[a] * r
                    for b in 0..<3 { jtj[a][b] += j[a] * j[b] }
                }
            }
            var improved = false
            for _ in 0..<20 {
                var m = jtj
                for a in 0..<3 {
                    m[a][a] *= 1 + mu
                    m[a][a] += 1e-30
                }
                guard let step = solve3(m, jtr.map { -$0 }) else {
                    mu *= 10
                    continue
                }
                let l = max(1e-12, lambda + step[0])
                let s = max(0, sigma + step[1])
                let k = max(0, kappa + step[2])
                let c = cost(residuals(l, s, k))
                if c < current {
                    let relative = (current - c) / max(current, 1e-300)
                    lambda = l
                    sigma = s
                    kappa = k
                    current = c
                    mu = max(mu / 10, 1e-12)
                    improved = relative > 1e-12
                    break
                }
                mu *= 10
            }
            if !improved { break }
        }
        let mean = pts.reduce(0) { $0 + $1.x } / Double(pts.count)
        let total = pts.reduce(0) { $0 + ($1.x - mean) * ($1.x - mean) }
        return USLFit(lambda: lambda, sigma: sigma, kappa: kappa, r2: total > 0 ? 1 - current / total : 1)
    }

    /// Gaussian elimination with partial pivoting for a 3×3 system.
    static func solve3(_ a: [[Double]], _ b: [Double]) -> [Double]? {
        var m = a
        var v = b
        for c in 0..<3 {
            let pivot = (c..<3).max { abs(m[$0][c]) < abs(m[$1][c]) }!
            guard abs(m[pivot][c]) > 1e-300 else { return nil }
            m.swapAt(c, pivot)
            v.swapAt(c, pivot)
            for r in (c + 1)..<3 {
                let f = m[r][c] / m[c][c]
                for k in c..<3 { m[r][k] -= f * m[c][k] }
                v[r] -= f * v[c]
            }
        }
        var x = [0.0, 0, 0]
        for r in stride(from: 2, through: 0, by: -1) {
            var s = v[r]
            for k in (r + 1)..<3 { s -= m[r][k] * x[k] }
            x[r] = s / m[r][r]
        }
        return x
    }
}
