import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, S3Client, S3ServiceException, type S3ClientConfig } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Readable } from 'node:stream';
import { checkMediaKey, type ByteRange, type MediaObject, type MediaStore } from './media-store';

export interface S3MediaStoreOptions {
  bucket: string;
  /** Prepended to every key (for example `videos/`), so the gateway can share a bucket. */
  prefix: string;
  /**
   * The client's settings: region, endpoint and path-style for S3-compatible servers. Credentials
   * come from the SDK's own chain (AWS_ACCESS_KEY_ID…, profiles, instance roles) unless given here.
   */
  client: S3ClientConfig;
  /** Size of each multipart upload part, in bytes (S3's minimum is 5 MiB); also what one upload holds in memory per part in flight. */
  partSizeBytes?: number;
}

const MIN_PART_BYTES = 5 * 1024 * 1024;

/**
 * An S3-compatible bucket, for several instances: standard calls only (multipart upload, ranged GET,
 * HEAD, DELETE, presigned GET). An upload that fails is aborted, so no half object stays behind.
 */
export class S3MediaStore implements MediaStore {
  readonly kind = 's3';
  private readonly s3: S3Client;

  constructor(private readonly options: S3MediaStoreOptions) {
    this.s3 = new S3Client(options.client);
  }

  async put(key: string, body: Readable, contentType: string): Promise<void> {
    const upload = new Upload({
      client: this.s3,
      params: { Bucket: this.options.bucket, Key: this.key(key), Body: body, ContentType: contentType },
      partSize: Math.max(MIN_PART_BYTES, this.options.partSizeBytes ?? MIN_PART_BYTES),
      // Two parts in flight: bounded memory per copy, and still overlapping download with upload.
      queueSize: 2,
      leavePartsOnError: false,
    });
    await upload.done();
  }

  async head(key: string): Promise<MediaObject | null> {
    try {
      const answer = await this.s3.send(new HeadObjectCommand({ Bucket: this.options.bucket, Key: this.key(key) }));
      return { size: answer.ContentLength ?? 0, contentType: answer.ContentType ?? 'application/octet-stream' };
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  async read(key: string, range?: ByteRange): Promise<{ object: MediaObject; body: Readable } | null> {
    try {
      const answer = await this.s3.send(
        new GetObjectCommand({
          Bucket: this.options.bucket,
          Key: this.key(key),
          Range: range ? `bytes=${range.start}-${range.end}` : undefined,
        }),
      );
      // A ranged answer's Content-Range ends in the whole size; its Content-Length is the range's.
      const total = answer.ContentRange ? Number(answer.ContentRange.split('/')[1]) : answer.ContentLength;
      return {
        object: { size: total ?? 0, contentType: answer.ContentType ?? 'application/octet-stream' },
        body: answer.Body as Readable,
      };
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    await this.s3.send(new DeleteObjectCommand({ Bucket: this.options.bucket, Key: this.key(key) }));
  }

  presignedUrl(key: string, expiresInSeconds: number): Promise<string | null> {
    return getSignedUrl(this.s3, new GetObjectCommand({ Bucket: this.options.bucket, Key: this.key(key) }), { expiresIn: expiresInSeconds });
  }

  stop(): void {
    this.s3.destroy();
  }

  private key(key: string): string {
    return this.options.prefix + checkMediaKey(key);
  }
}

function isNotFound(error: unknown): boolean {
  return error instanceof S3ServiceException && (error.name === 'NotFound' || error.name === 'NoSuchKey' || error.$metadata.httpStatusCode === 404);
}
