/**
 * The upstream's error envelope and the JSON response helpers every simulator route shares.
 *
 * The AI/ML API answers HTTP-level errors with a NestJS-style envelope (contract §7); clients
 * parse `message` from it, so the simulator must produce exactly that shape.
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';

export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

export interface ErrorEnvelope {
  statusCode: number;
  message: string;
  path: string;
  /** A fresh UUID per response. */
  requestId: string;
  /** ISO-8601 UTC with milliseconds, e.g. `2026-08-20T10:15:42.318Z`. */
  timestamp: string;
}

/** The messages the contract documents (or paraphrases) per status; anything else gets Node's reason phrase. */
const STANDARD_MESSAGES: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'A valid API key is required for this request. Create one at https://aimlapi.com/app/keys',
  403: 'You have run out of credits. Top up your balance or update your payment method: https://aimlapi.com/app/billing/',
  404: 'Not Found',
  413: 'Payload Too Large',
  429: 'Too Many Requests',
  500: 'Internal server error',
  502: 'Bad Gateway',
  503: 'Service unavailable',
  504: 'Generation timeout',
};

export function standardMessage(status: number): string {
  return STANDARD_MESSAGES[status] ?? `HTTP ${status}`;
}

export function envelope(statusCode: number, message: string, path: string): ErrorEnvelope {
  return { statusCode, message, path, requestId: randomUUID(), timestamp: new Date().toISOString() };
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'content-type': JSON_CONTENT_TYPE,
    'content-length': Buffer.byteLength(payload),
  });
  res.end(payload);
}

export function sendError(res: ServerResponse, status: number, message: string, path: string): void {
  sendJson(res, status, envelope(status, message, path));
}
