/**
 * Why a webhook call gave no usable answer:
 * - `unavailable`: no answer (transport errors, timeouts, 5xx) after every
 *   attempt, or none before the deadline;
 * - `refused`: an answer other than 200 (4xx, a redirect...), not retried;
 * - `invalid`: a 200 whose body is not a JSON object capsule accepts.
 */
export type WebhookFailureKind = "unavailable" | "refused" | "invalid";

/**
 * A webhook call that failed, for the operator's log: its message says what
 * happened without the URL's query or anything the answer carried.
 */
export class WebhookFailure extends Error {
  /** What kind of failure, for the log and the metrics. */
  readonly kind: WebhookFailureKind;
  /** Calls made, the failed ones included. */
  readonly attempts: number;

  /**
   * @param kind see {@linkcode WebhookFailureKind}
   * @param message the operator's line, e.g. `no answer within 2 s`
   */
  constructor(kind: WebhookFailureKind, message: string, options: { attempts: number }) {
    super(message);
    this.name = "WebhookFailure";
    this.kind = kind;
    this.attempts = options.attempts;
  }
}
