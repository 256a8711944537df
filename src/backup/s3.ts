// Off-site copy: after a local backup completes, its files and any media blobs the bucket lacks
// are uploaded to <prefix><ID>/… and <prefix>media/…; verify and restore fetch a backup that is
// not in BACKUP_DIR. The layout in the bucket mirrors BACKUP_DIR.
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import type { Manifest } from './service.js';

export interface S3Settings {
  bucket: string;
  region: string;
  endpoint?: string | undefined;
  prefix: string;
  credentials?: { accessKeyId: string; secretAccessKey: string } | undefined;
}

export interface BackupS3 {
  upload(dir: string, m: Manifest): Promise<string>;
  fetch(dir: string, id: string): Promise<Manifest | undefined>;
  listIds(): Promise<string[]>;
  deleteBackup(id: string): Promise<void>;
  deleteBlob(rel: string): Promise<void>;
  close(): void;
}

const blobRel = (sha: string, encrypted: boolean) => `${sha.slice(0, 2)}/${sha}${encrypted ? '.enc' : ''}`;

export function createBackupS3(s: S3Settings): BackupS3 {
  const client = new S3Client({
    region: s.region,
    ...(s.endpoint ? { endpoint: s.endpoint } : {}),
    forcePathStyle: true,
    // Checksums only where S3 requires them: the SDK's newer default (aws-chunked uploads with
    // trailing checksums) is not understood by several S3-compatible servers. Integrity is ours:
    // every file's sha256 is in the manifest and re-checked by verify and restore.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    ...(s.credentials ? { credentials: s.credentials } : {}),
  });
  const key = (rel: string) => `${s.prefix}${rel}`;
  const put = async (file: string, rel: string) => {
    const { size } = await stat(file);
    await client.send(new PutObjectCommand({ Bucket: s.bucket, Key: key(rel), Body: createReadStream(file), ContentLength: size }));
  };
  const has = async (rel: string) => {
    try {
      await client.send(new HeadObjectCommand({ Bucket: s.bucket, Key: key(rel) }));
      return true;
    } catch (err) {
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 404 || (err as Error).name === 'NotFound') return false;
      throw err;
    }
  };
  const get = async (rel: string, target: string): Promise<boolean> => {
    try {
      const res = await client.send(new GetObjectCommand({ Bucket: s.bucket, Key: key(rel) }));
      await mkdir(path.dirname(target), { recursive: true });
      const tmp = `${target}.part`;
      await pipeline(res.Body as Readable, createWriteStream(tmp, { mode: 0o600 }));
      await rename(tmp, target);
      return true;
    } catch (err) {
      if ((err as Error).name === 'NoSuchKey') return false;
      throw err;
    }
  };
  return {
    async upload(dir, m) {
      const seen = new Set<string>();
      for (const e of m.media) {
        const rel = blobRel(e.sha256, m.encrypted);
        if (seen.has(rel)) continue;
        seen.add(rel);
        if (!(await has(`media/${rel}`))) await put(path.join(dir, 'media', rel), `media/${rel}`);
      }
      for (const name of Object.keys(m.files)) await put(path.join(dir, m.id, name), `${m.id}/${name}`);
      // The manifest last: in the bucket too, a backup without one is incomplete.
      await put(path.join(dir, m.id, 'manifest.json'), `${m.id}/manifest.json`);
      return `s3://${s.bucket}/${s.prefix}${m.id}/`;
    },
    async fetch(dir, id) {
      const tmp = path.join(dir, `.tmp-fetch-${id}`);
      await rm(tmp, { recursive: true, force: true });
      if (!(await get(`${id}/manifest.json`, path.join(tmp, 'manifest.json')))) return undefined;
      const m = JSON.parse(await readFile(path.join(tmp, 'manifest.json'), 'utf8')) as Manifest;
      for (const name of Object.keys(m.files)) await get(`${id}/${name}`, path.join(tmp, name));
      for (const e of m.media) {
        const rel = blobRel(e.sha256, m.encrypted);
        const target = path.join(dir, 'media', rel);
        const present = await stat(target).then(() => true, () => false);
        if (!present) await get(`media/${rel}`, target);
      }
      await rename(tmp, path.join(dir, id));
      return m;
    },
    async listIds() {
      const ids: string[] = [];
      let token: string | undefined;
      do {
        const res = await client.send(new ListObjectsV2Command({ Bucket: s.bucket, Prefix: s.prefix, Delimiter: '/', ContinuationToken: token }));
        for (const p of res.CommonPrefixes ?? []) {
          const id = (p.Prefix ?? '').slice(s.prefix.length).replace(/\/$/, '');
          if (/^\d{8}T\d{6}Z-[0-9a-f]{4}$/.test(id) && (await has(`${id}/manifest.json`))) ids.push(id);
        }
        token = res.NextContinuationToken;
      } while (token);
      return ids.sort().reverse();
    },
    async deleteBackup(id) {
      const res = await client.send(new ListObjectsV2Command({ Bucket: s.bucket, Prefix: key(`${id}/`) }));
      // The manifest first, so a half-deleted backup is never taken for a complete one.
      const keys = (res.Contents ?? []).map((o) => o.Key!).sort((a, b) => Number(b.endsWith('manifest.json')) - Number(a.endsWith('manifest.json')));
      for (const k of keys) await client.send(new DeleteObjectCommand({ Bucket: s.bucket, Key: k }));
    },
    async deleteBlob(rel) {
      await client.send(new DeleteObjectCommand({ Bucket: s.bucket, Key: key(`media/${rel}`) }));
    },
    close() {
      client.destroy();
    },
  };
}
