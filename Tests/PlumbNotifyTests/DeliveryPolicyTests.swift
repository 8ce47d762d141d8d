import PlumbNotify
import Testing

@Suite struct DeliveryPolicyTests {
    @Test func snsDefaultIsThreeRetriesTwentySecondsApart() {
        let p = DeliveryPolicy.webhookDefault
        #expect(p.numRetries == 3)
        #expect((1...3).map { p.delay(beforeRetry: $0) } == [20, 20, 20])
    }

    @Test func backoffShapesRunFromMinToMax() {
        for backoff in DeliveryPolicy.Backoff.allCases {
            let p = DeliveryPolicy(numRetries: 5, minDelay: 2, maxDelay: 32, backoff: backoff)
            let delays = (1...5).map { p.delay(beforeRetry: $0) }
            #expect(abs(delays.first! - 2) < 1e-9, "\(backoff)")
            #expect(abs(delays.last! - 32) < 1e-9, "\(backoff)")
            #expect(zip(delays, delays.dropFirst()).allSatisfy { $0 <= $1 }, "\(backoff) \(delays)")
        }
        let exponential = DeliveryPolicy(numRetries: 5, minDelay: 2, maxDelay: 32, backoff: .exponential)
        #expect(
            (1...5).map { exponential.delay(beforeRetry: $0) }.map { ($0 * 1e6).rounded() / 1e6 } == [2, 4, 8, 16, 32])
        // Geometric front-loads, arithmetic back-loads, relative to linear.
        let mid = 3
        let linear = DeliveryPolicy(numRetries: 5, minDelay: 2, maxDelay: 32, backoff: .linear).delay(beforeRetry: mid)
        #expect(
            DeliveryPolicy(numRetries: 5, minDelay: 2, maxDelay: 32, backoff: .geometric).delay(beforeRetry: mid)
                > linear)
        #expect(
            DeliveryPolicy(numRetries: 5, minDelay: 2, maxDelay: 32, backoff: .arithmetic).delay(beforeRetry: mid)
                < linear)
    }

    @Test func jitterStaysWithinTenPercent() {
        let p = DeliveryPolicy.webhookDefault
        for _ in 0..<1_000 {
            let d = p.jitteredDelay(beforeRetry: 1)
            #expect(d >= 18 && d <= 22)
        }
    }

    @Test func snsBoundsAreEnforced() {
        #expect(DeliveryPolicy(numRetries: 101).validate() != nil)
        #expect(DeliveryPolicy(numRetries: 3, minDelay: 30, maxDelay: 20).validate() != nil)
        #expect(DeliveryPolicy(numRetries: 3, minDelay: 1, maxDelay: 3_601).validate() != nil)
        #expect(DeliveryPolicy(numRetries: 100, minDelay: 60, maxDelay: 60).validate() != nil)  // 6000 s > 3600 s
        #expect(DeliveryPolicy(numRetries: 10, minDelay: 2, maxDelay: 8, backoff: .exponential).validate() == nil)
        #expect(DeliveryPolicy.emailDefault.validate() == nil)
    }
}
