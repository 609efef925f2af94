import type { Challenge } from "./second_factor.ts";
import type { CertificateGrant } from "./user_certificate.ts";

/**
 * Who an SSH connection authenticated as, and how. Produced only after a
 * credential was verified: a matching password, or a public key whose
 * signature the SSH layer checked (and then any second factor the user has).
 */
export interface Identity {
  /** The user name the client logged in with. */
  username: string;
  /**
   * The method that authenticated it; `socket` for a connection on the
   * user's own unix socket (`server.userSockets`), whose file permissions are
   * the credential: OpenSSH authenticated the user before `capsule spawn` ran.
   */
  method: "password" | "publickey" | "socket";
  /** `SHA256:...` fingerprint of the key, for `publickey` logins. */
  keyFingerprint?: string;
  /**
   * For a login with an OpenSSH user certificate: what it grants (its
   * `force-command`, and the pty, port and agent forwarding it permits).
   */
  certificate?: CertificateGrant;
  /** The second factors passed after `method`, in order (e.g. `["totp"]`). */
  secondFactors?: readonly string[];
  /** The container profile the auth webhook named for this login. */
  profile?: string;
  /**
   * Questions the auth webhook still asks after the first factor; the SSH
   * layer asks them as a second step (see `outsideChallengeFactor`).
   */
  pendingChallenge?: Challenge;
}

/** An authenticated connection: its id and who it authenticated as. */
export interface ConnectionIdentity {
  connectionId: string;
  identity: Identity;
}
