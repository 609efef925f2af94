/**
 * Who may log in: password hashes, authorized keys, user certificates, TOTP
 * and other second factors, and the authenticator.
 */
export * from "./authenticator.ts";
export * from "./ephemeral_keys.ts";
export * from "./identity.ts";
export * from "./password_hash.ts";
export * from "./public_key.ts";
export * from "./well_known_passwords.ts";
export * from "./source_address.ts";
export * from "./user_certificate.ts";
export * from "./base32.ts";
export * from "./second_factor.ts";
export * from "./totp.ts";
export * from "./totp_factor.ts";
export * from "./unix_account.ts";
