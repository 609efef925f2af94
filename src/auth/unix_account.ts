/** A local Unix account: the owner a user's socket directory gets. */
export interface UnixAccount {
  uid: number;
  gid: number;
}

/**
 * The account of `name` in a passwd file (`/etc/passwd` by default), or
 * `undefined` when it has none. Accounts only NSS knows (LDAP, SSSD) are not
 * found: their socket directories are made by the operator.
 */
export async function unixAccount(
  name: string,
  passwd = "/etc/passwd",
): Promise<UnixAccount | undefined> {
  const text = await Deno.readTextFile(passwd);
  for (const line of text.split("\n")) {
    const [user, , uid, gid] = line.split(":");
    if (user !== name || uid === undefined || gid === undefined) continue;
    const account = { uid: Number(uid), gid: Number(gid) };
    if (Number.isInteger(account.uid) && Number.isInteger(account.gid)) return account;
  }
  return undefined;
}
