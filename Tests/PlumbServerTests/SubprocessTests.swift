import Foundation
import PlumbTesting
import Testing

/// The test harness's child processes: exit statuses under concurrency (Foundation's own monitor and the kernel's
/// answer can race), a grandchild holding the output pipe, and the time limit.
@Suite("Subprocess", .serialized)
struct SubprocessTests {
    @Test("200 short children at once each report their own exit status and output")
    func concurrentStatuses() async throws {
        let outcomes = try await withThrowingTaskGroup(of: (Int, Int32, String).self) { group in
            for n in 0..<200 {
                group.addTask {
                    let run = try await Subprocess.run("/bin/sh", ["-c", "echo child-\(n); exit \(n % 7)"])
                    return (n, run.status, run.text)
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(outcomes.count == 200)
        let wrong = outcomes.filter { n, status, text in status != Int32(n % 7) || text != "child-\(n)\n" }
        #expect(wrong.isEmpty, "\(wrong.prefix(5))")
    }

    @Test("a grandchild that keeps the pipe open does not hold the caller; a child past its time limit is killed")
    func grandchildAndTimeLimit() async throws {
        // The grandchild sleeps 120 s; the call must come back long before (a launch can wait seconds for the
        // launch lock on a loaded 2-core machine, so the bound is generous: a fresh CI rehearsal took 10.1 s).
        let started = ContinuousClock.now
        let run = try await Subprocess.run("/bin/sh", ["-c", "sleep 120 & echo started; exit 3"])
        #expect(run.status == 3 && run.text == "started\n")
        #expect(ContinuousClock.now - started < .seconds(60), "returned once the child had exited")
        await #expect(throws: TestFailure.self) { try await Subprocess.run("/bin/sleep", ["30"], timeout: .seconds(1)) }
        let killed = try await Subprocess.run("/bin/sh", ["-c", "kill -9 $$"])
        #expect(killed.status == 128 + 9)
    }
}
