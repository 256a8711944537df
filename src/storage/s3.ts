// Media in an S3-compatible bucket (scaled out: every instance sees the same objects). A PUT is
// atomic on S3 (an object appears whole or not at all), so no temp-and-rename is needed. Clients
// fetch bytes straight from the bucket with presigned GET URLs that pin the response headers.
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { assertValidKey, ObjectNotFoundError, type ByteRange, type PutOptions, type SignedUrlRequest, type Storage, type StoredObject } from './types.js';

export interface S3StorageOptions {
  bucket: string;
  region: string;
  endpoint?: string;
  forcePathStyle: boolean;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Prefix of every key in the bucket ('' or ending in '/'). */
  keyPrefix: string;
}

const HEALTH_PREFIX = '.health/';

function isNotFound(err: unknown): boolean {
  if (!(err instanceof S3ServiceException)) return false;
  return err.name === 'NoSuchKey' || err.name === 'NotFound' || err.$metadata?.httpStatusCode === 404;
}

export class S3Storage implements Storage {
  readonly kind = 's3' as const;
  readonly client: S3Client;

  constructor(private readonly opts: S3StorageOptions) {
    this.client = new S3Client({
      region: opts.region,
      ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
      forcePathStyle: opts.forcePathStyle,
      ...(opts.credentials ? { credentials: opts.credentials } : {}),
      // Checksums only where S3 requires them: the newer default (aws-chunked uploads with trailing
      // CRC32) is not understood by many S3-compatible servers, which would then store the framing.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 3,
      // A dead endpoint fails in seconds instead of hanging a request (or the readiness probe).
      requestHandler: { connectionTimeout: 3000, requestTimeout: 60_000 },
    });
  }

  private objectKey(key: string): string {
    return this.opts.keyPrefix + key;
  }

  async put(key: string, body: Readable | Buffer, opts: PutOptions): Promise<void> {
    assertValidKey(key);
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.opts.bucket,
        Key: this.objectKey(key),
        Body: body,
        ContentLength: opts.size,
        ContentType: opts.contentType,
      }),
    );
  }

  async getStream(key: string, range?: ByteRange): Promise<Readable> {
    assertValidKey(key);
    try {
      const res = await this.client.send(
        new GetObjectCommand({
          Bucket: this.opts.bucket,
          Key: this.objectKey(key),
          ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}),
        }),
      );
      if (!(res.Body instanceof Readable)) throw new Error('S3 returned no readable body');
      return res.Body;
    } catch (err) {
      if (isNotFound(err)) throw new ObjectNotFoundError(key);
      throw err;
    }
  }

  async stat(key: string): Promise<StoredObject | null> {
    assertValidKey(key);
    try {
      const res = await this.client.send(new HeadObjectCommand({ Bucket: this.opts.bucket, Key: this.objectKey(key) }));
      return { key, size: res.ContentLength ?? 0, lastModified: res.LastModified ?? new Date(0) };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async exists(key: string): Promise<boolean> {
    return (await this.stat(key)) !== null;
  }

  async delete(key: string): Promise<void> {
    assertValidKey(key);
    await this.client.send(new DeleteObjectCommand({ Bucket: this.opts.bucket, Key: this.objectKey(key) }));
  }

  async signedUrl(req: SignedUrlRequest): Promise<string> {
    assertValidKey(req.key);
    // The response-* overrides are part of the signature: the bucket serves the bytes with our
    // content type, disposition and cache lifetime whatever metadata the object carries.
    const command = new GetObjectCommand({
      Bucket: this.opts.bucket,
      Key: this.objectKey(req.key),
      ResponseContentType: req.contentType,
      ResponseContentDisposition: req.contentDisposition,
      ResponseCacheControl: `private, max-age=${req.expiresInSeconds}`,
    });
    return getSignedUrl(this.client, command, { expiresIn: req.expiresInSeconds, signingDate: req.now });
  }

  async *list(prefix = ''): AsyncIterable<StoredObject> {
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.opts.bucket, Prefix: this.objectKey(prefix), ContinuationToken: token }),
      );
      for (const o of page.Contents ?? []) {
        if (!o.Key) continue;
        const key = o.Key.slice(this.opts.keyPrefix.length);
        if (key.startsWith('.')) continue; // readiness probes
        yield { key, size: o.Size ?? 0, lastModified: o.LastModified ?? new Date(0) };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async checkWritable(): Promise<void> {
    const key = this.objectKey(`${HEALTH_PREFIX}${randomUUID()}`);
    await this.client.send(new PutObjectCommand({ Bucket: this.opts.bucket, Key: key, Body: 'ok', ContentLength: 2, ContentType: 'text/plain' }));
    await this.client.send(new DeleteObjectCommand({ Bucket: this.opts.bucket, Key: key }));
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}
