import PlumbAPI
import PlumbAlarms
import PlumbMetrics
import Testing

/// CloudWatch's documented missing-data tables (../shared/reference/cloudwatch.md), row by row: M of N = 3 of 3
/// and 2 of 3, an evaluation range of five points, `0` within the threshold, `X` breaching, `-` missing.
@Suite struct MissingDataTableTests {
    /// Expected state per treatment; nil means "keep current".
    struct Row: CustomStringConvertible {
        let points: String
        let missing: AlarmState?
        let ignore: AlarmState?
        let breaching: AlarmState
        let notBreaching: AlarmState
        var description: String { points }
    }

    static let threeOfThreeRows: [Row] = [
        Row(points: "0 - X - X", missing: .ok, ignore: .ok, breaching: .ok, notBreaching: .ok),
        Row(points: "0 - - - -", missing: .ok, ignore: .ok, breaching: .ok, notBreaching: .ok),
        Row(points: "- - - - -", missing: .insufficientData, ignore: nil, breaching: .alarm, notBreaching: .ok),
        Row(points: "0 X X - X", missing: .alarm, ignore: .alarm, breaching: .alarm, notBreaching: .alarm),
        Row(points: "- - - - X", missing: .insufficientData, ignore: nil, breaching: .alarm, notBreaching: .ok),
        Row(points: "X - - - -", missing: .alarm, ignore: nil, breaching: .alarm, notBreaching: .ok),
    ]

    static let twoOfThreeRows: [Row] = [
        Row(points: "0 - X - X", missing: .alarm, ignore: .alarm, breaching: .alarm, notBreaching: .alarm),
        Row(points: "0 0 X 0 X", missing: .alarm, ignore: .alarm, breaching: .alarm, notBreaching: .alarm),
        Row(points: "0 - X - -", missing: .ok, ignore: .ok, breaching: .alarm, notBreaching: .ok),
        Row(points: "- - - - 0", missing: .ok, ignore: .ok, breaching: .alarm, notBreaching: .ok),
        Row(points: "- - - - X", missing: .insufficientData, ignore: nil, breaching: .alarm, notBreaching: .ok),
    ]

    static func alarm(m: Int, treat: TreatMissingData) -> MetricAlarm {
        MetricAlarm(
            name: "t", series: SeriesKey(namespace: "T", name: "m"), statistic: .maximum, period: 60,
            evaluationPeriods: 3, datapointsToAlarm: m, comparison: .greaterThanThreshold, threshold: 1,
            treatMissingData: treat)
    }

    static func range(_ points: String) -> [EvaluationDatapoint] {
        points.split(separator: " ").enumerated().map { i, p in
            let value: Double? =
                switch p {
                case "X": 5
                case "0": 0
                default: nil
                }
            return EvaluationDatapoint(timestamp: 1_800_000_000 + Int64(i) * 60, value: value)
        }
    }

    func check(_ row: Row, m: Int) {
        let cases: [(TreatMissingData, AlarmState?)] = [
            (.missing, row.missing), (.ignore, row.ignore), (.breaching, row.breaching),
            (.notBreaching, row.notBreaching),
        ]
        for (treat, expected) in cases {
            let evaluation = AlarmEvaluator.evaluate(Self.alarm(m: m, treat: treat), range: Self.range(row.points))
            let want: AlarmEvaluation.Outcome = expected.map { .state($0) } ?? .keepCurrent
            #expect(evaluation.outcome == want, "\(m) of 3, \(row.points), \(treat)")
        }
    }

    @Test(arguments: threeOfThreeRows)
    func threeOfThree(_ row: Row) { check(row, m: 3) }

    @Test(arguments: twoOfThreeRows)
    func twoOfThree(_ row: Row) { check(row, m: 2) }

    /// "keep current" really keeps whatever state the alarm is in, through the engine.
    @Test(arguments: [AlarmState.ok, .alarm, .insufficientData])
    func ignoreKeepsEachState(_ initial: AlarmState) async throws {
        let engine = try await AlarmEngine(source: RecordedSeries(), store: nil, parallelism: 1)
        var config = AlarmConfiguration()
        config.alarms = [.metric(Self.alarm(m: 3, treat: .ignore))]
        try await engine.install(config, now: 0)
        engine.setInitialState("t", initial)
        await engine.tick(now: 1_800_000_000)
        #expect(engine.status("t")?.state == initial)
    }
}
