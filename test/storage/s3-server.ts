// A real S3-compatible server (s3rver, an npm package) started in-process on 127.0.0.1 with a free
// port: the S3 store is tested against actual HTTP, SigV4 requests and presigned URLs, with no
// external service.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import S3rver from 's3rver';

export interface TestS3 {
  endpoint: string;
  bucket: string;
  /** Environment for loadConfig() that points the app's media storage at this server. */
  env: Record<string, string>;
  close(): Promise<void>;
}

export async function startS3(bucket = 'darezone-media'): Promise<TestS3> {
  const directory = mkdtempSync(path.join(os.tmpdir(), 'darezone-s3-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets: [{ name: bucket }] });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    bucket,
    env: {
      S3_BUCKET: bucket,
      S3_ENDPOINT: endpoint,
      S3_REGION: 'us-east-1',
      S3_ACCESS_KEY_ID: 'S3RVER', // s3rver's fixed development credentials
      S3_SECRET_ACCESS_KEY: 'S3RVER',
      S3_FORCE_PATH_STYLE: 'true',
    },
    async close() {
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
