// Writes the benchmark's `orders` files, the reference workload of PERFORMANCE.md / issue 4:
//   node gen_orders.mjs flat|nested ROWS OUT.parquet
// flat: order_id, customer_id BIGINT; status (6 values), currency (5 values) VARCHAR;
// amount DECIMAL(18,2); created_at, updated_at TIMESTAMP; note (30-50 chars, high
// cardinality); qty INT; flag BOOLEAN. nested: the same plus line_items
// list<struct<line_no INT, sku VARCHAR, qty INT, unit_price DECIMAL(18,2)>> of 1 to 5 items.
// Deterministic: every value derives from hash(row number) (no random()); snappy; DuckDB's
// default row groups (122,880 rows). run.sh regenerates a file when this script is newer.
import { createRequire } from 'node:module';

const require = createRequire(new URL('../../tests/tools/package.json', import.meta.url));
const { DuckDBInstance } = require('@duckdb/node-api');

const db = await DuckDBInstance.create(':memory:');
const conn = await db.connect();
await conn.run('SET threads=1');

function quote(path) {
  return `'${path.replaceAll("'", "''")}'`;
}

// Columns of the flat file. h(k) is an independent 64-bit hash of the row number per column.
function flatColumns() {
  const h = (k) => `hash(i, ${k})`;
  return `
    i AS order_id,
    (${h(1)} % 1000000)::BIGINT AS customer_id,
    ['new', 'paid', 'packed', 'shipped', 'delivered', 'cancelled'][1 + (${h(2)} % 6)::INT]
      AS status,
    ((${h(3)} % 10000000)::BIGINT / 100)::DECIMAL(18,2) AS amount,
    ['EUR', 'USD', 'GBP', 'CHF', 'JPY'][1 + (${h(4)} % 5)::INT] AS currency,
    TIMESTAMP '2024-01-01' + to_microseconds((i * 6000000 + ${h(5)} % 6000000)::BIGINT)
      AS created_at,
    TIMESTAMP '2024-01-01' + to_microseconds((i * 6000000 + ${h(5)} % 6000000
      + ${h(6)} % 86400000000)::BIGINT) AS updated_at,
    substr(md5(i::VARCHAR) || md5((i + 7)::VARCHAR), 1, 30 + (${h(7)} % 21)::INT) AS note,
    (1 + ${h(8)} % 100)::INT AS qty,
    ${h(9)} % 2 = 0 AS flag`;
}

// list<struct<line_no INT, sku VARCHAR, qty INT, unit_price DECIMAL(18,2)>>, 1 to 5 items.
function lineItems() {
  return `
    list_transform(range(1, 2 + (hash(i, 10) % 5)::BIGINT), j -> {
      'line_no': j::INT,
      'sku': 'SKU-' || lpad((hash(i, j, 11) % 50000)::VARCHAR, 5, '0'),
      'qty': (1 + hash(i, j, 12) % 20)::INT,
      'unit_price': ((hash(i, j, 13) % 100000)::BIGINT / 100)::DECIMAL(18,2)
    }) AS line_items`;
}

const [kind, rows, out] = process.argv.slice(2);
if (!['flat', 'nested'].includes(kind) || !(Number(rows) > 0) || !out) {
  throw new Error('usage: gen_orders.mjs flat|nested ROWS OUT.parquet');
}
const columns = kind === 'flat' ? flatColumns() : `${flatColumns()},${lineItems()}`;
await conn.run(`COPY (SELECT ${columns} FROM range(${Number(rows)}) r(i) ORDER BY i)
                TO ${quote(out)} (FORMAT parquet, COMPRESSION snappy)`);
