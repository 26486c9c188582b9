// A node-postgres client for TestNodePostgres: connects with the PG*
// environment variables, runs a parameterised query (extended protocol),
// simple queries, an error and a named prepared statement, and prints
// what it saw as JSON.
'use strict';
const { Client, types } = require('pg');

// Keep date/time values as PostgreSQL's text: node would read timestamps
// in the local time zone.
for (const oid of [1082, 1114, 1186]) types.setTypeParser(oid, (v) => v);

async function main() {
  const c = new Client();
  await c.connect();
  const out = {};
  const params = await c.query(
    'SELECT $1::int4 AS i, $2::text AS t, $3::bool AS b, $4::float8 AS f, $5::int4 AS n, $6::int8 AS big, $7::timestamp AS ts',
    [42, 'héllo', true, 2.5, null, '9007199254740993', '2020-01-02 03:04:05.5'],
  );
  out.params = params.rows[0];
  out.types = (await c.query('SELECT types()')).rows[0];
  try {
    await c.query('SELECT fail()');
  } catch (e) {
    out.error = { code: e.code, message: e.message, detail: e.detail, hint: e.hint };
  }
  out.after = (await c.query({ text: 'SELECT $1::int4 AS x', values: [3] })).rows[0].x;
  let sum = 0;
  for (let i = 0; i < 2; i++) {
    sum = 0;
    const r = await c.query({ name: 'series', text: 'SELECT series(100)' });
    for (const row of r.rows) sum += Number(row.n);
  }
  out.series = sum;
  await c.end();
  out.cleanEnd = true;
  process.stdout.write(JSON.stringify(out));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
