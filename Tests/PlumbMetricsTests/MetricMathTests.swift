import Foundation
import PlumbAPI
import PlumbMetrics
import Testing

/// Metric math against hand-computed series: a 60 s grid of six periods starting at t = 0.
@Suite("MetricMath")
struct MetricMathTests {
    static let grid: [Int64] = [0, 60, 120, 180, 240, 300]
    /// i: invocations with a gap at 120; e: errors, present at 60 and 180 only; z: zeros.
    static let inputs: [String: [Int64: Double]] = [
        "i": [0: 10, 60: 20, 180: 40, 240: 0, 300: 50],
        "e": [60: 2, 180: 4],
        "z": [0: 0, 60: 0],
        "c": [0: 100, 60: 160, 120: 190, 240: 310],
    ]

    static func run(_ expression: String) throws -> [Int64: Double] {
        let queries =
            inputs.keys.sorted().map {
                MetricDataQuery(id: $0, returnData: false, source: .metric(SeriesKey(namespace: "T", name: $0), .sum))
            }
            + [MetricDataQuery(id: "r", source: .expression(try MetricMath.parse(expression), text: expression))]
        let result = try #require(try MetricData.evaluate(queries, grid: grid, metrics: inputs).first)
        #expect(result.id == "r")
        return Dictionary(uniqueKeysWithValues: zip(result.timestamps, result.values))
    }

    static let cases: [(String, [Int64: Double])] = [
        // Missing counts as 0 between two series; missing in both stays missing (120).
        ("i + e", [0: 10, 60: 22, 180: 44, 240: 0, 300: 50]),
        ("e - i", [0: -10, 60: -18, 180: -36, 240: 0, 300: -50]),
        // Division by zero drops the point: e/i at 240 (0/0); 100*e/i where e is missing is 0.
        ("100 * e / i", [0: 0, 60: 10, 180: 10, 300: 0]),
        ("i / z", [:]),
        // A series with a number: only where the series has a value.
        ("i * 2 + 1", [0: 21, 60: 41, 180: 81, 240: 1, 300: 101]),
        ("-e", [60: -2, 180: -4]),
        ("(i + e) / 2", [0: 5, 60: 11, 180: 22, 240: 0, 300: 25]),
        // FILL: a constant, the last earlier value, a line between neighbours (edges stay missing).
        ("FILL(e, 0)", [0: 0, 60: 2, 120: 0, 180: 4, 240: 0, 300: 0]),
        ("FILL(e, REPEAT)", [60: 2, 120: 2, 180: 4, 240: 4, 300: 4]),
        ("FILL(e, LINEAR)", [60: 2, 120: 3, 180: 4]),
        ("FILL(i, LINEAR)", [0: 10, 60: 20, 120: 30, 180: 40, 240: 0, 300: 50]),
        // RATE per second between present points; DIFF; RUNNING_SUM.
        ("RATE(c)", [60: 1, 120: 0.5, 240: 1]),
        ("DIFF(c)", [60: 60, 120: 30, 240: 120]),
        ("RUNNING_SUM(e)", [60: 2, 180: 6]),
        // Of a list, per timestamp over the members present there; of one series, one number on every period.
        ("SUM([i, e])", [0: 10, 60: 22, 180: 44, 240: 0, 300: 50]),
        ("AVG([i, e])", [0: 10, 60: 11, 180: 22, 240: 0, 300: 50]),
        ("MAX([i, e])", [0: 10, 60: 20, 180: 40, 240: 0, 300: 50]),
        ("MIN([i, e])", [0: 10, 60: 2, 180: 4, 240: 0, 300: 50]),
        ("SUM(e)", [0: 6, 60: 6, 120: 6, 180: 6, 240: 6, 300: 6]),
        ("100 * SUM(e) / SUM(i)", [0: 5, 60: 5, 120: 5, 180: 5, 240: 5, 300: 5]),
        ("ABS(e - i)", [0: 10, 60: 18, 180: 36, 240: 0, 300: 50]),
        ("2 * 3 + 1", [0: 7, 60: 7, 120: 7, 180: 7, 240: 7, 300: 7]),
    ]

