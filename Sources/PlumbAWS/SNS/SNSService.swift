import Foundation
import PlumbAPI
import PlumbNotify

/// SNS (`sns`, the Query protocol) over Plumb's topics: a topic made with `create_topic` is the topic `plumb topics`
/// lists and alarms notify; an `http`/`https` subscription receives SNS's own signed messages (`SNSMessages`), an
/// `email` one Plumb's mails, a `lambda` one runs the function. Each operation is authorized with Plumb's action for
/// the same work (`sns:Publish` is `topics:Publish` on `topic/NAME`).
public struct SNSService: AWSService {
    public static let signingName = "sns"
    public static let targetPrefix = "AmazonSimpleNotificationService"
    public static let queryVersion: String? = "2010-03-31"
    public static let xmlNamespace = "http://sns.amazonaws.com/doc/2010-03-31/"
    public static let memberTypes = AWSMemberTypes(
        booleans: ["ReturnSubscriptionArn"], maps: ["Attributes", "MessageAttributes"])
    /// ListTopics and ListSubscriptions answer 100 a page, as SNS.
    static let pageSize = 100

    let outbox: any NotificationStoring
    let names: AWSNames
    /// Where confirmation links point (`server.public_url`).
    let publicURL: String
    let clock: @Sendable () -> Int64
    /// Refuses a `lambda` subscription to a function that does not exist or that the caller could not invoke itself.
    let authorizeFunction: @Sendable (_ function: String, _ caller: AWSCaller) throws -> Void

    public init(
        outbox: any NotificationStoring, names: AWSNames, publicURL: String, clock: @escaping @Sendable () -> Int64,
        authorizeFunction: @escaping @Sendable (_ function: String, _ caller: AWSCaller) throws -> Void
    ) {
        self.outbox = outbox
        self.names = names
        self.publicURL = publicURL
        self.clock = clock
        self.authorizeFunction = authorizeFunction
    }

    public func handle(
        operation: String, input: [String: JSONValue], caller: AWSCaller
    ) async throws -> [String: JSONValue] {
        do {
            switch operation {
            case "CreateTopic": return try await createTopic(input, caller: caller)
            case "ListTopics": return try await listTopics(input, caller: caller)
            case "GetTopicAttributes": return try await topicAttributes(input, caller: caller)
            case "Subscribe": return try await subscribe(input, caller: caller)
            case "ConfirmSubscription": return try await confirmSubscription(input, caller: caller)
            case "ListSubscriptions": return try await listSubscriptions(input, topic: nil, caller: caller)
            case "ListSubscriptionsByTopic":
                return try await listSubscriptions(input, topic: try topic(input, "TopicArn"), caller: caller)
            case "GetSubscriptionAttributes": return try await subscriptionAttributes(input, caller: caller)
            case "Unsubscribe": return try await unsubscribe(input, caller: caller)
            case "Publish": return try await publish(input, caller: caller)
            case "SetTopicAttributes": return try await setTopicAttributes(input, caller: caller)
            case "SetSubscriptionAttributes": return try await setSubscriptionAttributes(input, caller: caller)
            case "DeleteTopic": return try await deleteTopic(input, caller: caller)
            default: throw AWSError.unknownOperation(operation, service: "SNS")
            }
        } catch {
            throw Self.snsError(error)
        }
    }

    /// Plumb's and the endpoint's errors under SNS's codes: `NotFound` (404), `InvalidParameter` (400),
    /// `AuthorizationError` (403).
    static func snsError(_ error: any Error) -> AWSError {
        var answer = AWSError.from(error)
        switch answer.code {
        case "AccessDenied", "AccessDeniedException", "MFARequired":
            answer = AWSError(
                code: "AuthorizationError", type: "AuthorizationErrorException", answer.message, status: 403)
        case "NotFound", "ResourceNotFound":
            answer = AWSError(code: "NotFound", type: "NotFoundException", answer.message, status: 404)
        case "InvalidParameterValue", "MissingParameter", "InvalidParameterCombination", "ResourceConflict":
            answer = AWSError(code: "InvalidParameter", type: "InvalidParameterException", answer.message)
        default: break
        }
        return answer
    }

    static func invalid(_ message: String) -> AWSError {
        AWSError(code: "InvalidParameter", type: "InvalidParameterException", "Invalid parameter: \(message)")
    }

    // MARK: - Topics

