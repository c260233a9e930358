// DuckDB side of the parquet scan benchmark: node duckdb_scan.mjs FILE REPEAT
// Full scans with SET threads=1 that decode every column, two ways:
//   hash: sum(hash(COLUMNS(*))) hashes every value of every column (strings byte by byte,
//         lists element by element): the reference query of the benchmark;
//   max:  max(COLUMNS(*)), the cheapest per-value work we found that DuckDB cannot answer
//         from statistics (count(COLUMNS(*)) it can): a stricter bound.
// Prints one JSON line: rows and, per query and repetition, the wall seconds and the CPU
// seconds of the process (user + system; DuckDB's one thread plus node's idle loop) for the
// query only, not node's start-up. Uses the @duckdb/node-api that tests/tools pins.
import { createRequire } from 'node:module';

const require = createRequire(new URL('../../tests/tools/package.json', import.meta.url));
const { DuckDBInstance } = require('@duckdb/node-api');

const db = await DuckDBInstance.create(':memory:');
const conn = await db.connect();
await conn.run('SET threads=1');

function quote(path) {
  return `'${path.replaceAll("'", "''")}'`;
}

const [file, repeat] = process.argv.slice(2);
const queries = {
  hash: `SELECT count(*), sum(hash(COLUMNS(*))) FROM read_parquet(${quote(file)})`,
  max: `SELECT count(*), max(COLUMNS(*)) FROM read_parquet(${quote(file)})`,
};
const seconds = { hash: [], max: [] };
const cpuSeconds = { hash: [], max: [] };
let rows = 0;
// Alternate the queries so that a noisy neighbour hurts both alike.
for (let r = 0; r < Number(repeat || 1); r++) {
  for (const [name, sql] of Object.entries(queries)) {
    const start = process.hrtime.bigint();
    const cpu = process.cpuUsage();
    const result = await conn.runAndReadAll(sql);
    seconds[name].push(Number(process.hrtime.bigint() - start) / 1e9);
    const used = process.cpuUsage(cpu);
    cpuSeconds[name].push((used.user + used.system) / 1e6);
    rows = Number(result.getRows()[0][0]);
  }
}
process.stdout.write(JSON.stringify({ engine: 'duckdb', rows, seconds, cpu_seconds: cpuSeconds }) + '\n');
