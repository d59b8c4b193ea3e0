import { linkExpiry } from '../../../src/upstream/link-expiry';

describe('linkExpiry', () => {
  it('reads Expires= (CloudFront, Google V2, the vendor samples) as unix seconds', () => {
    expect(linkExpiry('https://cdn.example.com/v.mp4?Expires=1767225600&Signature=abc&Key-Pair-Id=K')).toEqual(new Date('2026-01-01T00:00:00Z'));
  });

  it('adds X-Amz-Expires to X-Amz-Date (S3 SigV4), whatever the case of the names', () => {
    const link = 'https://b.s3.amazonaws.com/v.mp4?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20260102T030405Z&X-Amz-Expires=3600&X-Amz-Signature=f';
    expect(linkExpiry(link)).toEqual(new Date('2026-01-02T04:04:05Z'));
    expect(linkExpiry(link.toLowerCase().replace('20260102t030405z', '20260102T030405Z'))).toEqual(new Date('2026-01-02T04:04:05Z'));
  });

  it('adds X-Goog-Expires to X-Goog-Date (Google V4)', () => {
    expect(linkExpiry('https://storage.googleapis.com/b/v.mp4?X-Goog-Date=20260102T000000Z&X-Goog-Expires=86400&X-Goog-Signature=s')).toEqual(
      new Date('2026-01-03T00:00:00Z'),
    );
  });

  it('says null when the link does not say, or says it in a form it cannot trust', () => {
    expect(linkExpiry('https://cdn.example.com/v.mp4')).toBeNull();
    expect(linkExpiry('https://cdn.example.com/v.mp4?Expires=tomorrow')).toBeNull();
    expect(linkExpiry('https://cdn.example.com/v.mp4?X-Amz-Date=yesterday&X-Amz-Expires=60')).toBeNull();
    expect(linkExpiry('https://cdn.example.com/v.mp4?X-Amz-Date=20260102T030405Z')).toBeNull();
    expect(linkExpiry('not a url')).toBeNull();
  });
});
