import Foundation
import PlumbOpen

/// The conformance test's data and queries.
enum PromQLCorpus {
    struct Series {
        var name: String
        var labels: [(String, String)]
        var samples: [(time: Int64, value: Double)] = []
    }

    struct Data {
        var series: [Series]

        /// OpenMetrics text for `promtool tsdb create-blocks-from openmetrics` (times in seconds).
        func openMetrics() -> String {
            var out = ""
            var typed = Set<String>()
            for s in series {
                if typed.insert(s.name).inserted { out += "# TYPE \(s.name) gauge\n" }
                let labels = s.labels.map { "\($0.0)=\"\($0.1)\"" }.joined(separator: ",")
                for sample in s.samples {
                    out += "\(s.name){\(labels)} \(PromQLJSON.format(sample.value)) \(sample.time)\n"
                }
            }
            return out + "# EOF\n"
        }

        /// Remote write requests of at most 40 series each (times in milliseconds).
        func remoteWriteBodies() throws -> [[UInt8]] {
            var bodies: [[UInt8]] = []
            var k = 0
            while k < series.count {
                let part = series[k..<min(series.count, k + 40)]
                k += part.count
                bodies.append(
                    try RemoteWriteBody.make(
                        part.map { s in
                            RemoteWriteBody.Series(
                                labels: [("__name__", s.name)] + s.labels.map { ($0.0, $0.1) },
                                samples: s.samples.map { ($0.value, $0.time * 1_000) })
                        }))
            }
            return bodies
        }
    }

