/** Names of the events of the audit log (see docs/audit.md for each one's fields). */
export type AuditEventName =
  | "connection.open"
  | "connection.close"
  | "auth"
  | "session.start"
  | "session.end"
  | "session.refused"
  | "container.create"
  | "container.remove"
  | "forward.open"
  | "forward.close"
  | "forward.refused"
  | "sftp.open"
  | "sftp.close"
  | "sftp.opendir"
  | "sftp.remove"
  | "sftp.rename"
  | "sftp.mkdir"
  | "sftp.rmdir"
  | "sftp.setstat"
  | "sftp.symlink"
  | "sftp.error"
  | "sftp.capped";

/** Values an audit field may carry. */
export type AuditValue = string | number | boolean | undefined;

/**
 * The fields of one audit event. `connection`, `user` and `remote` go into
 * the envelope; a recorder that knows the connection fills in the other two.
 */
export type AuditFields = {
  connection?: string | undefined;
  user?: string | undefined;
  remote?: string | undefined;
  [field: string]: AuditValue;
};

/**
 * Something that takes audit events: the audit file, the metrics. `record`
 * must return at once and never throw: it is called on the session path.
 */
export interface AuditRecorder {
  record(event: AuditEventName, fields: AuditFields): void;
}

/** A recorder that hands every event to each of `recorders`, in order. */
export function fanOut(recorders: readonly AuditRecorder[]): AuditRecorder {
  return {
    record(event, fields) {
      for (const recorder of recorders) {
        try {
          recorder.record(event, fields);
        } catch {
          // One broken consumer must not keep the event from the others.
        }
      }
    },
  };
}
