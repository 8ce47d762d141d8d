-- wrk script: POST a short review to a sentiment endpoint.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"text": "The food was great, but the service was not that good and the wait was terribly long!"}'