    func createTopic(_ input: [String: JSONValue], caller: AWSCaller) async throws -> [String: JSONValue] {
        guard let name = input["Name"]?.string, !name.isEmpty else { throw Self.invalid("Name is required") }
        try caller.authorize("topics:CreateTopic", "topic/*")
        if let problem = TopicDefinition.validateName(name) { throw Self.invalid("Topic Name: \(problem)") }
        if case .object(let attributes)? = input["Attributes"] {
            // A display name has nothing to change here; an access policy would govern nothing (Plumb's IAM does),
            // so it is refused rather than ignored; a FIFO topic's ordering is not kept.
            for (key, value) in attributes where key != "DisplayName" {
                throw Self.invalid("the topic attribute \(key)=\(value.string ?? "") is not served here")
            }
        }
        if name.hasSuffix(".fifo") { throw Self.invalid("FIFO topics are not served here") }
        _ = try await outbox.createTopic(name, deliveryPolicy: nil, now: clock())
        return ["TopicArn": .string(names.topicARN(name))]
    }

    func listTopics(_ input: [String: JSONValue], caller: AWSCaller) async throws -> [String: JSONValue] {
        try caller.authorize("topics:ListTopics", "topic/*")
        let topics = try await outbox.topics().map(\.name).sorted()
        let offset = try pageOffset(input["NextToken"], count: topics.count)
        let page = topics.dropFirst(offset).prefix(Self.pageSize)
        var output: [String: JSONValue] = [
            "Topics": .array(page.map { .object(["TopicArn": .string(names.topicARN($0))]) })
        ]
        if offset + page.count < topics.count { output["NextToken"] = AWSPageToken.encode(offset + page.count) }
        return output
    }

    func topicAttributes(_ input: [String: JSONValue], caller: AWSCaller) async throws -> [String: JSONValue] {
        let name = try topic(input, "TopicArn")
        try caller.authorize("topics:GetTopic", "topic/\(name)")
        guard let topic = try await outbox.topic(name) else { throw NotifyError.topicNotFound(name) }
        let subscriptions = try await outbox.subscriptions(topic: name)
        let confirmed = subscriptions.filter { $0.status == "Confirmed" }.count
        var attributes: [String: JSONValue] = [
            "TopicArn": .string(names.topicARN(name)), "Owner": .string(names.account),
            "DisplayName": .string(""), "SubscriptionsConfirmed": .string(String(confirmed)),
            "SubscriptionsPending": .string(String(subscriptions.count - confirmed)),
            "SubscriptionsDeleted": .string("0"),
            "EffectiveDeliveryPolicy": .string(Self.topicDeliveryPolicyJSON(topic.deliveryPolicy ?? .webhookDefault)),
        ]
        if let policy = topic.deliveryPolicy {
            attributes["DeliveryPolicy"] = .string(Self.topicDeliveryPolicyJSON(policy))
        }
        return ["Attributes": .object(attributes)]
    }

    // MARK: - Subscriptions

    func subscribe(_ input: [String: JSONValue], caller: AWSCaller) async throws -> [String: JSONValue] {
        let name = try topic(input, "TopicArn")
        try caller.authorize("topics:Subscribe", "topic/\(name)")
        guard let protocolName = input["Protocol"]?.string else { throw Self.invalid("Protocol is required") }
        guard let endpoint = input["Endpoint"]?.string, !endpoint.isEmpty else {
            throw Self.invalid("Endpoint is required for protocol \(protocolName)")
        }
        var definition: SubscriptionDefinition
        switch protocolName {
        case "http", "https":
            guard endpoint.lowercased().hasPrefix(protocolName + "://") else {
                throw Self.invalid("Endpoint must match the protocol \(protocolName)")
            }
            definition = SubscriptionDefinition(protocol: .webhook, endpoint: endpoint, format: .sns)
        case "email":
            definition = SubscriptionDefinition(protocol: .email, endpoint: endpoint)
        case "lambda":
            let function = Self.functionName(endpoint)
            try authorizeFunction(function, caller)
            definition = SubscriptionDefinition(protocol: .function, endpoint: function)
        default:
            throw Self.invalid("Amazon SNS does not support the protocol '\(protocolName.prefix(40))' here")
        }
        if case .object(let attributes)? = input["Attributes"] {
            for (key, value) in attributes {
                switch (key, value.string) {
                case ("DeliveryPolicy", let text?): definition.deliveryPolicy = try Self.deliveryPolicy(text)
                case ("RawMessageDelivery", "false"?): break
                default:
                    throw Self.invalid("the subscription attribute \(key) is not served here")
                }
            }
        }
        if let problem = definition.problem() { throw Self.invalid("\(problem.field) \(problem.message)") }
        let subscription = try await outbox.subscribe(topic: name, definition, publicURL: publicURL, now: clock())
        guard subscription.definition.format == definition.format else {
            throw Self.invalid("Endpoint is already subscribed to \(name) through Plumb's API, in another format")
        }
        let returnARN = input["ReturnSubscriptionArn"]?.bool ?? false
        let arn =
            subscription.status == "Confirmed" || returnARN ? subscriptionARN(subscription) : "pending confirmation"
        return ["SubscriptionArn": .string(arn)]
    }

