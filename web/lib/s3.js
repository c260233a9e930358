// What an S3 client needs to push to this server, and the snippets that say it.
//
// The S3 endpoint is not the admin URL this page came from (another port, maybe another
// address): the admin API names it with each connection and in the answer that creates a key.
// The console remembers the last one it was given, in this browser's storage; until one is
// known the snippets carry a placeholder.

const storageKey = "sluice.s3";

// Remembers `endpoint` and `region` of a created connection or key.
export function rememberEndpoint(created) {
  if (!created || !created.endpoint) return;
  const value = JSON.stringify({ endpoint: created.endpoint, region: created.region });
  try {
    window.localStorage.setItem(storageKey, value);
  } catch {
    // Storage may be disabled; the placeholder then stays.
  }
}

// {endpoint, region}; endpoint "" when no key was created in this browser.
export function knownEndpoint() {
  try {
    const saved = JSON.parse(window.localStorage.getItem(storageKey) || "{}");
    return { endpoint: saved.endpoint || "", region: saved.region || "us-east-1" };
  } catch {
    return { endpoint: "", region: "us-east-1" };
  }
}

// A created key's secret, handed from the page that created it to the page that shows it once
// (creating a connection on the overview, then opening it). Held in memory only, taken once.
let handedOff = null;

export function handOffCreated(created) {
  handedOff = created;
}

export function takeCreated(connection) {
  const created = handedOff;
  if (!created || created.bucket !== connection) return null;
  handedOff = null;
  return created;
}

const placeholderSecret = "YOUR_SECRET_ACCESS_KEY";
const placeholderEndpoint = "http://SLUICE_HOST:8787";

// Ready-to-paste aws CLI, boto3 and rclone snippets that push `file` into `table` of `bucket`.
export function snippets({ endpoint, region, bucket, table, keyId, secret }) {
  const e = endpoint || placeholderEndpoint;
  const s = secret || placeholderSecret;
  const k = keyId || "YOUR_ACCESS_KEY_ID";
  const prefix = table || "TABLE";
  return [
    {
      title: "aws CLI",
      text: [
        `export AWS_ACCESS_KEY_ID=${k}`,
        `export AWS_SECRET_ACCESS_KEY=${s}`,
        `export AWS_DEFAULT_REGION=${region}`,
        `aws --endpoint-url ${e} s3 cp data.json s3://${bucket}/${prefix}/data.json`,
      ].join("\n"),
    },
    {
      title: "boto3",
      text: [
        "import boto3",
        `s3 = boto3.client("s3", endpoint_url="${e}", region_name="${region}",`,
        `                  aws_access_key_id="${k}",`,
        `                  aws_secret_access_key="${s}")`,
        `s3.upload_file("data.json", "${bucket}", "${prefix}/data.json")`,
      ].join("\n"),
    },
    {
      title: "rclone",
      text: [
        "export RCLONE_CONFIG_SLUICE_TYPE=s3 RCLONE_CONFIG_SLUICE_PROVIDER=Other \\",
        `  RCLONE_CONFIG_SLUICE_ENDPOINT=${e} RCLONE_CONFIG_SLUICE_REGION=${region} \\`,
        `  RCLONE_CONFIG_SLUICE_ACCESS_KEY_ID=${k} \\`,
        `  RCLONE_CONFIG_SLUICE_SECRET_ACCESS_KEY=${s} \\`,
        "  RCLONE_CONFIG_SLUICE_FORCE_PATH_STYLE=true",
        `rclone copy ./outbox sluice:${bucket}/${prefix}`,
      ].join("\n"),
    },
  ];
}
