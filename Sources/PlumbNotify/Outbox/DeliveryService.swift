import AsyncHTTPClient
import Foundation
import Logging
import Metrics
import NIOCore
import ServiceLifecycle
import Synchronization

/// Sends pending deliveries from the outbox with SNS's retry rules, and records every attempt.
///
/// A webhook delivery succeeds on 2xx. 429, 5xx, timeouts (15 s) and connection errors are retried by the
/// subscription's policy (else the topic's, else SNS's defaults: webhooks 3 retries 20 s apart; email a 6-hour
/// exponential schedule); other 4xx and 3xx answers fail at once. Exhausted deliveries stay `failed`. Pending
/// ones survive restarts because their state lives in SQLite, and each keeps the message's id, so a receiver
/// that sees one twice (a crash after sending, before recording) can de-duplicate.
public final class DeliveryService: Service, Sendable {
    public struct Settings: Sendable {
        public var smtp: SMTPSettings?
        /// Base URL of this server, for links (subscription confirmation, Alertmanager's externalURL).
        public var publicURL: String
        public var maxConcurrentDeliveries: Int
        /// Seconds a webhook receiver has to answer (SNS: 15).
        public var httpTimeout: Double
        public var pollInterval: Duration
        /// Seconds between sends of a firing alert to an Alertmanager (Prometheus's `resend_delay`, 1 minute); each
        /// send's `endsAt` is 4 times this ahead, as Prometheus sets it, so the alert outlives a few lost sends.
        public var alertmanagerResendInterval: Double

        public init(
            smtp: SMTPSettings? = nil, publicURL: String, maxConcurrentDeliveries: Int = 16, httpTimeout: Double = 15,
            pollInterval: Duration = .milliseconds(100), alertmanagerResendInterval: Double = 60
        ) {
            self.smtp = smtp
            self.publicURL = publicURL
            self.maxConcurrentDeliveries = maxConcurrentDeliveries
            self.httpTimeout = httpTimeout
            self.pollInterval = pollInterval
            self.alertmanagerResendInterval = alertmanagerResendInterval
        }
    }

    enum Attempt: Sendable {
        case delivered
        case retry(String)
        case fail(String)
        /// Not sent: a later delivery carries what this one would have said.
        case superseded(String)
    }

    public let outbox: any NotificationStoring
    public let settings: Settings
    let httpClient: HTTPClient
    let logger: Logger
    let environment: @Sendable (String) -> String?
    /// Where `protocol: function` subscriptions deliver; nil: they fail (no host to run functions).
    let functions: (any FunctionSubscriptionTarget)?
    /// Signs SNS-format deliveries; nil: they fail (no signing key).
    let sns: SNSMessages?
    private let inFlight = Mutex<Set<Int64>>([])

    public init(
        outbox: any NotificationStoring, settings: Settings, functions: (any FunctionSubscriptionTarget)? = nil,
        sns: SNSMessages? = nil, httpClient: HTTPClient = .shared,
        logger: Logger = Logger(label: "plumb.notify"),
        environment: @escaping @Sendable (String) -> String? = { ProcessInfo.processInfo.environment[$0] }
    ) {
        self.functions = functions
        self.sns = sns
        self.outbox = outbox
        self.settings = settings
        self.httpClient = httpClient
        self.logger = logger
        self.environment = environment
    }