    func confirmSubscription(_ input: [String: JSONValue], caller: AWSCaller) async throws -> [String: JSONValue] {
        let name = try topic(input, "TopicArn")
        try caller.authorize("topics:Subscribe", "topic/\(name)")
        guard let token = input["Token"]?.string, !token.isEmpty, token.count <= 512 else {
            throw Self.invalid("Token is required")
        }
        if input["AuthenticateOnUnsubscribe"]?.string == "true" {
            throw Self.invalid("AuthenticateOnUnsubscribe is not served here (every unsubscribe is signed already)")
        }
        let subscription: Outbox.Subscription
        do { subscription = try await outbox.confirm(token: token, now: clock()) } catch let error as NotifyError
            where error.status == 404
        {
            // SNS answers an unknown or expired token as a bad parameter.
            throw Self.invalid("Invalid token")
        }
        guard subscription.topic == name else { throw Self.invalid("the token is not one of topic \(name)") }
        return ["SubscriptionArn": .string(subscriptionARN(subscription))]
    }

    func listSubscriptions(
        _ input: [String: JSONValue], topic: String?, caller: AWSCaller
    ) async throws -> [String: JSONValue] {
        try caller.authorize("topics:ListSubscriptions", "topic/\(topic ?? "*")")
        if let topic, try await outbox.topic(topic) == nil { throw NotifyError.topicNotFound(topic) }
        let all = try await outbox.subscriptions(topic: topic).sorted { ($0.topic, $0.id) < ($1.topic, $1.id) }
        let offset = try pageOffset(input["NextToken"], count: all.count)
        let page = all.dropFirst(offset).prefix(Self.pageSize)
        var output: [String: JSONValue] = [
            "Subscriptions": .array(
                page.map { subscription in
                    .object([
                        "SubscriptionArn": .string(
                            subscription.status == "Confirmed" ? subscriptionARN(subscription) : "PendingConfirmation"),
                        "Owner": .string(names.account), "Protocol": .string(protocolName(subscription)),
                        "Endpoint": .string(endpoint(subscription)),
                        "TopicArn": .string(names.topicARN(subscription.topic)),
                    ])
                })
        ]
        if offset + page.count < all.count { output["NextToken"] = AWSPageToken.encode(offset + page.count) }
        return output
    }

    func subscriptionAttributes(_ input: [String: JSONValue], caller: AWSCaller) async throws -> [String: JSONValue] {
        let subscription = try await subscription(input)
        try caller.authorize("topics:ListSubscriptions", "topic/\(subscription.topic)")
        var attributes: [String: JSONValue] = [
            "SubscriptionArn": .string(subscriptionARN(subscription)),
            "TopicArn": .string(names.topicARN(subscription.topic)), "Owner": .string(names.account),
            "Protocol": .string(protocolName(subscription)), "Endpoint": .string(endpoint(subscription)),
            "PendingConfirmation": .string(subscription.status == "Confirmed" ? "false" : "true"),
            "ConfirmationWasAuthenticated": .string("false"), "RawMessageDelivery": .string("false"),
        ]
        if let policy = subscription.definition.deliveryPolicy {
            attributes["DeliveryPolicy"] = .string(Self.deliveryPolicyJSON(policy))
        }
        let effective =
            subscription.definition.deliveryPolicy
            ?? (subscription.definition.protocol == .email ? .emailDefault : .webhookDefault)
        attributes["EffectiveDeliveryPolicy"] = .string(Self.deliveryPolicyJSON(effective))
        return ["Attributes": .object(attributes)]
    }

    func unsubscribe(_ input: [String: JSONValue], caller: AWSCaller) async throws -> [String: JSONValue] {
        let subscription = try await subscription(input)
        try caller.authorize("topics:Unsubscribe", "subscription/\(subscription.id)")
        try await outbox.unsubscribe(id: subscription.id)
        return [:]
    }

    // MARK: - Publishing

    func publish(_ input: [String: JSONValue], caller: AWSCaller) async throws -> [String: JSONValue] {
        let name: String
        if input["TopicArn"] != nil {
            name = try topic(input, "TopicArn")
        } else if input["TargetArn"] != nil {
            name = try topic(input, "TargetArn")
        } else {
            throw Self.invalid(input["PhoneNumber"] != nil ? "SMS is not served here" : "TopicArn is required")
        }
        try caller.authorize("topics:Publish", "topic/\(name)")
        guard var message = input["Message"]?.string, !message.isEmpty else {
            throw Self.invalid("Message is required and may not be empty")
        }
        switch input["MessageStructure"]?.string {
        case nil: break
        case "json"?:
            // One message for every protocol: the `default` text (per-protocol texts are not kept apart here).
            guard case .object(let texts)? = try? JSONValue.parse(Array(message.utf8)),
                case .string(let fallback)? = texts["default"]
            else {
                throw Self.invalid("Message Structure - No default entry in JSON message body")
            }
            message = fallback
        case let other?: throw Self.invalid("MessageStructure '\(other.prefix(20))' is not json")
        }
        for member in ["MessageGroupId", "MessageDeduplicationId", "PhoneNumber"] where input[member] != nil {
            throw Self.invalid("\(member) is not served here (no FIFO topics, no SMS)")
        }
        let attributes = try messageAttributes(input["MessageAttributes"])
        let subject = input["Subject"]?.string
        let id = try await outbox.publish(
            topic: name, subject: subject, message: message, attributes: attributes, now: clock())
        return ["MessageId": .string(id)]
    }

