"""Drives Plumb's SNS with real boto3 and receives its HTTP deliveries the way an SNS receiver does: every message's
signature is verified against the certificate at its SigningCertURL (fetched, parsed with `cryptography`, the string
to sign built from the message's fields in SNS's order, SHA-256 for SignatureVersion 2 and SHA-1 for 1, PKCS#1 v1.5),
as AWS's message validators do (their certificate host pattern set to Plumb's, the one option they take for it);
a subscription confirmation is confirmed by visiting its SubscribeURL, or through ConfirmSubscription with its Token.
Prints one JSON object of what it saw.

    aws_sns.py ENDPOINT CREDENTIALS_FILE CONFIG_FILE
"""
import base64
import http.server
import json
import re
import sys
import threading
import time
import urllib.parse
import urllib.request

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from aws_common import once, refused, session, wrong_secret

endpoint, credentials, config = sys.argv[1:4]
plumb = session(credentials, config)
sns = plumb.client("sns", endpoint_url=endpoint, config=once())
out = {}

# The validators' one setting for where certificates may come from: here, Plumb's own listener.
CERT_URL = re.compile("^" + re.escape(endpoint) + r"/sns/[A-Za-z0-9\-]+\.pem$")
NOTIFICATION_KEYS = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
CONFIRMATION_KEYS = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
certificates = {}


def verify(message):
    """True when the message's signature is good, as AWS's validators check it."""
    url = message.get("SigningCertURL", "")
    if not CERT_URL.match(url):
        return False
    if url not in certificates:
        with urllib.request.urlopen(url) as answer:
            certificates[url] = x509.load_pem_x509_certificate(answer.read())
    keys = NOTIFICATION_KEYS if message["Type"] == "Notification" else CONFIRMATION_KEYS
    text = "".join("%s\n%s\n" % (key, message[key]) for key in keys if key in message)
    algorithm = {"1": hashes.SHA1(), "2": hashes.SHA256()}.get(message.get("SignatureVersion"))
    if algorithm is None:
        return False
    try:
        certificates[url].public_key().verify(
            base64.b64decode(message["Signature"]), text.encode(), padding.PKCS1v15(), algorithm)
        return True
    except Exception:
        return False


received = []
lock = threading.Lock()


class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        message = json.loads(body)
        entry = {"path": self.path, "message": message, "verified": verify(message),
                 "headers": {name.lower(): value for name, value in self.headers.items()
                             if name.lower().startswith("x-amz-sns") or name.lower() == "content-type"}}
        # A tampered copy must fail the same check (the check is not vacuous).
        tampered = dict(message, Message=message["Message"] + " (changed)")
        entry["tampered_verified"] = verify(tampered)
        if message["Type"] == "SubscriptionConfirmation" and self.path == "/auto" and entry["verified"]:
            with urllib.request.urlopen(message["SubscribeURL"]) as answer:
                entry["confirm_status"] = answer.status
        with lock:
            received.append(entry)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
threading.Thread(target=server.serve_forever, daemon=True).start()
receiver = "http://127.0.0.1:%d" % server.server_address[1]


def wait_for(predicate, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        with lock:
            found = [entry for entry in received if predicate(entry)]
        if found:
            return found[0]
        time.sleep(0.1)
    return None



topic = sns.create_topic(Name="orders")["TopicArn"]
out["topic_arn"] = topic
out["create_again"] = sns.create_topic(Name="orders")["TopicArn"]
out["topics"] = [t["TopicArn"] for t in sns.list_topics()["Topics"]]

# An HTTP subscriber that confirms through SubscribeURL, with a delivery policy.
policy = {"healthyRetryPolicy": {"numRetries": 5, "minDelayTarget": 2, "maxDelayTarget": 10,
                                 "backoffFunction": "exponential"}}
out["subscribe_auto"] = sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=receiver + "/auto",
                                      Attributes={"DeliveryPolicy": json.dumps(policy)})["SubscriptionArn"]
