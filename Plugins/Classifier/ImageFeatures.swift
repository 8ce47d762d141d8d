import PlumbKit

/// Features of an image for the image model: a 8×8 grey thumbnail (64 values, 0…1, ink = dark), an 8-bin histogram
/// of gradient orientations weighted by magnitude (16×16 grey, Sobel), and a 4-level histogram per colour channel
/// (12). 84 values whatever the image's size.
public enum ImageFeatures {
    public static let count = 84
    public static let names: [String] = (0..<count).map { "img\($0)" }

    public static func compute(_ image: DecodedImage) -> [Double] {
        var features: [Double] = []
        features.reserveCapacity(count)
        let small = grey(image, side: 8)
        features += small.map { 1 - $0 }
        let medium = grey(image, side: 16)
        var orientation = [Double](repeating: 0, count: 8)
        for y in 1..<15 {
            for x in 1..<15 {
                func p(_ dx: Int, _ dy: Int) -> Double { medium[(y + dy) * 16 + x + dx] }
                let gx = (p(1, -1) + 2 * p(1, 0) + p(1, 1)) - (p(-1, -1) + 2 * p(-1, 0) + p(-1, 1))
                let gy = (p(-1, 1) + 2 * p(0, 1) + p(1, 1)) - (p(-1, -1) + 2 * p(0, -1) + p(1, -1))
                let magnitude = (gx * gx + gy * gy).squareRoot()
                guard magnitude > 1e-9 else { continue }
                var angle = atan2(gy, gx)
                if angle < 0 { angle += .pi }
                orientation[min(7, Int(angle / .pi * 8))] += magnitude
            }
        }
        let total = orientation.reduce(0, +)
        features += orientation.map { total > 0 ? $0 / total : 0 }
        var colour = [Double](repeating: 0, count: 12)
        let pixels = image.width * image.height
        let step = max(1, pixels / 4_096)
        var sampled = 0
        var i = 0
        while i < pixels {
            for c in 0..<3 { colour[c * 4 + min(3, Int(image.rgb[i * 3 + c]) / 64)] += 1 }
            sampled += 1
            i += step
        }
        features += colour.map { $0 / Double(max(1, sampled)) }
        return features
    }

    /// Box-averaged grey levels (0…1) on a side × side grid.
    static func grey(_ image: DecodedImage, side: Int) -> [Double] {
        var sums = [Double](repeating: 0, count: side * side)
        var counts = [Double](repeating: 0, count: side * side)
        for y in 0..<image.height {
            let cy = min(side - 1, y * side / image.height)
            for x in 0..<image.width {
                let cx = min(side - 1, x * side / image.width)
                let o = (y * image.width + x) * 3
                let value =
                    (0.299 * Double(image.rgb[o]) + 0.587 * Double(image.rgb[o + 1]) + 0.114 * Double(image.rgb[o + 2]))
                    / 255
                sums[cy * side + cx] += value
                counts[cy * side + cx] += 1
            }
        }
        return zip(sums, counts).map { $1 > 0 ? $0 / $1 : 1 }
    }
}

#if canImport(Glibc)
import Glibc
#endif
