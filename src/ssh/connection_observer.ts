/**
 * What the SSH layer tells an observer (the audit, the metrics) about
 * connections: their opening, each authentication attempt, their closing.
 * Calls must return at once and never throw.
 */
export interface ConnectionObserver {
  /** The SSH handshake began on an admitted socket. */
  opened(connection: { id: string; remote: string; client: string }): void;
  /**
   * One authentication request. `query`: a public key offered without a
   * signature ("would you accept this key?"), which authenticates nothing.
   * `partial`: the credential was right but another step is owed (a second
   * factor); `accepted` is then false. Never a password, a code or key
   * material: only the key's fingerprint.
   */
  authAttempt(attempt: {
    connection: string;
    user: string;
    method: string;
    accepted: boolean;
    partial?: boolean;
    /** The second factor a keyboard-interactive attempt answered, e.g. `totp`. */
    secondFactor?: string;
    query: boolean;
    fingerprint?: string;
    /** The OpenSSH user certificate an accepted login used. */
    certificate?: { keyId: string; serial: string };
  }): void;
  /** The connection closed; `reason` says who or what ended it. */
  closed(connection: { id: string; user?: string; reason: string; durationMs: number }): void;
}