confirmation = wait_for(lambda e: e["path"] == "/auto" and e["message"]["Type"] == "SubscriptionConfirmation")
out["confirmation"] = {"verified": confirmation and confirmation["verified"],
                       "tampered_verified": confirmation and confirmation["tampered_verified"],
                       "confirm_status": confirmation and confirmation.get("confirm_status"),
                       "fields": sorted(confirmation["message"].keys()) if confirmation else None,
                       "headers": confirmation and confirmation["headers"]}

# A second subscriber that confirms through the API with the token it received.
out["subscribe_manual"] = sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=receiver + "/manual",
                                        ReturnSubscriptionArn=True)["SubscriptionArn"]
manual = wait_for(lambda e: e["path"] == "/manual" and e["message"]["Type"] == "SubscriptionConfirmation")
out["manual_verified"] = manual and manual["verified"]
out["confirmed_arn"] = sns.confirm_subscription(TopicArn=topic, Token=manual["message"]["Token"])["SubscriptionArn"]
out["email"] = sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="ops@example.com")["SubscriptionArn"]

listed = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
out["subscriptions"] = sorted([s["Protocol"], s["Endpoint"].replace(receiver, "RECEIVER"),
                               s["SubscriptionArn"] if s["SubscriptionArn"] == "PendingConfirmation" else "arn"]
                              for s in listed)
out["all_subscriptions"] = len(sns.list_subscriptions()["Subscriptions"])
auto_arn = next(s["SubscriptionArn"] for s in listed if s["Endpoint"].endswith("/auto"))
attributes = sns.get_subscription_attributes(SubscriptionArn=auto_arn)["Attributes"]
out["subscription_attributes"] = {k: attributes[k] for k in ["Protocol", "PendingConfirmation", "TopicArn"]}
out["delivery_policy"] = json.loads(attributes["DeliveryPolicy"])
out["topic_attributes"] = sns.get_topic_attributes(TopicArn=topic)["Attributes"]

# Publish: both HTTP subscribers receive SNS's Notification, signed.
message_id = sns.publish(TopicArn=topic, Subject="Order 42", Message="order 42 shipped",
                         MessageAttributes={"priority": {"DataType": "String", "StringValue": "high"},
                                            "count": {"DataType": "Number", "StringValue": "3"}})["MessageId"]
out["message_id"] = message_id
notes = [wait_for(lambda e, p=p: e["path"] == p and e["message"]["Type"] == "Notification") for p in ["/auto", "/manual"]]
out["notifications"] = [{"verified": n["verified"], "tampered_verified": n["tampered_verified"],
                         "message": n["message"]["Message"], "subject": n["message"].get("Subject"),
                         "id_matches": n["message"]["MessageId"] == message_id,
                         "topic": n["message"]["TopicArn"], "attributes": n["message"].get("MessageAttributes"),
                         "signature_version": n["message"]["SignatureVersion"],
                         "headers": n["headers"]} if n else None for n in notes]
# A JSON message structure: its default text is what is sent.
sns.publish(TopicArn=topic, MessageStructure="json",
            Message=json.dumps({"default": "structured default", "email": "for mail"}))
structured = wait_for(lambda e: e["path"] == "/auto" and e["message"].get("Message") == "structured default")
out["structured_verified"] = structured and structured["verified"]

# Delivery policies changed after the fact: the subscription's, cleared again, and the topic's (SNS's http form).
changed = {"healthyRetryPolicy": {"numRetries": 2, "minDelayTarget": 1, "maxDelayTarget": 1,
                                  "backoffFunction": "linear"}}
sns.set_subscription_attributes(SubscriptionArn=auto_arn, AttributeName="DeliveryPolicy",
                                AttributeValue=json.dumps(changed))
