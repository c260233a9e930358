// Runs SQL statements with DuckDB (an independent Parquet writer and oracle for the tests).
// Usage: node duckdb_sql.mjs "<sql>" ["<sql>" ...]; prints the last statement's rows as JSON.
import { DuckDBInstance } from '@duckdb/node-api';

const db = await DuckDBInstance.create(':memory:');
const conn = await db.connect();
await conn.run('SET threads=1');
let last = null;
for (const sql of process.argv.slice(2)) {
  last = await conn.runAndReadAll(sql);
}
if (last) {
  process.stdout.write(JSON.stringify(last.getRowObjectsJson()) + '\n');
}
