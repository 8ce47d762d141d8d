import Foundation
import PlumbAPI
import PlumbStore
import Testing

@testable import PlumbNotify

/// The alarm chart: its layout (threshold line, breach marks, evaluation band), the PNG it rasterises (decoded here
/// chunk by chunk, pixels checked where the marks are) and the SVG, for ordinary and hostile values.
@Suite("Alarm chart")
struct AlarmChartTests {
    /// 20 periods of 60 s: values 1…20, threshold 15 (GreaterThanThreshold), the newest 5 read by the evaluation.
    static let chart: AlarmChart = {
        var points: [AlarmChart.Point] = []
        for i in 0..<20 {
            let timestamp: Int64 = 1_800_000_000 + Int64(i) * 60
            points.append(
                AlarmChart.Point(timestamp: timestamp, value: Double(i + 1), breaching: i >= 15, evaluated: i >= 15))
        }
        return AlarmChart(points: points, threshold: 15, period: 60)
    }()

    /// Pixels of a PNG as `PNGEncoder` writes it (8-bit RGB, Sub filter), read back independently of the encoder.
    static func decode(_ png: [UInt8]) throws -> (width: Int, height: Int, rgb: [UInt8]) {
        #expect(Array(png.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        var position = 8
        var width = 0
        var height = 0
        var idat: [UInt8] = []
        var types: [String] = []
        func u32(_ at: Int) -> Int { png[at..<(at + 4)].reduce(0) { $0 << 8 | Int($1) } }
        while position + 12 <= png.count {
            let length = u32(position)
            let type = String(decoding: png[(position + 4)..<(position + 8)], as: UTF8.self)
            let data = Array(png[(position + 8)..<(position + 8 + length)])
            #expect(UInt32(u32(position + 8 + length)) == Zlib.crc32(Array(type.utf8) + data), "CRC of \(type)")
            types.append(type)
            if type == "IHDR" {
                (width, height) = (u32(position + 8), u32(position + 12))
                #expect(Array(data[8...]) == [8, 2, 0, 0, 0], "8-bit RGB, no interlace")
            }
            if type == "IDAT" { idat += data }
            position += 12 + length
        }
        #expect(types == ["IHDR", "IDAT", "IEND"])
        let stride = width * 3
        let raw = try Zlib.decompress(idat, originalSize: (stride + 1) * height)
        var rgb: [UInt8] = []
        for row in 0..<height {
            var line = Array(raw[(row * (stride + 1) + 1)..<((row + 1) * (stride + 1))])
            #expect(raw[row * (stride + 1)] == 1, "Sub filter")
            for i in 3..<stride { line[i] = line[i] &+ line[i - 3] }
            rgb += line
        }
        return (width, height, rgb)
    }

    static func pixel(
        _ image: (width: Int, height: Int, rgb: [UInt8]), _ x: Double, _ y: Double, scale: Double = 2
    ) -> (UInt8, UInt8, UInt8) {
        let i = (Int(y * scale) * image.width + Int(x * scale)) * 3
        return (image.rgb[i], image.rgb[i + 1], image.rgb[i + 2])
    }