    /// A deterministic generator (64-bit LCG), so every run loads the same shapes.
    struct Random {
        var state: UInt64
        mutating func next() -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(state >> 11) / Double(1 << 53)
        }
        mutating func int(_ n: Int) -> Int { Int(next() * Double(n)) }
    }

    /// An hour of data ending at `end` (epoch seconds), one sample each 15 s with a phase per series.
    static func data(end: Int64) -> Data {
        var random = Random(state: 42)
        var out: [Series] = []
        let start = end - 3_600
        func times(phase: Int64) -> StrideThrough<Int64> { stride(from: start + phase, through: end, by: 15) }
        // Counters with resets.
        var index: Int64 = 0
        for instance in 1...4 {
            for method in ["get", "post"] {
                for status in ["200", "500"] {
                    var s = Series(
                        name: "conf_requests_total",
                        labels: [("instance", "i\(instance)"), ("job", "api"), ("method", method), ("status", status)])
                    var value = Double(random.int(1_000))
                    for t in times(phase: index % 3 * 5) {
                        if random.next() < 0.02 { value = 0 } else { value += Double(random.int(40)) }
                        s.samples.append((t, value))
                    }
                    out.append(s)
                    index += 1
                }
            }
        }
        // Gauges: 240 rooms.
        for floor in 1...4 {
            for room in 1...60 {
                var s = Series(
                    name: "conf_temperature_celsius",
                    labels: [("floor", "f\(floor)"), ("room", String(format: "r%02d", room))])
                var value = Double(random.int(300)) / 10 - 5
                for t in times(phase: Int64(room % 3) * 5) {
                    value += (Double(random.int(21)) - 10) / 10
                    // A per-series offset keeps values of different rooms apart: `topk` and `bottomk` choose among
                    // equal values in an order of Prometheus' heap, which is not part of PromQL's meaning.
                    s.samples.append((t, (value * 10).rounded() / 10 + Double(floor * 100 + room) / 100_000))
                }
                out.append(s)
            }
        }
        // A classic histogram per instance, with a reset on i2 halfway.
        let bounds = ["0.05", "0.1", "0.25", "0.5", "1", "2.5", "+Inf"]
        for instance in 1...4 {
            var counts = [Double](repeating: 0, count: bounds.count)
            var sum = 0.0
            var series = bounds.map {
                Series(
                    name: "conf_latency_seconds_bucket",
                    labels: [("instance", "i\(instance)"), ("job", "api"), ("le", $0)])
            }
            var sumSeries = Series(
                name: "conf_latency_seconds_sum", labels: [("instance", "i\(instance)"), ("job", "api")])
            var countSeries = Series(
                name: "conf_latency_seconds_count", labels: [("instance", "i\(instance)"), ("job", "api")])
            for t in times(phase: 0) {
                if instance == 2 && t == start + 1_800 {
                    counts = counts.map { _ in 0 }
                    sum = 0
                }
                for _ in 0..<random.int(30) {
                    let v = random.next() * random.next() * 3
                    sum += (v * 1_000).rounded() / 1_000
                    for (i, b) in bounds.enumerated() where b == "+Inf" || v <= Double(b)! { counts[i] += 1 }
                }
                for i in bounds.indices { series[i].samples.append((t, counts[i])) }
                sumSeries.samples.append((t, (sum * 1_000).rounded() / 1_000))
                countSeries.samples.append((t, counts.last!))
            }
            out += series + [sumSeries, countSeries]
        }
        // Up, info, and a gauge with a gap (i4) and an end (i3, 20 minutes before the end).
        for instance in 1...4 {
            var up = Series(name: "conf_up", labels: [("instance", "i\(instance)"), ("job", "api")])
            var info = Series(
                name: "conf_info", labels: [("instance", "i\(instance)"), ("version", "1.\(instance).0")])
            var depth = Series(name: "conf_queue_depth", labels: [("instance", "i\(instance)"), ("job", "api")])
            for t in times(phase: 10) {
                up.samples.append((t, random.next() < 0.1 ? 0 : 1))
                info.samples.append((t, 1))
                if instance == 3 && t > end - 1_200 { continue }
                if instance == 4 && t > start + 1_200 && t < start + 1_800 { continue }
                depth.samples.append((t, Double(random.int(50))))
            }
            out += [up, info, depth]
        }
        return Data(series: out)
    }

    static let queries: [String] = [
        // Selectors, matchers, offset and @.
        "conf_up", "conf_up{instance=\"i2\"}", "conf_up{instance!=\"i2\"}", "conf_up{instance=~\"i[12]\"}",
        "conf_up{instance!~\"i[12]\"}", "{__name__=~\"conf_(up|info)\"}",
        "conf_temperature_celsius{room=~\"r0.\",floor=\"f1\"}",
        "conf_queue_depth", "conf_queue_depth offset 5m", "conf_queue_depth offset 25m", "conf_up offset -2m",
        "conf_up @ end()", "conf_up @ start()", "conf_queue_depth{instance=\"i3\"}",
        "conf_requests_total[5m]", "conf_queue_depth[2m] offset 1m", "conf_up[1m]",
        // Literals and scalar arithmetic.
        "1", "-2.5", "1 + 2 * 3", "2 ^ 3 ^ 2", "10 % 3", "5 > bool 3", "time()", "pi()", "-time() / 60",
        // Aggregations.
        "sum(conf_requests_total)", "sum by (instance) (conf_requests_total)",
        "sum without (method, status) (conf_requests_total)",
        "avg by (floor) (conf_temperature_celsius)", "min by (floor) (conf_temperature_celsius)",
        "max by (floor) (conf_temperature_celsius)", "count(conf_temperature_celsius > 20)",
        "count by (status) (conf_requests_total)", "stddev by (floor) (conf_temperature_celsius)",
        "stdvar(conf_temperature_celsius)", "topk(3, conf_temperature_celsius)", "bottomk(2, conf_temperature_celsius)",
        "topk by (floor) (1, conf_temperature_celsius)", "quantile(0.9, conf_temperature_celsius)",
        "quantile by (floor) (0.25, conf_temperature_celsius)", "count_values(\"value\", conf_up)",
        "count_values by (job) (\"depth\", conf_queue_depth)", "group by (job) (conf_requests_total)",
        "sum(conf_requests_total) by (method)", "avg without (room) (conf_temperature_celsius)",
        // Counter functions.
        "rate(conf_requests_total[5m])", "rate(conf_requests_total[1m])", "irate(conf_requests_total[5m])",
        "increase(conf_requests_total[10m])", "sum by (status) (rate(conf_requests_total[5m]))",
        "delta(conf_temperature_celsius{floor=\"f2\"}[5m])", "idelta(conf_temperature_celsius{floor=\"f3\"}[2m])",
        "deriv(conf_temperature_celsius{floor=\"f1\"}[10m])",
        "predict_linear(conf_temperature_celsius{floor=\"f4\"}[10m], 600)",
        "holt_winters(conf_queue_depth[10m], 0.5, 0.5)", "changes(conf_up[15m])", "resets(conf_requests_total[30m])",
        "rate(conf_requests_total[5m] offset 10m)", "rate(conf_requests_total[5m] @ end())",
        "increase(conf_latency_seconds_count[5m])",
        // Over time.
        "avg_over_time(conf_temperature_celsius{floor=\"f1\"}[5m])", "min_over_time(conf_queue_depth[10m])",
        "max_over_time(conf_queue_depth[10m])", "sum_over_time(conf_up[10m])", "count_over_time(conf_queue_depth[10m])",
        "quantile_over_time(0.5, conf_queue_depth[10m])", "stddev_over_time(conf_queue_depth[10m])",
        "stdvar_over_time(conf_queue_depth[10m])", "last_over_time(conf_queue_depth[10m])",
        "present_over_time(conf_queue_depth[3m])", "absent_over_time(conf_queue_depth{instance=\"i3\"}[5m])",
        "absent_over_time(conf_missing{job=\"x\"}[5m])",
        // Histograms.
        "histogram_quantile(0.9, rate(conf_latency_seconds_bucket[5m]))",
        "histogram_quantile(0.5, sum by (le) (rate(conf_latency_seconds_bucket[5m])))",
        "histogram_quantile(0.99, sum by (le, job) (increase(conf_latency_seconds_bucket[10m])))",
        "histogram_quantile(0.2, conf_latency_seconds_bucket)",
        "rate(conf_latency_seconds_sum[5m]) / rate(conf_latency_seconds_count[5m])",
        // Arithmetic between vectors and scalars.
        "conf_temperature_celsius{floor=\"f1\"} * 9 / 5 + 32", "2 * conf_up", "conf_queue_depth % 7",
        "conf_queue_depth ^ 0.5", "conf_temperature_celsius{floor=\"f2\"} - 20", "100 - conf_queue_depth",
        "-conf_queue_depth", "atan2(conf_queue_depth, 10)", "conf_queue_depth atan2 conf_queue_depth",
        // Comparisons.
        "conf_queue_depth > 25", "conf_queue_depth >= bool 25", "25 < conf_queue_depth", "conf_up == 0",
        "conf_up != bool 1", "conf_temperature_celsius{floor=\"f1\"} <= 10",
        "conf_queue_depth > conf_queue_depth offset 1m",
        // Vector matching.
        "conf_latency_seconds_sum / conf_latency_seconds_count", "conf_queue_depth + on(instance) conf_up",
        "conf_queue_depth - ignoring(job) conf_up", "conf_requests_total / on(instance, job) group_left conf_up",
        "conf_requests_total * on(instance) group_left(version) conf_info",
        "conf_info * on(instance) group_right(version) conf_requests_total",
        "sum by (instance) (rate(conf_requests_total[5m])) / on(instance) conf_up",
        "conf_up == on(instance) bool conf_up offset 1m",
        // Set operators.
        "conf_queue_depth and conf_up == 1", "conf_queue_depth or conf_up", "conf_queue_depth unless conf_up == 0",
        "conf_queue_depth and on(instance) conf_info", "conf_up or on(instance) conf_info",
        "conf_requests_total unless ignoring(method, status) conf_up == 0",
        // Math.
        "abs(conf_temperature_celsius{floor=\"f2\"})", "ceil(conf_temperature_celsius{floor=\"f3\"})",
        "floor(conf_temperature_celsius{floor=\"f3\"})", "round(conf_temperature_celsius{floor=\"f4\"})",
        "round(conf_temperature_celsius{floor=\"f4\"}, 5)", "round(conf_queue_depth, 0.3)",
        "clamp(conf_temperature_celsius{floor=\"f1\"}, 0, 20)", "clamp_min(conf_queue_depth, 10)",
        "clamp_max(conf_queue_depth, 10)", "clamp(conf_queue_depth, 10, 5)", "exp(conf_up)", "ln(conf_queue_depth)",
        "log2(conf_queue_depth)", "log10(conf_queue_depth)", "sqrt(conf_queue_depth)",
        "sgn(conf_temperature_celsius{floor=\"f2\"})", "sin(conf_queue_depth)", "cos(conf_queue_depth)",
        "tan(conf_queue_depth / 100)", "asin(conf_up)", "acos(conf_up)", "atan(conf_queue_depth)",
        "sinh(conf_up)", "cosh(conf_up)", "tanh(conf_queue_depth)", "asinh(conf_queue_depth)",
        "acosh(conf_queue_depth + 1)", "atanh(conf_up / 2)", "deg(conf_queue_depth)", "rad(conf_queue_depth)",
        // Labels.
        "label_replace(conf_up, \"host\", \"$1\", \"instance\", \"i(.*)\")",
        "label_replace(conf_up, \"instance\", \"\", \"instance\", \"i1\")",
        "label_replace(conf_requests_total, \"code_class\", \"${1}xx\", \"status\", \"(.).*\")",
        "label_join(conf_up, \"id\", \"-\", \"job\", \"instance\")",
        "label_join(conf_info, \"all\", \",\", \"instance\", \"version\", \"missing\")",
        // Time, conversion and absence.
        "timestamp(conf_queue_depth)", "timestamp(conf_queue_depth offset 3m)", "timestamp(sum(conf_up))",
        "vector(1)", "vector(time())", "scalar(sum(conf_up))", "scalar(conf_up)",
        "conf_queue_depth * scalar(count(conf_up))",
        "absent(conf_up)", "absent(conf_missing{job=\"api\",instance=~\"x\"})",
        "absent(conf_queue_depth{instance=\"i3\"})",
        "hour()", "minute()", "month()", "year()", "day_of_week()", "day_of_month()", "day_of_year()",
        "days_in_month()", "hour(timestamp(conf_up))", "minute(conf_queue_depth * 1000)",
        // Sorting (instant answers compared in order).
        "sort(conf_queue_depth)", "sort_desc(conf_queue_depth)", "sort(sum by (floor) (conf_temperature_celsius))",
        // Subqueries.
        "max_over_time(rate(conf_requests_total[5m])[20m:1m])", "avg_over_time(conf_queue_depth[10m:30s])",
        "min_over_time(sum by (instance) (conf_requests_total)[15m:2m] offset 5m)",
        "rate(sum(conf_requests_total)[10m:1m])", "sum_over_time(conf_up[5m:])",
        "max_over_time(deriv(conf_temperature_celsius{floor=\"f1\"}[5m])[10m:1m])",
        "count_over_time(conf_up[10m:1m] @ end())",
        // Refused alike.
        "conf_requests_total + on(job) conf_up",
        "conf_requests_total + conf_requests_total{method=\"get\"} * on(instance) conf_up",
        "sum(", "rate(conf_up)", "holt_winters(conf_up[5m], 2, 0.5)",
        "label_replace(conf_up, \"1x\", \"\", \"instance\", \"\")",
        "timestamp(conf_up @ end() offset 5m)", "holt_winters(conf_missing[5m], 2, 0.5)",
        "holt_winters(conf_queue_depth[10m], NaN, 0.5)",
        "label_replace(conf_up, \"h\", \"$h\", \"instance\", \"(?P<h>i)(.*)\")",
        "label_replace(conf_up, \"x\", \"$01\", \"instance\", \"i(.*)\")", "-(conf_up - conf_up)",
        "conf_up{instance=\"\"}", "abs({__name__=~\"conf_up|conf_queue_depth\"})",
        "rate({__name__=~\"conf_up|conf_queue_depth\"}[5m])", "-{__name__=~\"conf_up|conf_queue_depth\"} > 0",
    ]
}
