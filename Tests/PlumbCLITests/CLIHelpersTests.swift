import ArgumentParser
import Foundation
import PlumbAPI
import PlumbTesting
import Testing

@testable import plumb

/// The `plumb` command's pure parts: how it prints numbers, reads answers, encodes names into paths and parses its
/// options. (The commands against a live server are tested in PlumbServerTests.)
@Suite("plumb CLI helpers")
struct CLIHelpersTests {
    @Test(
        "numbers print as they did through JSONSerialization: whole doubles without a fraction",
        arguments: [
            (60.0, "60"), (-3.0, "-3"), (0.5, "0.5"), (1e15, "1000000000000000"),
            (9_007_199_254_740_992, "9007199254740992.0"),
            (1.0e-7, "1e-07"), (123.25, "123.25"),
        ])
    func legacyNumber(_ value: Double, _ text: String) {
        #expect(LegacyJSONText.number(value) == text)
    }

    @Test("flags print as 1 and 0")
    func legacyFlag() {
        #expect(LegacyJSONText.flag(true) == "1" && LegacyJSONText.flag(false) == "0")
    }

    @Test("WireJSON writes sorted keys and unescaped slashes, and says which type an answer is not")
    func wireJSON() throws {
        let body = try WireJSON.encode(CreateSilenceRequest(alarm: "a/b", duration: "1h", comment: "c"))
        #expect(String(decoding: body, as: UTF8.self) == #"{"alarm":"a/b","comment":"c","duration":"1h"}"#)
        #expect(try WireJSON.decode(CreateSilenceRequest.self, body).alarm == "a/b")
        let error = #expect(throws: CLIError.self) { try WireJSON.decode(CreateSilenceRequest.self, Array("[]".utf8)) }
        #expect(error?.description.hasPrefix("the server's answer is not a CreateSilenceRequest") == true)
    }

    @Test(
        "a name becomes one path segment",
        arguments: [
            ("cpu-high", "cpu-high"), ("a/b", "a%2Fb"), ("ana@example.com", "ana@example.com"), ("x y?", "x%20y%3F"),
            ("é", "%C3%A9"),
        ])
    func pathSegment(_ name: String, _ segment: String) {
        #expect(ClientOptions.path(name) == segment)
    }

    @Test("client options: --server, --token and --output parse; an unknown format is refused")
    func clientOptions() throws {
        let options = try ClientOptions.parse([
            "--server", "http://10.0.0.1:9400", "--token", "t0k", "--output", "json",
        ])
        #expect(options.server == "http://10.0.0.1:9400")
        #expect(try options.resolvedToken() == "t0k")
        #expect(options.output == .json)
        #expect(throws: (any Error).self) { try ClientOptions.parse(["--output", "yaml"]) }
    }

    @Test("the built binary prints its version and refuses an unknown command")
    func binary() async throws {
        let version = try await CLI.run(["version"])
        #expect(version.status == 0)
        #expect(version.output == "plumb \(Plumb.version)\n")
        let unknown = try await CLI.run(["no-such-command"])
        #expect(unknown.status != 0)
        #expect(unknown.output.contains("no-such-command"))
    }

    @Test("plumb check validates the shipped alert files and dashboards")
    func checkShipped() async throws {
        let outcome = try await CLI.run([
            "check", "--alerts", Checkout.root + "/alerts", "--dashboards", Checkout.root + "/dashboards",
        ])
        #expect(outcome.status == 0, "\(outcome.output)")
        #expect(outcome.output.contains("alerts: "))
    }
}