    @Test(
        "the layout: a dashed threshold line, one dot per datapoint, the breaching five in red, the evaluated periods shaded"
    )
    func layout() {
        let marks = Self.chart.marks()
        let discs = marks.compactMap {
            if case .disc(let x, let y, let r, let fill) = $0 { (x, y, r, fill) } else { nil }
        }
        #expect(discs.count == 20)
        #expect(discs.filter { $0.3 == AlarmChart.breach }.count == 5)
        #expect(discs.filter { $0.3 == AlarmChart.breach }.allSatisfy { $0.2 > 4 }, "breaching dots are the big ones")
        let dashed = marks.compactMap {
            if case .line(let points, _, let color, let dash?) = $0 { (points, color, dash) } else { nil }
        }
        #expect(dashed.count == 1 && dashed[0].1 == AlarmChart.breach)
        // The threshold line is level with where 15 is drawn: the 15th dot (value 15) sits on it.
        let thresholdY = dashed[0].0[0].y
        #expect(abs(discs[14].1 - thresholdY) < 0.001, "\(discs[14].1) vs \(thresholdY)")
        #expect(discs[15].1 < thresholdY && discs[13].1 > thresholdY, "higher values are drawn higher")
        let band = marks.compactMap {
            if case .rect(let x, _, let w, _, let fill) = $0, fill == AlarmChart.band { (x, w) } else { nil }
        }
        let slot = (AlarmChart.width - AlarmChart.margin.left - AlarmChart.margin.right) / 20
        #expect(
            band.count == 1 && abs(band[0].0 - (AlarmChart.margin.left + 15 * slot)) < 0.001
                && abs(band[0].1 - 5 * slot) < 0.001)
        let labels = marks.compactMap { if case .text(_, _, let text, _, _) = $0 { text } else { nil } }
        #expect(["0", "5", "10", "15", "20"].allSatisfy(labels.contains), "y ticks every 5: \(labels)")
        let times = labels.filter { $0.contains(":") }
        #expect(
            times == ["08:19", "08:15", "08:11", "08:07", "08:03"], "every 4 periods back from the newest: \(labels)")
    }

    @Test(
        "the PNG shows what the layout says: red at the breaching dots and along the threshold, blue dots below it, white around"
    )
    func png() throws {
        let started = ContinuousClock.now
        let bytes = try Self.chart.png()
        let took = ContinuousClock.now - started
        let image = try Self.decode(bytes)
        #expect(image.width == 1_280 && image.height == 440)
        let marks = Self.chart.marks()
        let discs = marks.compactMap { if case .disc(let x, let y, _, let fill) = $0 { (x, y, fill) } else { nil } }
        for (x, y, fill) in discs {
            let (r, g, b) = Self.pixel(image, x, y)
            let found = ChartMark.Color(r, g, b)
            #expect(found == fill, "the dot at \(x), \(y) is \(found.hex)")
        }
        #expect(Self.pixel(image, 2, 2) == (255, 255, 255), "the corner is background")
        // Along the dashed threshold line, between the dots, some pixels are red.
        guard
            case .line(let points, _, _, _)? = marks.first(where: {
                if case .line(_, _, _, _?) = $0 { true } else { false }
            })
        else {
            Issue.record("no threshold line")
            return
        }
        let y = points[0].y
        let red = stride(from: points[0].x, to: points[1].x, by: 1).filter { x in
            let (r, g, b) = Self.pixel(image, x, y)
            return r > 150 && g < 120 && b < 110
        }
        #expect(red.count > 100, "\(red.count) red pixels along the threshold line")
        print("alarm chart PNG: \(bytes.count) bytes for 1280×440, drawn and encoded in \(took)")
    }

    @Test("the SVG holds the same marks: 20 circles, 5 of them red, the dashed line, labels escaped")
    func svg() {
        let svg = Self.chart.svg()
        #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"640\" height=\"220\""))
        #expect(svg.components(separatedBy: "<circle").count - 1 == 20)
        #expect(svg.components(separatedBy: "r=\"4.5\" fill=\"#c0392b\"").count - 1 == 5)
        #expect(svg.contains("stroke-dasharray"))
        #expect(
            svg.contains(
                "aria-label=\"Chart of 20 periods of 60 s, values from 1 to 20; threshold 15; 5 breaching datapoints.\""
            ))
    }

    @Test("extreme and missing values draw without trapping: ±1e300, NaN, infinity, no data at all, one period")
    func extremes() throws {
        let cases: [[Double?]] = [
            [1e300, -1e300, nil, 5], [.nan, .infinity, -.infinity], [nil, nil], [7], [1e-9, 2e-9], [-0.0, 0],
        ]
        for values in cases {
            let chart = AlarmChart(
                points: values.enumerated().map {
                    AlarmChart.Point(
                        timestamp: Int64($0.offset) * 10, value: $0.element, breaching: false, evaluated: true)
                },
                threshold: values.count == 2 ? 1e308 : 0, period: 10)
            let svg = chart.svg()
            #expect(!svg.lowercased().contains("nan") && !svg.contains("inf"), "\(values): \(svg.prefix(300))")
            let image = try Self.decode(try chart.png())
            #expect(image.width == 1_280)
        }
        let empty = AlarmChart(
            points: [.init(timestamp: 0, value: nil, breaching: false, evaluated: true)], threshold: 3, period: 60)
        #expect(empty.svg().contains(">no data</text>"))
    }

    @Test("tick labels are compact and use only characters the PNG font has")
    func labels() {
        let ticks = ChartAxis.ticks(covering: [0.1, 0.37, 0.25])
        #expect(ticks.ticks.first! <= 0.1 && ticks.ticks.last! >= 0.37 && ticks.ticks.count <= 6, "\(ticks)")
        #expect(ChartAxis.label(250, step: 50) == "250")
        #expect(ChartAxis.label(0.25, step: 0.05) == "0.25")
        #expect(ChartAxis.label(12_500, step: 2_500) == "12.5k")
        #expect(ChartAxis.label(3e6, step: 1e6) == "3M")
        #expect(ChartAxis.label(2e-5, step: 1e-5) == "2e-5")
        for value in [1e300, -1e300, 1e-300, 123_456.789, -0.5, 9.3e18] {
            let label = ChartAxis.label(value, step: abs(value) / 4)
            #expect(label.allSatisfy { BitmapFont.glyphs[$0] != nil && $0 != "?" }, "\(value) → \(label)")
        }
        #expect(ChartAxis.timeLabel(1_800_000_000, period: 60, span: 3_600) == "08:00")
        #expect(ChartAxis.timeLabel(1_800_000_005, period: 10, span: 600) == "08:00:05")
        #expect(ChartAxis.timeLabel(1_800_000_000, period: 3_600, span: 200_000) == "01-15 08:00")
    }
}