changed_attributes = sns.get_subscription_attributes(SubscriptionArn=auto_arn)["Attributes"]
out["changed_policy"] = json.loads(changed_attributes["DeliveryPolicy"])["healthyRetryPolicy"]["numRetries"]
sns.set_subscription_attributes(SubscriptionArn=auto_arn, AttributeName="DeliveryPolicy", AttributeValue="")
out["cleared_policy"] = "DeliveryPolicy" in sns.get_subscription_attributes(SubscriptionArn=auto_arn)["Attributes"]
sns.set_subscription_attributes(SubscriptionArn=auto_arn, AttributeName="RawMessageDelivery", AttributeValue="false")
topic_policy = {"http": {"defaultHealthyRetryPolicy": {"numRetries": 4, "minDelayTarget": 5, "maxDelayTarget": 30,
                                                       "backoffFunction": "geometric"}}}
sns.set_topic_attributes(TopicArn=topic, AttributeName="DeliveryPolicy", AttributeValue=json.dumps(topic_policy))
topic_after = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
out["topic_policy"] = json.loads(topic_after["DeliveryPolicy"])["http"]["defaultHealthyRetryPolicy"]
out["topic_effective"] = json.loads(topic_after["EffectiveDeliveryPolicy"])["http"]["defaultHealthyRetryPolicy"][
    "numRetries"]

# DeleteTopic takes the topic's subscriptions with it; deleting it again is no error, as in SNS.
doomed = sns.create_topic(Name="doomed")["TopicArn"]
sns.subscribe(TopicArn=doomed, Protocol="email", Endpoint="gone@example.com")
sns.delete_topic(TopicArn=doomed)
out["topics_after_delete"] = [t["TopicArn"].rsplit(":", 1)[1] for t in sns.list_topics()["Topics"]]
out["doomed_subscriptions"] = [s["Endpoint"] for s in sns.list_subscriptions()["Subscriptions"]
                               if s["TopicArn"] == doomed]
sns.delete_topic(TopicArn=doomed)
out["delete_again"] = True

sns.unsubscribe(SubscriptionArn=out["confirmed_arn"])
out["after_unsubscribe"] = len(sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"])

missing = topic.rsplit(":", 1)[0] + ":no-such-topic"
out["refused"] = {
    "publish_unknown_topic": refused(lambda: sns.publish(TopicArn=missing, Message="x")),
    "subscribe_sqs": refused(lambda: sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint="arn:aws:sqs:x")),
    "bad_topic_name": refused(lambda: sns.create_topic(Name="bad name!")),
    "binary_attribute": refused(lambda: sns.publish(TopicArn=topic, Message="x", MessageAttributes={
        "b": {"DataType": "Binary", "BinaryValue": b"\x00"}})),
    "no_default": refused(lambda: sns.publish(TopicArn=topic, MessageStructure="json", Message='{"email": "x"}')),
    "lambda_unknown": refused(lambda: sns.subscribe(
        TopicArn=topic, Protocol="lambda", Endpoint="arn:aws:lambda:us-east-1:000000000000:function:nope")),
    "bad_token": refused(lambda: sns.confirm_subscription(TopicArn=topic, Token="0" * 64)),
    "unsubscribe_unknown": refused(lambda: sns.unsubscribe(SubscriptionArn=topic + ":nope")),
    "filter_policy": refused(lambda: sns.set_subscription_attributes(
        SubscriptionArn=auto_arn, AttributeName="FilterPolicy", AttributeValue='{"a": ["b"]}')),
    "raw_delivery": refused(lambda: sns.set_subscription_attributes(
        SubscriptionArn=auto_arn, AttributeName="RawMessageDelivery", AttributeValue="true")),
    "bad_topic_policy": refused(lambda: sns.set_topic_attributes(
        TopicArn=topic, AttributeName="DeliveryPolicy", AttributeValue=json.dumps(changed))),
    "policy_unknown_topic": refused(lambda: sns.set_topic_attributes(
        TopicArn=missing, AttributeName="DeliveryPolicy", AttributeValue=json.dumps(topic_policy))),
}
wrong = wrong_secret(plumb, "sns", endpoint)
out["refused"]["bad_signature"] = refused(lambda: wrong.list_topics())
server.shutdown()
print(json.dumps(out, default=str))