    /// `MessageAttributes` as the outbox keeps them (text): String, Number and String.Array values; binary values
    /// are refused.
    func messageAttributes(_ value: JSONValue?) throws -> [String: String] {
        guard let value else { return [:] }
        guard case .object(let members) = value else { throw Self.invalid("MessageAttributes must be a map") }
        var attributes: [String: String] = [:]
        for (name, attribute) in members {
            guard (1...256).contains(name.count),
                name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "_-.".contains($0)) }),
                !name.hasPrefix("AWS."), !name.hasPrefix("Amazon."), !name.hasPrefix("."), !name.hasSuffix("."),
                !name.contains("..")
            else { throw Self.invalid("the message attribute name '\(name.prefix(60))' is not valid") }
            guard case .object(let parts) = attribute, let type = parts["DataType"]?.string else {
                throw Self.invalid("the message attribute '\(name)' must have a DataType")
            }
            guard type.hasPrefix("String") || type.hasPrefix("Number"), let text = parts["StringValue"]?.string
            else {
                throw Self.invalid(
                    "the message attribute '\(name)' has DataType \(type.prefix(40)): String, Number and String.Array with a StringValue are served"
                )
            }
            if type.hasPrefix("Number"), Double(text) == nil {
                throw Self.invalid("the message attribute '\(name)' is a Number but '\(text.prefix(40))' is not")
            }
            attributes[name] = text
        }
        return attributes
    }

    // MARK: - Names

    func topic(_ input: [String: JSONValue], _ member: String) throws -> String {
        guard let text = input[member]?.string, !text.isEmpty else { throw Self.invalid("\(member) is required") }
        guard text.hasPrefix("arn:") else { throw Self.invalid("\(member): '\(text.prefix(100))' is not an ARN") }
        return try names.topic(fromARN: text, member: member)
    }

    /// The subscription `SubscriptionArn` (TOPIC-ARN:ID) names.
    func subscription(_ input: [String: JSONValue]) async throws -> Outbox.Subscription {
        guard let arn = input["SubscriptionArn"]?.string, arn.hasPrefix("arn:"),
            let separator = arn.lastIndex(of: ":")
        else { throw Self.invalid("SubscriptionArn is required (arn:aws:sns:REGION:ACCOUNT:TOPIC:ID)") }
        let topicName = try names.topic(fromARN: String(arn[..<separator]), member: "SubscriptionArn")
        let id = String(arn[arn.index(after: separator)...])
        guard let subscription = try await outbox.subscription(id: id), subscription.topic == topicName else {
            throw AWSError(code: "NotFound", "Subscription does not exist", status: 404)
        }
        return subscription
    }

    func subscriptionARN(_ subscription: Outbox.Subscription) -> String {
        names.topicARN(subscription.topic) + ":" + subscription.id
    }

    func protocolName(_ subscription: Outbox.Subscription) -> String {
        switch subscription.definition.protocol {
        case .email: "email"
        case .function: "lambda"
        case .alertmanager: "alertmanager"
        case .webhook: subscription.definition.endpoint.lowercased().hasPrefix("https:") ? "https" : "http"
        }
    }

    func endpoint(_ subscription: Outbox.Subscription) -> String {
        guard subscription.definition.protocol == .function else { return subscription.definition.endpoint }
        return "arn:aws:lambda:\(names.region):\(names.account):function:\(subscription.definition.endpoint)"
    }

    /// A Lambda function ARN's name (`arn:aws:lambda:…:function:NAME[:QUALIFIER]`), or a bare name.
    static func functionName(_ endpoint: String) -> String {
        guard endpoint.hasPrefix("arn:"), let range = endpoint.range(of: ":function:") else { return endpoint }
        return String(endpoint[range.upperBound...].prefix { $0 != ":" })
    }

    func pageOffset(_ token: JSONValue?, count: Int) throws -> Int {
        guard let token else { return 0 }
        guard case .string(let text) = token, let offset = AWSPageToken.offset(text, count: count) else {
            throw Self.invalid("NextToken is not one this endpoint gave")
        }
        return offset
    }
}
