// The DuckDB reference of the nested benchmark (bench.py), for the record: DuckDB loads the
// same nested files into the same two tables as sluice, in a fresh database file.
//   node duckdb_load.mjs DB ROOT_DDL CHILD_DDL CHILD_SELECT FILE...
// ROOT_DDL / CHILD_DDL create `orders` and `orders_line_items` (bench.py derives them from
// sluice's tables); CHILD_SELECT is the SELECT list over (o, li, i) that produces a child row
// from an order `o`, its line item `li` and the item's 1-based position `i`.
// The first file is a first load: INSERT ... SELECT and INSERT ... SELECT ... UNNEST. Each later
// file is a delta: INSERT OR REPLACE of the orders, DELETE of their previous line items, INSERT
// of the new ones. The delta's statements run one transaction each: DuckDB refuses a delete and
// a re-insert of one key inside one transaction (its over-eager unique checks), so the delta is
// not atomic here as it is in sluice. Threads: DuckDB's default (every core).
// Prints one JSON line per file: {"file", "seconds"}.
import { createRequire } from 'node:module';

const require = createRequire(new URL('../../tests/tools/package.json', import.meta.url));
const { DuckDBInstance } = require('@duckdb/node-api');

const [path, rootDdl, childDdl, childSelect, ...files] = process.argv.slice(2);
if (!path || !rootDdl || !childDdl || !childSelect || files.length === 0) {
  throw new Error('usage: duckdb_load.mjs DB ROOT_DDL CHILD_DDL CHILD_SELECT FILE...');
}
const quote = (p) => `'${p.replaceAll("'", "''")}'`;
const db = await DuckDBInstance.create(path);
const conn = await db.connect();
await conn.run(rootDdl);
await conn.run(childDdl);
const children = (file) => `SELECT ${childSelect} FROM (SELECT o, unnest(o.line_items) AS li,
  generate_subscripts(o.line_items, 1) AS i FROM read_parquet(${quote(file)}) o)`;
for (const [n, file] of files.entries()) {
  const start = process.hrtime.bigint();
  if (n === 0) {
    await conn.run('BEGIN');
    await conn.run(`INSERT INTO orders SELECT * EXCLUDE (line_items) FROM read_parquet(${quote(file)})`);
    await conn.run(`INSERT INTO orders_line_items ${children(file)}`);
    await conn.run('COMMIT');
  } else {
    await conn.run(`INSERT OR REPLACE INTO orders SELECT * EXCLUDE (line_items)
                    FROM read_parquet(${quote(file)})`);
    await conn.run(`DELETE FROM orders_line_items WHERE orders_order_id IN
                    (SELECT order_id FROM read_parquet(${quote(file)}))`);
    await conn.run(`INSERT INTO orders_line_items ${children(file)}`);
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  process.stdout.write(JSON.stringify({ file, seconds }) + '\n');
}
const counts = await conn.runAndReadAll(
  'SELECT (SELECT count(*) FROM orders) AS roots, (SELECT count(*) FROM orders_line_items) AS children');
process.stdout.write(JSON.stringify(counts.getRowObjectsJson()[0]) + '\n');
