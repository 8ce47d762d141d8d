import Foundation
import PlumbAPI
import PlumbTesting
import Testing

/// The wire model on its own: what PlumbAPI's types accept, refuse and write, without a server.
@Suite("Wire model")
struct WireModelTests {
    static func roundTrip<T: Codable & Equatable>(_ value: T) throws -> T {
        try JSONDecoder().decode(T.self, from: JSONEncoder().encode(value))
    }

    @Test("request types survive encoding and decoding unchanged")
    func roundTrips() throws {
        let silence = CreateSilenceRequest(match: "checkout-*", duration: "2h", comment: "deploy")
        #expect(try Self.roundTrip(silence) == silence)
        let login = LoginRequest(user: "ana", password: "correct horse", code: "123456")
        #expect(try Self.roundTrip(login) == login)
        let key = SeriesKey(namespace: "App", name: "Latency", dimensions: ["region": "eu", "host": "a"])
        #expect(try Self.roundTrip(key) == key)
    }

    @Test("a login field that is not a string counts as missing")
    func loginRefusesNonStrings() {
        let error = #expect(throws: PlumbError.self) {
            try JSONDecoder().decode(LoginRequest.self, from: Data(#"{"user": 7, "password": "x"}"#.utf8))
        }
        #expect(error?.code == "MissingParameter")
    }

    @Test("the error shape: code and message always, reason and the problem list only when there are some")
    func errorBodyShape() throws {
        let plain = json(
            Array(try JSONEncoder().encode(ErrorBody(error: .init(code: "ResourceNotFound", message: "no alarm 'x'")))))
        #expect(Set(plain.keys) == ["error"])
        #expect(plain["error"] as? [String: String] == ["code": "ResourceNotFound", "message": "no alarm 'x'"])

        let listed = ErrorBody(
            error: .init(code: "ValidationError", message: "2 problems", reason: "AlertFile"),
            errors: [
                .init(file: "alerts/a.yaml", line: 12, field: "period", message: "must be a multiple of 60"),
                .init(message: "bare"),
            ])
        let object = json(Array(try JSONEncoder().encode(listed)))
        #expect((object["error"] as? [String: Any])?["reason"] as? String == "AlertFile")
        #expect((object["errors"] as? [[String: Any]])?.count == 2)
        #expect(try Self.roundTrip(listed) == listed)
        #expect(listed.errors?.map(\.description) == ["alerts/a.yaml:12: period: must be a multiple of 60", "bare"])
    }

    @Test("JSONValue reads every JSON shape and refuses what is not JSON with a 400 SerializationException")
    func jsonValue() throws {
        let value = try JSONValue.parse(Array(#"{"a": [1.5, true, null, "x"], "b": {}}"#.utf8))
        #expect(value == ["a": [1.5, true, nil, "x"], "b": .object([:])])
        #expect(value.object?["a"]?.typeName == "array")
        #expect(JSONValue.string("s").bool == nil && JSONValue.bool(false).bool == false)
        for bad in ["{", "", "{\"a\": }", "[1 2]", "nul"] {
            let error = #expect(throws: MetricsError.self, "\(bad)") { try JSONValue.parse(Array(bad.utf8)) }
            #expect(error?.code == "SerializationException" && error?.httpStatus == 400)
        }
        #expect(try Self.roundTrip(value) == value)
    }

    @Test("checked conversions answer nil instead of trapping")
    func checked() {
        #expect(Checked.int64(1e300) == nil)
        #expect(Checked.int64(.nan) == nil)
        #expect(Checked.int64(-2.5) == -3)
        #expect(Checked.int64(9_007_199_254_740_992) == 9_007_199_254_740_992)
        #expect(Checked.int64(9_007_199_254_740_994) == nil)
        #expect(Checked.epochSeconds(1_795_000_000.9) == 1_795_000_000)
        #expect(Checked.epochSeconds(1e12) == nil && Checked.epochSeconds(-.infinity) == nil)
        #expect(Checked.epochMilliseconds(1e14) == 100_000_000_000_000 && Checked.epochMilliseconds(1e15) == nil)
        #expect(
            Checked.floorDivision(-7, 2) == -4 && Checked.floorDivision(7, 2) == 3 && Checked.floorDivision(-6, 3) == -2
        )
        #expect(Checked.floorDivision(.min, 60) == Int64.min / 60 - 1)
        #expect(Checked.nanoseconds(seconds: 1.5) == 1_500_000_000)
        #expect(Checked.nanoseconds(seconds: -1) == nil && Checked.nanoseconds(seconds: 400 * 86_400) == nil)
        #expect(Checked.shown("a\nb\u{0}c") == "a?b?c")
        #expect(Checked.shown(String(repeating: "x", count: 70), limit: 4) == "xxxx…")
    }

    @Test("series keys sort their dimensions and keep their text form reversible")
    func seriesKey() {
        let key = SeriesKey(
            namespace: "App", name: "m",
            dimensions: [Dimension(name: "z", value: "1"), Dimension(name: "a", value: "x=y")])
        #expect(key.dimensions.map(\.name) == ["a", "z"])
        #expect(key.dimensionsText == "a=x=y\u{1F}z=1")
        #expect(SeriesKey.parseDimensionsText(key.dimensionsText) == key.dimensions)
        #expect(SeriesKey.parseDimensionsText("").isEmpty)
        #expect(key == SeriesKey(namespace: "App", name: "m", dimensions: ["z": "1", "a": "x=y"]))
        #expect(key.dimensionDictionary == ["a": "x=y", "z": "1"])
    }
}
