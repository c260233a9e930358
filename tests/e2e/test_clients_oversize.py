"""An object over the configured size limit (`sluice serve --max-object-size`) is refused with
EntityTooLarge, before or while its body arrives, and nothing is stored or queued; an object
exactly at the limit is stored."""

import hashlib
import os
import unittest

from test_clients_negative import RefusalFixture

MAX_OBJECT_BYTES = 1024 * 1024


class OversizeTest(RefusalFixture):
    server_args = ("--max-object-size", str(MAX_OBJECT_BYTES))

    def test_oversize_object(self):
        key = "flat/too-big.parquet"
        body = os.urandom(MAX_OBJECT_BYTES + 1)
        client = self.boto3(self.conn)
        self.assert_client_error(lambda: client.put_object(Bucket=self.conn["bucket"], Key=key, Body=body),
                                 "EntityTooLarge", 400)
        self.assert_nothing_stored(key)
        # Exactly at the limit is fine (stored, not a parquet file: its load fails, it is kept).
        ok = client.put_object(Bucket=self.conn["bucket"], Key="flat/at-limit.bin", Body=body[:MAX_OBJECT_BYTES])
        self.assertEqual(ok["ETag"], f'"{hashlib.md5(body[:MAX_OBJECT_BYTES]).hexdigest()}"')


if __name__ == "__main__":
    unittest.main()
