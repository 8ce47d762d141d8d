import Foundation
import Metrics
import PlumbKit

extension PluginHost {
    /// Runs one queued event through the invocation pipeline as a `POST /` with the payload as its JSON body, and
    /// tells the queue what became of it: a 429 is a throttle (retried with backoff), a 4xx/5xx answer or a thrown
    /// error a function error (retried by the function's settings).
    public func invokeAsyncEvent(_ event: AsyncEventQueue.Event) async -> AsyncEventQueue.Outcome {
        guard let function = self.function(named: event.function) else {
            return .functionError("no function named '\(event.function)'")
        }
        Metrics.Timer(label: "Plumb/Functions/AsyncEventAge", dimensions: [("Function", event.function)])
            .recordNanoseconds(Int64(max(0, Date().timeIntervalSince1970 - event.receivedAt) * 1e9))
        do {
            let response = try await invoke(
                function,
                FunctionRequest(
                    method: .post, path: "/", headers: ["content-type": "application/json"], body: event.payload))
            guard response.status >= 400 else { return .success }
            return .functionError(
                "status \(response.status): \(String(decoding: response.body.prefix(500), as: UTF8.self))")
        } catch let error as FunctionError where error.status == 429 {
            return .throttled(error.message)
        } catch let error as FunctionError {
            return .functionError("\(error.code): \(error.message)")
        } catch {
            return .functionError("\(error)")
        }
    }

    /// Queues an async invocation of a hosted function (a topic's `function` subscription, Lambda's `Event`
    /// invocation type); throws when there is no such function or the queue cannot store the event.
    public func enqueueAsyncEvent(function: String, payload: [UInt8], on queue: any AsyncEventStoring) async throws {
        guard let f = self.function(named: function) else { throw NoSuchFunction(name: function) }
        try await queue.enqueue(function: function, payload: payload, now: Date().timeIntervalSince1970)
        f.countAsyncEvent()
    }
}
