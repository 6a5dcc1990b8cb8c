"""A throw-away AWS stand-in on loopback for running the real Lambda binaries: moto server
(optionally over HTTPS with a certificate authority made for the run), a table, the order
queue, a verified SES sender, and the local server on the same table and JWT secret, which
makes the tokens and ids the events need (`lambda_rig.seed`).

    with Stack(bin_dir, tls=True) as stack:
        stack.env     # the environment a function binary needs
        stack.values  # {{placeholder}} values for events/*.json
"""

import datetime
import ipaddress
import os
import socket
import subprocess
import sys
import tempfile

import lambda_rig

ADMIN = ("rig-admin@shop.test", "a-good-admin-password")
SENDER = "orders@shop.test"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_certificates(folder):
    """A CA and a server certificate for 127.0.0.1/localhost signed by it; returns (ca, cert,
    key) paths. The CA is trusted by the binaries through SSL_CERT_FILE."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "shop benchmark CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(hours=1))
          .not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                         critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = [os.path.join(folder, n) for n in ("ca.pem", "cert.pem", "key.pem")]
    pem = serialization.Encoding.PEM
    with open(paths[0], "wb") as f:
        f.write(ca.public_bytes(pem))
    with open(paths[1], "wb") as f:
        f.write(cert.public_bytes(pem))
    with open(paths[2], "wb") as f:
        f.write(key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return paths


class Stack:
    def __init__(self, bin_dir, tls=False, log_dir=None):
        self.bin_dir, self.tls = bin_dir, tls
        self.folder = tempfile.mkdtemp(prefix="shop-stack-")
        self.log_dir = log_dir or self.folder
        self.processes = []

    def start(self, name, argv, env):
        log = open(os.path.join(self.log_dir, f"{name}.log"), "w")
        process = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT)
        self.processes.append(process)
        return process, log.name

    def __enter__(self):
        try:
            return self._start_all()
        except BaseException:
            self.__exit__(None, None, None)  # nothing started is left running
            raise

    def _start_all(self):
        moto_port, local_port = free_port(), free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update({
            "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        })
        moto_argv = [sys.executable, os.path.join(lambda_rig.ROOT, "scripts", "moto_server.py"),
                     "127.0.0.1", str(moto_port)]
        scheme = "http"
        if self.tls:
            ca, cert, key = make_certificates(self.folder)
            moto_argv += [cert, key]
            env["SSL_CERT_FILE"] = ca
            scheme = "https"
        endpoint = f"{scheme}://127.0.0.1:{moto_port}"
        env["AWS_ENDPOINT_URL"] = endpoint
        moto, moto_log = self.start("moto", moto_argv, env)
        lambda_rig.wait_http(f"{endpoint}/moto-api/", moto, moto_log,
                             cafile=env.get("SSL_CERT_FILE"))

        import boto3
        verify = env.get("SSL_CERT_FILE", True)
        client = lambda name: boto3.client(name, endpoint_url=endpoint, region_name="us-east-1",
                                           aws_access_key_id="test",
                                           aws_secret_access_key="test", verify=verify)
        tag = lambda_rig.ulid().lower()
        # The deployed fan-out: a topic, one queue per consumer, raw delivery.
        sqs, sns = client("sqs"), client("sns")
        topic = sns.create_topic(Name=f"shop-events-{tag}")["TopicArn"]
        queues = {}
        for consumer in ("emails", "webhooks"):
            url = sqs.create_queue(QueueName=f"shop-{consumer}-{tag}")["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
            sns.subscribe(TopicArn=topic, Protocol="sqs",
                          Endpoint=arn["Attributes"]["QueueArn"],
                          Attributes={"RawMessageDelivery": "true"})
            queues[consumer] = url
        client("ses").verify_email_identity(EmailAddress=SENDER)
        env.update({
            "TABLE_NAME": f"shop-rig-{tag}",
            "JWT_SECRET": "a-benchmark-secret-of-at-least-32-bytes!",
            "ORDER_EVENTS_TOPIC_ARN": topic,
            "WEBHOOK_QUEUE_URL": queues["webhooks"],
            "SENDER_ADDRESS": SENDER,
            "AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH": "true",
        })
        local_env = dict(env, SHOP_ADMIN_EMAIL=ADMIN[0], SHOP_ADMIN_PASSWORD=ADMIN[1],
                         SHOP_OUTBOX_DIR=os.path.join(self.folder, "outbox"),
                         SHOP_EMAIL_SENDER=SENDER, RUST_LOG="warn",
                         SHOP_METRICS=os.path.join(self.folder, "metrics.jsonl"))
        local_argv = [os.path.join(self.bin_dir, "local"), "--store", "dynamodb",
                      "--port", str(local_port)]
        server, server_log = self.start("local", local_argv, local_env)
        base = f"http://127.0.0.1:{local_port}"
        lambda_rig.wait_http(f"{base}/products/all_products", server, server_log)
        self.env, self.base = env, base
        self.values = lambda_rig.seed(base, *ADMIN)
        return self

    def __exit__(self, *exc):
        for process in self.processes:
            process.kill()
            process.wait()
        return False