    public func run() async throws {
        await withDiscardingTaskGroup { group in
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                let busy = inFlight.withLock { $0 }
                let now = Date().timeIntervalSince1970
                let due: [Outbox.Delivery]
                do {
                    due = try await outbox.due(
                        now: now, limit: settings.maxConcurrentDeliveries - busy.count, excluding: busy)
                } catch {
                    logger.error("cannot read the outbox: \(error)")
                    due = []
                }
                for delivery in due {
                    inFlight.withLock { _ = $0.insert(delivery.id) }
                    group.addTask {
                        await self.deliver(delivery)
                        self.inFlight.withLock { _ = $0.remove(delivery.id) }
                    }
                }
                // A backlog is drained as fast as slots free up; an empty outbox is polled every `pollInterval`.
                let backlog = !due.isEmpty || busy.count >= settings.maxConcurrentDeliveries
                let pause = backlog ? min(settings.pollInterval, .milliseconds(10)) : settings.pollInterval
                do {
                    try await cancelWhenGracefulShutdown { try await Task.sleep(for: pause) }
                } catch {
                    break
                }
            }
        }
    }

    /// One attempt at one delivery, recorded in the outbox.
    func deliver(_ delivery: Outbox.Delivery) async {
        let attempts = delivery.attempts + 1
        let (result, policy) = await attempt(delivery)
        let now = Date().timeIntervalSince1970
        let dimensions = [("Topic", delivery.topic), ("Protocol", delivery.protocol.rawValue)]
        do {
            switch result {
            case .delivered:
                try await outbox.markDelivered(delivery.id, attempts: attempts, now: now)
                Counter(label: "Plumb/Notify/NumberOfNotificationsDelivered", dimensions: dimensions).increment()
                Counter(label: Self.usageLabel(delivery.protocol), dimensions: [("Topic", delivery.topic)]).increment()
            case .superseded(let reason):
                try await outbox.markSuperseded(delivery.id, attempts: attempts - 1, reason: reason, now: now)
            case .retry(let error) where attempts <= policy.numRetries:
                let next = now + policy.jitteredDelay(beforeRetry: attempts)
                try await outbox.markRetry(delivery.id, attempts: attempts, nextAttemptAt: next, error: error, now: now)
                logger.info(
                    "delivery will be retried",
                    metadata: [
                        "delivery": "\(delivery.id)", "topic": "\(delivery.topic)", "attempt": "\(attempts)",
                        "error": "\(error)",
                    ])
            case .retry(let error), .fail(let error):
                let reason = attempts > 1 ? "\(error) (gave up after \(attempts) attempts)" : error
                try await outbox.markFailed(delivery.id, attempts: attempts, error: reason, now: now)
                Counter(label: "Plumb/Notify/NumberOfNotificationsFailed", dimensions: dimensions).increment()
                logger.warning(
                    "delivery failed",
                    metadata: ["delivery": "\(delivery.id)", "topic": "\(delivery.topic)", "error": "\(reason)"])
            }
        } catch {
            logger.error("cannot record delivery \(delivery.id): \(error)")
        }
    }

    /// The `Plumb/Usage` counter of a delivery, by how SNS prices it: email, HTTP (webhooks and Alertmanager) or
    /// a function (free).
    static func usageLabel(_ kind: SubscriptionProtocol) -> String {
        switch kind {
        case .email: "Plumb/Usage/EmailNotifications"
        case .webhook, .alertmanager: "Plumb/Usage/HTTPNotifications"
        case .function: "Plumb/Usage/FunctionNotifications"
        }
    }

    func attempt(_ delivery: Outbox.Delivery) async -> (Attempt, DeliveryPolicy) {
        let fallback = delivery.protocol == .email ? DeliveryPolicy.emailDefault : DeliveryPolicy.webhookDefault
        let message: Outbox.Message
        let subscription: Outbox.Subscription
        do {
            guard let m = try await outbox.message(id: delivery.messageID) else {
                return (.fail("the message is gone"), fallback)
            }
            guard let s = try await outbox.subscription(id: delivery.subscriptionID) else {
                return (.fail("the subscription was removed"), fallback)
            }
            message = m
            subscription = s
        } catch {
            return (.retry("cannot read the outbox: \(error)"), fallback)
        }
        let topicPolicy = (try? await outbox.topic(delivery.topic))?.flatMap(\.deliveryPolicy)
        let policy = subscription.definition.deliveryPolicy ?? topicPolicy ?? fallback
        switch delivery.protocol {
        case .webhook: return (await sendWebhook(message, subscription: subscription), policy)
        case .email: return (await sendEmail(message, to: delivery.endpoint), policy)
        case .function:
            return (await sendToFunction(message, function: delivery.endpoint, subscription: subscription), policy)
        case .alertmanager: return (await sendToAlertmanager(message, subscription: subscription), policy)
        }
    }

    func sendWebhook(_ message: Outbox.Message, subscription: Outbox.Subscription) async -> Attempt {
        if subscription.definition.format == .sns { return await sendSNS(message, subscription: subscription) }
        let body: Data
        if subscription.definition.format == .alertmanagerWebhook && message.type == "Notification" {
            body = WebhookPayload.alertmanagerWebhook(message, externalURL: settings.publicURL)
        } else {
            body = WebhookPayload.plumb(message)
        }
        var request = HTTPClientRequest(url: subscription.definition.endpoint)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "plumb-notify")
        request.headers.add(name: "X-Plumb-Message-Id", value: message.id)
        request.headers.add(name: "X-Plumb-Message-Type", value: message.type)
        request.headers.add(name: "X-Plumb-Topic", value: message.topic)
        var secret = subscription.definition.secret
        if let name = subscription.definition.secretEnv {
            guard let value = environment(name), !value.isEmpty else {
                return .fail("the webhook secret's environment variable \(name) is not set; not sending unsigned")
            }
            secret = value
        }
        if let secret {
            request.headers.add(name: "X-Plumb-Signature", value: WebhookPayload.signature(body: body, secret: secret))
        }
        request.body = .bytes(ByteBuffer(bytes: body))
        return await post(request)
    }

    /// SNS's own message, signed, to a subscription made through the SNS API.
    func sendSNS(_ message: Outbox.Message, subscription: Outbox.Subscription) async -> Attempt {
        guard let sns else { return .fail("no SNS signing key: SNS-format messages cannot be signed here") }
        let rendered: (body: Data, headers: [(String, String)])
        do { rendered = try sns.render(message, subscription: subscription) } catch {
            return .fail("the SNS message could not be signed: \(error)")
        }
        var request = HTTPClientRequest(url: subscription.definition.endpoint)
        request.method = .POST
        for (name, value) in rendered.headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: rendered.body))
        return await post(request)
    }

    /// Sends `request`: 2xx is delivered; 429, 5xx, timeouts and connection errors are retried; any other answer
    /// fails at once.
    func post(_ request: HTTPClientRequest) async -> Attempt {
        do {
            let response = try await httpClient.execute(
                request, timeout: .milliseconds(Int64(settings.httpTimeout * 1_000)))
            var drained = 0
            for try await chunk in response.body {
                drained += chunk.readableBytes
                if drained > 1 << 20 { break }
            }
            let status = Int(response.status.code)
            switch status {
            case 200..<300: return .delivered
            case 429, 500...: return .retry("HTTP \(status)")
            default: return .fail("HTTP \(status) (not retried)")
            }
        } catch {
            return .retry("\(error)")
        }
    }

    /// SNS → Lambda: the notification, as the webhook's JSON, becomes an async event of the function; from there
    /// the async queue's retry rules apply.
    func sendToFunction(_ message: Outbox.Message, function: String, subscription: Outbox.Subscription) async -> Attempt
    {
        guard let functions else { return .fail("functions cannot be invoked from here") }
        do {
            let payload: [UInt8]
            if functions.takesSNSEvents(function) {
                guard let sns else { return .fail("no SNS signing key: SNS's Lambda events cannot be signed here") }
                payload = Array(try sns.lambdaEvent(message, subscription: subscription))
            } else {
                payload = Array(WebhookPayload.plumb(message))
            }
            try await functions.enqueue(function: function, payload: payload)
            return .delivered
        } catch {
            return .retry("\(error)")
        }
    }

    func sendEmail(_ message: Outbox.Message, to endpoint: String) async -> Attempt {
        guard let smtp = settings.smtp else { return .fail("no smtp section in the config; email cannot be sent") }
        let rendered = EmailRenderer.render(message)
        let mail = MailMessage(
            from: smtp.from, to: EmailAddress.split(endpoint), subject: rendered.subject, text: rendered.text,
            html: rendered.html,
            messageID: "\(message.id)@\(smtp.heloName)",
            date: Date(timeIntervalSince1970: TimeInterval(message.createdAt)),
            extraHeaders: [("X-Plumb-Message-Id", message.id), ("X-Plumb-Topic", message.topic)],
            inlineImages: rendered.inlineImages)
        do {
            try await SMTPClient(settings: smtp).send(mail)
            return .delivered
        } catch let error as SMTPError {
            return error.transient ? .retry(error.description) : .fail(error.description)
        } catch {
            return .retry("\(error)")
        }
    }
}
