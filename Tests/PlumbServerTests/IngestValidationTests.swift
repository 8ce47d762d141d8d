import Foundation
import HummingbirdTesting
import PlumbAPI
import PlumbMetrics
import PlumbServerTesting
import PlumbTesting
import Testing

/// Every malformed request is rejected whole with a 4xx whose message names the problem, and nothing of it
/// is stored — including the valid lines and datums that came before the bad one.
@Suite("Ingest rejects malformed input")
struct IngestValidationTests {
    struct Case: CustomStringConvertible, Sendable {
        let body: String
        let expect: String
        var status: Int = 400
        var query = ""
        var description: String { "\(body.prefix(60)) → \(expect)" }
    }

    static let now = Int64(Date().timeIntervalSince1970)
    static let ns = now * 1_000_000_000

    static let lineCases: [Case] = [
        Case(body: "", expect: "empty body"),
        Case(body: " \n\n", expect: "empty body"),
        Case(body: "m f=1 -9223372036854775807", expect: "more than 14 days in the past", query: "?precision=s"),
        Case(body: "cpu", expect: "line 1: no fields"),
        Case(body: "cpu ", expect: "no fields after"),
        Case(body: "cpu,host=a", expect: "line 1: no fields"),
        Case(body: "cpu value", expect: "has no '=value'"),
        Case(body: "cpu value=", expect: "empty value"),
        Case(body: "cpu =1", expect: "empty field key"),
        Case(body: "cpu value=abc", expect: "'abc' is not a number"),
        Case(body: "cpu value=1.2.3", expect: "is not a number"),
        Case(body: "cpu value=1e", expect: "is not a number"),
        Case(body: "cpu value=12x", expect: "is not a number"),
        Case(body: "cpu value=12.5i", expect: "not a valid integer"),
        Case(body: "cpu value=99999999999999999999i", expect: "not a valid integer"),
        Case(body: "cpu value=-1u", expect: "not a valid unsigned integer"),
        Case(body: "cpu value=1.5u", expect: "not a valid unsigned integer"),
        Case(body: "cpu value=tru", expect: "is not a number"),
        Case(body: "cpu value=NaN", expect: "is not a number"),
        Case(body: "cpu value=inf", expect: "is not a number"),
        Case(body: "cpu value=1e400", expect: "not a finite number"),
        Case(body: "cpu value=1e300", expect: "larger than 2^360"),
        Case(body: "cpu value=\"unterminated", expect: "unterminated string"),
        Case(body: "cpu value=1 notatime", expect: "'notatime' is not an integer"),
        Case(body: "cpu value=1 1 2", expect: "unexpected text after the timestamp"),
        Case(body: "cpu value=1 1000", expect: "more than 14 days in the past"),
        Case(body: "cpu value=1 \(ns + 3 * 3_600 * 1_000_000_000)", expect: "more than 2 hours in the future"),
        Case(body: "cpu value=1 \(now - 15 * 86_400)", expect: "14 days", query: "?precision=s"),
        Case(body: ",host=a value=1", expect: "missing measurement"),
        Case(body: "cpu,host value=1", expect: "tag 'host' has no '=value'"),
        Case(body: "cpu,host= value=1", expect: "tag 'host' has an empty value"),
        Case(body: "cpu,=a value=1", expect: "empty key"),
        Case(body: "cpu,,host=a value=1", expect: "empty tag"),
        Case(body: "cpu,host=a,host=b value=1", expect: "'host' is given twice"),
        Case(body: "c$u value=1", expect: "has the character '$'"),
        Case(body: ":cpu value=1", expect: "must not start with ':'"),
        Case(body: String(repeating: "m", count: 300) + " value=1", expect: "longer than 255"),
        Case(
            body: "cpu," + (0..<31).map { "t\($0)=v" }.joined(separator: ",") + " value=1",
            expect: "31 dimensions (at most 30)"),
        Case(body: "cpu value=1,other", expect: "field 'other' has no '=value'"),
        Case(body: "cpu value=1\ncpu value=2\ncpu value=oops", expect: "line 3:"),
        Case(body: "cpu ok=1 \(ns)\n# comment\n\ncpu,host=a bad=1..2", expect: "line 4:"),
        Case(body: "cpu value=1", expect: "precision 'h' must be ns, us, ms or s", query: "?precision=h"),
        Case(body: "cpu value=1", expect: "resolution '5' must be 1 or 60", query: "?resolution=5"),
        Case(body: "cpu value=1\\", expect: "is not a number"),
        Case(body: "cpu\\", expect: "line ends inside an escape"),
    ]

