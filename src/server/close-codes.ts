/**
 * Every code the gateway closes a WebSocket with. graphql-ws's own `CloseCode` where it has the
 * code, so its clients read them as the protocol means them; RFC 6455's for the rest.
 */
import { CloseCode } from 'graphql-ws';

export enum SocketCloseCode {
  /** The gateway is shutting down: graphql-ws clients reconnect, to another instance if there is one. */
  GoingAway = 1001,
  /**
   * A temporary condition (a database outage, a client too slow to read what it is sent): graphql-ws
   * clients reconnect and resubscribe, and each subscription's snapshot makes them whole. They
   * never retry 4500, and give up after 1008.
   */
  TryAgainLater = 1013,
  /** A missing, refused, revoked or expired credential. */
  Forbidden = CloseCode.Forbidden,
  /** No `connection_init` within the configured wait. */
  ConnectionInitialisationTimeout = CloseCode.ConnectionInitialisationTimeout,
  /**
   * The address spent its budget for failed authentications. graphql-ws's "too many initialisation
   * requests": its clients do not retry it, which is the point.
   */
  TooManyRequests = CloseCode.TooManyInitialisationRequests,
  /** An unexpected error, logged once and masked. */
  InternalServerError = CloseCode.InternalServerError,
}
