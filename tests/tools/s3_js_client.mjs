// Pushes a file with the AWS SDK for JavaScript v3, the way a Node application does.
// Usage: node s3_js_client.mjs put-stream|upload FILE BUCKET KEY
// Environment: S3_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (NODE_EXTRA_CA_CERTS for
// a self-signed https endpoint). Prints the response metadata as JSON; exits 1 on an error,
// printing its S3 code and HTTP status.
//   put-stream: PutObjectCommand with a file stream body (aws-chunked with a CRC32 trailer,
//               even over http).
//   upload:     @aws-sdk/lib-storage Upload of a stream (5 MiB parts, 4 at once).
import { createReadStream } from 'node:fs';
import { S3Client, PutObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';

const [mode, file, bucket, key] = process.argv.slice(2);
const client = new S3Client({
  endpoint: process.env.S3_ENDPOINT,
  region: 'us-east-1',
  forcePathStyle: true,
  maxAttempts: 1,
  credentials: {
    accessKeyId: process.env.AWS_ACCESS_KEY_ID,
    secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY,
  },
});

try {
  let out;
  if (mode === 'put-stream') {
    out = await client.send(
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: createReadStream(file) }));
  } else if (mode === 'upload') {
    const upload = new Upload({
      client,
      params: { Bucket: bucket, Key: key, Body: createReadStream(file) },
      partSize: 5 * 1024 * 1024,
      queueSize: 4,
    });
    out = await upload.done();
  } else {
    throw new Error(`unknown mode '${mode}'`);
  }
  process.stdout.write(JSON.stringify({ ETag: out.ETag, status: out.$metadata.httpStatusCode }) + '\n');
} catch (e) {
  process.stderr.write(`${e.name}: ${e.message} (HTTP ${e.$metadata?.httpStatusCode})\n`);
  process.exit(1);
}
