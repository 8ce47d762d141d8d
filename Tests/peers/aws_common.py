"""What the boto3 peer scripts share: a session on the credentials Plumb wrote, clients that try once, and the
error code of a refused call."""
import os

import boto3
import botocore.config
import botocore.exceptions


def session(credentials, config):
    """The `plumb` profile of Plumb's own credential files, and nothing from the environment."""
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = credentials
    os.environ["AWS_CONFIG_FILE"] = config
    for name in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"]:
        os.environ.pop(name, None)
    return boto3.Session(profile_name="plumb")


def once(validate=True):
    """A client configuration that does not retry; without boto3's own checks when `validate` is false, so the
    server is the one that refuses."""
    return botocore.config.Config(retries={"max_attempts": 1, "mode": "standard"}, parameter_validation=validate)


def error_code(call):
    """The error code boto3 reports for `call`, None when it succeeds."""
    try:
        call()
    except botocore.exceptions.ClientError as error:
        return error.response["Error"]["Code"]
    return None


def refused(call):
    """The code and HTTP status of a refused call, None when it succeeds."""
    try:
        call()
    except botocore.exceptions.ClientError as error:
        return {"code": error.response["Error"]["Code"], "status": error.response["ResponseMetadata"]["HTTPStatusCode"]}
    return None


def wrong_secret(plumb, service, endpoint):
    """A client of `service` signing with the profile's key id and another secret."""
    return plumb.client(service, endpoint_url=endpoint, config=once(),
                        aws_access_key_id=plumb.get_credentials().access_key, aws_secret_access_key="not-the-secret")
