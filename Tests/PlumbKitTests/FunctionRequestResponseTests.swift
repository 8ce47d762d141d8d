import Foundation
import PlumbKit
import PlumbTesting
import Testing

/// The plugin SDK's request and response helpers: the 400s a function answers for a bad body or query, and the JSON
/// it writes.
@Suite("FunctionRequest and FunctionResponse")
struct FunctionRequestResponseTests {
    struct Order: Codable, Equatable {
        var id: Int
        var items: [String]
        var note: String?
    }

    static func refusal(_ body: String) -> String? {
        do {
            _ = try FunctionRequest(body: Array(body.utf8)).decode(Order.self)
            return nil
        } catch let error as FunctionError {
            #expect(error.status == 400 && error.code == "InvalidParameterValue")
            return error.message
        } catch {
            return "unexpected \(error)"
        }
    }

    @Test("decode reads a good body")
    func decodes() throws {
        let order = try FunctionRequest(body: Array(#"{"id": 3, "items": ["a"], "extra": true}"#.utf8)).decode(
            Order.self)
        #expect(order == Order(id: 3, items: ["a"], note: nil))
    }

    @Test(
        "decode names the field a bad body gets wrong",
        arguments: [
            ("", "the request body is empty; expected JSON"),
            (#"{"items": []}"#, "'id' is required"),
            (#"{"id": "3", "items": []}"#, "'id' has the wrong type"),
            (#"{"id": 3, "items": null}"#, "'items' must not be null"),
            (#"{"id": 1e300, "items": []}"#, "'id' is out of range or not a whole number"),
            (#"{"id": 1.5, "items": []}"#, "'id' is out of range or not a whole number"),
            ("{not json", "the request body is not valid JSON"),
        ])
    func refuses(_ body: String, _ message: String) {
        #expect(Self.refusal(body) == message)
    }

    @Test("intQuery: the default when absent, the value within range, a 400 otherwise")
    func intQuery() throws {
        let request = FunctionRequest(query: ["k": "7", "big": "99", "word": "x"])
        #expect(try request.intQuery("absent", default: 5, range: 1...10) == 5)
        #expect(try request.intQuery("k", default: 5, range: 1...10) == 7)
        for name in ["big", "word"] {
            #expect(throws: FunctionError.self) { try request.intQuery(name, default: 5, range: 1...10) }
        }
    }

    @Test("json responses are sorted, unescaped JSON with their content type")
    func jsonResponse() throws {
        let response = try FunctionResponse.json(["b": "a/b", "a": "x"], status: 201)
        #expect(response.status == 201)
        #expect(response.headers == ["content-type": "application/json"])
        #expect(String(decoding: response.body, as: UTF8.self) == #"{"a":"x","b":"a/b"}"#)
        #expect(FunctionResponse.noContent().status == 204 && FunctionResponse.noContent().body.isEmpty)
    }

    @Test("JSONNumberProblem points at an out-of-range number before a fractional one")
    func numberProblem() {
        #expect(JSONNumberProblem.locate(in: Array(#"{"a": 1.5, "b": [1, 1e300]}"#.utf8)) == "b.1")
        #expect(JSONNumberProblem.locate(in: Array(#"{"a": 1.5, "b": 2}"#.utf8)) == "a")
        #expect(JSONNumberProblem.locate(in: Array(#"{"a": true, "b": 2}"#.utf8)) == nil)
        #expect(JSONNumberProblem.locate(in: Array("nope".utf8)) == nil)
    }

    @Test("throttling errors carry Lambda's reason and a Retry-After header")
    func throttled() {
        let reserved = FunctionError.throttled("f", reserved: true)
        #expect(reserved.status == 429 && reserved.reason == "ReservedFunctionConcurrentInvocationLimitExceeded")
        #expect(reserved.headers.map(\.name) == ["Retry-After"] && reserved.headers.first?.value == "1")
        #expect(FunctionError.badRequest("x").headers.isEmpty)
    }

    @Test("SplitMix64 is deterministic for a seed")
    func splitMix() {
        var a = SplitMix64(seed: 42)
        var b = SplitMix64(seed: 42)
        var c = SplitMix64(seed: 43)
        let first = (0..<4).map { _ in a.next() }
        #expect(first == (0..<4).map { _ in b.next() })
        #expect(first != (0..<4).map { _ in c.next() })
    }
}
