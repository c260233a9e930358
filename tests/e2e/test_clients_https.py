"""Every real S3 client, end to end over https (a self-signed certificate the clients trust):
the same tests as test_clients_http.py. Over TLS the aws CLI and boto3 switch to aws-chunked
bodies with a CRC32 trailer, so the two transports exercise different request shapes."""

import unittest

from test_clients_http import (AwsCliTests, Boto3Tests, ClientFixture, CurlTests, JsSdkTests,
                               RcloneTests, S3cmdTests)


class HttpsFixture(ClientFixture):
    scheme = "https"


class AwsCliHttps(AwsCliTests, HttpsFixture):
    pass


class Boto3Https(Boto3Tests, HttpsFixture):
    pass


class S3cmdHttps(S3cmdTests, HttpsFixture):
    pass


class RcloneHttps(RcloneTests, HttpsFixture):
    pass


class CurlHttps(CurlTests, HttpsFixture):
    pass


class JsSdkHttps(JsSdkTests, HttpsFixture):
    pass


if __name__ == "__main__":
    unittest.main()
