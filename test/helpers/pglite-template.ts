// globalSetup for the embedded suite: create and migrate one PGlite database, dump it to a file, and
// let every test file start from a copy (loading a dump takes ~0.7 s; creating + migrating ~3.5 s).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { openDriver } from '../../src/db/client.js';
import { migrate } from '../../src/db/migrate.js';

declare module 'vitest' {
  export interface ProvidedContext {
    pgliteTemplate: string;
  }
}

export default async function setup(project: TestProject) {
  const driver = await openDriver({ pgliteDir: null });
  await migrate(driver);
  const dump = await driver.dump!();
  await driver.close();
  const dir = mkdtempSync(path.join(tmpdir(), 'dz-template-'));
  const file = path.join(dir, 'pglite-template.tar');
  writeFileSync(file, Buffer.from(await dump.arrayBuffer()));
  project.provide('pgliteTemplate', file);
  return () => rmSync(dir, { recursive: true, force: true });
}