    @Test("expressions evaluate to the hand-computed series", arguments: 0..<cases.count)
    func table(_ index: Int) throws {
        let (expression, expected) = Self.cases[index]
        let got = try Self.run(expression)
        #expect(
            got.keys.sorted() == expected.keys.sorted(),
            "\(expression): timestamps \(got.keys.sorted()) vs \(expected.keys.sorted())")
        for (t, v) in expected {
            #expect(abs((got[t] ?? .nan) - v) < 1e-9, "\(expression) at \(t): \(got[t] ?? .nan) vs \(v)")
        }
    }

    @Test("syntax errors name the character; unknown ids, cycles, lists and bad ids are refused")
    func errors() throws {
        #expect(throws: MetricMath.SyntaxError.self) { try MetricMath.parse("i +") }
        do {
            _ = try MetricMath.parse("i + * e")
            Issue.record("parsed")
        } catch let e as MetricMath.SyntaxError {
            #expect(e.position == 5, "\(e)")
        }
        do {
            _ = try MetricMath.parse("LOG(i)")
            Issue.record("parsed")
        } catch let e as MetricMath.SyntaxError {
            #expect(e.message.contains("unknown function LOG"), "\(e)")
        }
        #expect(throws: MetricMath.SyntaxError.self) { try MetricMath.parse("FILL(i, 0") }
        func evaluate(_ queries: [MetricDataQuery]) throws {
            _ = try MetricData.evaluate(queries, grid: Self.grid, metrics: Self.inputs)
        }
        let i = MetricDataQuery(id: "i", source: .metric(SeriesKey(namespace: "T", name: "i"), .sum))
        func expression(_ id: String, _ text: String) throws -> MetricDataQuery {
            MetricDataQuery(id: id, source: .expression(try MetricMath.parse(text), text: text))
        }
        #expect(throws: MetricsError.self) { try evaluate([i, try expression("r", "i + x")]) }
        #expect(throws: MetricsError.self) {
            try evaluate([try expression("a", "b + 1"), try expression("b", "a * 2")])
        }
        #expect(throws: MetricsError.self) { try evaluate([i, try expression("r", "[i, i]")]) }
        #expect(throws: MetricsError.self) {
            try evaluate([MetricDataQuery(id: "Bad", source: .metric(SeriesKey(namespace: "T", name: "i"), .sum))])
        }
        #expect(throws: MetricsError.self) { try evaluate([i, i]) }
        // Expressions may read expressions, in any order.
        let chained = try MetricData.evaluate(
            [
                try expression("b", "a * 2"), try expression("a", "i + 1"),
                MetricDataQuery(
                    id: "i", returnData: false, source: .metric(SeriesKey(namespace: "T", name: "i"), .sum)),
            ],
            grid: Self.grid, metrics: Self.inputs)
        #expect(chained.map(\.id) == ["b", "a"] && chained[0].values == [22, 42, 82, 2, 102])
    }

    @Test("decoding queries from JSON names the field at fault")
    func decoding() throws {
        let good: JSONValue = [
            [
                "id": "i",
                "metric": ["namespace": "Plumb/Functions", "name": "Invocations", "dimensions": ["Function": "f"]],
                "stat": "Sum", "return": false,
            ],
            ["id": "r", "expression": "100 * i", "label": "x"],
        ]
        let queries = try MetricData.decodeQueries(good, at: "queries")
        #expect(queries.count == 2 && queries[0].returnData == false && queries[1].label == "x")
        for (bad, fragment) in [
            ([["id": "i"]] as JSONValue, "queries[0] needs metric or expression"),
            ([["id": "i", "expression": "1 +"]], "queries[0].expression '1 +'"),
            ([["id": "i", "metric": ["namespace": "N", "name": "M"], "stat": "Median"]], "queries[0].stat 'Median'"),
            ([["id": "i", "metric": ["name": "M"]]], "queries[0].metric.namespace"),
            ([["id": "i", "expresion": "1"]], "unknown field 'expresion'"),
        ] {
            do {
                _ = try MetricData.decodeQueries(bad, at: "queries")
                Issue.record("accepted \(bad)")
            } catch let e as MetricsError {
                #expect(e.message.contains(fragment), "\(e.message)")
            }
        }
    }
}
