// Per-table row counts and content checksums: what the manifest promises and what verify compares.
// Every table of schema public; the checksum is md5 over the rows' text forms in a fixed order, so
// it is the same for the same data wherever it is computed (same engine, same server version).
export interface TableStats {
  rows: number;
  checksum: string;
}

type Run = (text: string) => Promise<{ rows: Record<string, unknown>[] }>;

export async function tableStats(run: Run): Promise<Record<string, TableStats>> {
  const { rows } = await run(`select tablename from pg_tables where schemaname = 'public' order by tablename`);
  const out: Record<string, TableStats> = {};
  for (const r of rows) {
    const name = String(r.tablename);
    const ident = `public."${name.replace(/"/g, '""')}"`;
    const res = await run(`select count(*)::bigint as n, md5(coalesce(string_agg(t::text, E'\\n' order by t::text), '')) as h from ${ident} t`);
    out[name] = { rows: Number(res.rows[0]!.n), checksum: String(res.rows[0]!.h) };
  }
  return out;
}

/** One line per difference; empty when the two agree. */
export function compareStats(expected: Record<string, TableStats>, actual: Record<string, TableStats>): string[] {
  const problems: string[] = [];
  for (const [name, want] of Object.entries(expected)) {
    const got = actual[name];
    if (!got) problems.push(`table ${name} missing`);
    else if (got.rows !== want.rows) problems.push(`table ${name}: ${got.rows} rows, manifest says ${want.rows}`);
    else if (got.checksum !== want.checksum) problems.push(`table ${name}: content checksum differs`);
  }
  for (const name of Object.keys(actual)) if (!(name in expected)) problems.push(`table ${name} not in the manifest`);
  return problems;
}