    static let jsonCases: [Case] = [
        Case(body: "not json", expect: "not valid JSON"),
        Case(body: "[]", expect: "must be a JSON object"),
        Case(body: #"{"data": []}"#, expect: "'namespace' is required"),
        Case(body: #"{"namespace": "App"}"#, expect: "'data' is required"),
        Case(body: #"{"namespace": "App", "data": []}"#, expect: "'data' is empty"),
        Case(body: #"{"namespace": "App", "data": [{"value": 1}]}"#, expect: "data[0].name is required"),
        Case(
            body: #"{"namespace": "App", "data": [{"name": "m"}]}"#,
            expect: "one of 'value', 'values' or 'statistics' is required"),
        Case(
            body: #"{"namespace": "App", "data": [{"name": "m", "value": 1, "values": [1]}]}"#, expect: "exactly one of"
        ),
        Case(body: #"{"namespace": "App", "data": [{"name": "m", "value": "1"}]}"#, expect: "value must be a number"),
        Case(
            body: #"{"namespace": "App", "data": [{"name": "m", "value": 1, "unit": "Parsecs"}]}"#,
            expect: "data[0].unit must be one of"),
        Case(
            body: #"{"namespace": "App", "data": [{"name": "m", "value": 1, "timestamp": "yesterday"}]}"#,
            expect: "is not RFC 3339"),
        Case(
            body: #"{"namespace": "App", "data": [{"name": "m", "value": 1, "timestamp": 1000}]}"#,
            expect: "more than 14 days"),
        Case(
            body: #"{"namespace": "App", "data": [{"name": "m", "value": 1, "storageResolution": 5}]}"#,
            expect: "storageResolution must be 1 or 60"),
        Case(
            body: #"{"namespace": "App", "data": [{"name": "m", "values": [1, 2], "counts": [1]}]}"#,
            expect: "counts has 1 entries but values has 2"),
        Case(
            body: #"{"namespace": "App", "data": [{"name": "m", "values": [1], "counts": [-1]}]}"#,
            expect: "counts[0] must not be negative"),
        Case(
            body:
                #"{"namespace": "App", "data": [{"name": "m", "statistics": {"sampleCount": 2, "sum": 3, "min": 5, "max": 1}}]}"#,
            expect: "min is greater than max"),
        Case(
            body: #"{"namespace": "App", "data": [{"name": "m", "statistics": {"sum": 3, "min": 1, "max": 1}}]}"#,
            expect: "statistics.sampleCount is required"),
        Case(
            body: #"{"namespace": "App", "data": [{"name": "m", "value": 1, "dimensions": {"a": 1}}]}"#,
            expect: "dimensions.a must be a string"),
        Case(
            body: #"{"namespace": "App", "data": [{"name": "m", "value": 1, "dimensions": {"a": ""}}]}"#,
            expect: "'a' has an empty value"),
        Case(
            body: #"{"namespace": "App", "data": [{"name": "m", "value": 1, "colour": "red"}]}"#,
            expect: "unknown field 'colour'"),
        Case(
            body: #"{"namespace": "App", "data": [{"name": "ok", "value": 1}, {"name": "m", "value": 1e309}]}"#,
            expect: "not valid JSON"),
        Case(
            body: #"{"namespace": "App", "data": [{"name": "ok", "value": 1}, {"name": "", "value": 1}]}"#,
            expect: "data[1].name: metric name is empty"),
        Case(body: #"{"namespace": "Bad|Name", "data": [{"name": "m", "value": 1}]}"#, expect: "has the character '|'"),
        Case(
            body:
                #"{"namespace": "App", "data": [\#((0..<1_001).map { _ in #"{"name": "m", "value": 1}"# }.joined(separator: ","))]}"#,
            expect: "1001 datums in one request", status: 413),
        Case(
            body:
                #"{"namespace": "App", "data": [{"name": "m", "values": [\#((0..<151).map(String.init).joined(separator: ","))]}]}"#,
            expect: "151 values (at most 150)"),
        Case(
            body: #"{"namespace": "App", "data": [{"name": "m", "value": 1}], "extra": 1}"#,
            expect: "unknown field 'extra'"),
    ]

    @Test("line protocol", arguments: lineCases)
    func lineProtocol(_ c: Case) async throws {
        try await withTestServer { server, client in
            let response = try await client.admin("/write" + c.query, method: .post, body: c.body, server: server)
            #expect(Int(response.status.code) == c.status, "\(c): \(response.text)")
            #expect(response.text.contains(c.expect), "\(c): got \(response.text)")
            #expect(response.json["error"] != nil)
            #expect(try await server.store.listMetrics().isEmpty, "nothing of a rejected request is stored")
        }
    }

    @Test("JSON PutMetricData", arguments: jsonCases)
    func json(_ c: Case) async throws {
        try await withTestServer { server, client in
            let response = try await client.admin("/api/v1/metrics", method: .post, body: c.body, server: server)
            #expect(Int(response.status.code) == c.status, "\(c): \(response.text)")
            #expect(response.text.contains(c.expect), "\(c): got \(response.text)")
            #expect(try await server.store.listMetrics().isEmpty, "nothing of a rejected request is stored")
        }
    }

    @Test("a body over the limit is a 413")
    func oversize() async throws {
        try await withTestServer { server, client in
            let big =
                #"{"namespace": "App", "data": [{"name": "m", "value": 1, "unit": "\#(String(repeating: "x", count: 1_100_000))"}]}"#
            let response = try await client.admin("/api/v1/metrics", method: .post, body: big, server: server)
            #expect(response.status.code == 413)
            #expect(response.text.contains("RequestEntityTooLarge"))
        }
    }

    @Test("valid line protocol in full: escapes, all field types, strings skipped, precision")
    func validLineProtocol() async throws {
        try await withTestServer { server, client in
            let s = Self.now
            let body = """
                # a comment line
                my\\ measure,host\\,name=a\\ b\\=c,region=eu f\\=1=1.5,i=-3i,u=7u,t=T,s="he said \\"hi\\", ok",e=2E3 \(s)000
                my\\ measure,region=eu,host\\,name=a\\ b\\=c f\\=1=2.5 \(s)000

                """
            let response = try await client.admin("/write?precision=ms", method: .post, body: body, server: server)
            #expect(response.status.code == 204, "\(response.text)")
            #expect(response.headers[.init("X-Plumb-Skipped-String-Fields")!] == "1")
            let metrics = try await server.store.listMetrics()
            #expect(Set(metrics.map(\.key.name)) == ["f=1", "i", "u", "t", "e"])
            #expect(metrics.allSatisfy { $0.key.namespace == "my measure" })
            #expect(metrics.first!.key.dimensionDictionary == ["host,name": "a b=c", "region": "eu"])
            let f = try await server.store.statistics(
                StatisticsQuery(
                    series: SeriesKey(
                        namespace: "my measure", name: "f=1", dimensions: ["host,name": "a b=c", "region": "eu"]),
                    period: 60, start: s - 120, end: s + 60, statistics: [.sum, .sampleCount]))
            #expect(f.first?.values[.sum] == 4, "both lines land in the same series whatever the tag order")
            let i = try await server.store.statistics(
                StatisticsQuery(
                    series: SeriesKey(
                        namespace: "my measure", name: "i", dimensions: ["host,name": "a b=c", "region": "eu"]),
                    period: 60, start: s - 120, end: s + 60, statistics: [.minimum]))
            #expect(i.first?.values[.minimum] == -3)
        }
    }
}
