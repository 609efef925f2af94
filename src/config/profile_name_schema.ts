import type { z } from "zod";
import { matching } from "./value_schemas.ts";

/** How a profile is named: a letter or "_", then letters, digits, "_", "." or "-". */
export const PROFILE_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;

/** What {@linkcode PROFILE_NAME} expects, for messages. */
export const PROFILE_NAME_EXPECTED =
  `a profile name (a letter or "_", then letters, digits, "_", "." or "-"; at most 64)`;

/** The name of an entry of `profiles`. */
export function profileName(): z.ZodString {
  return matching(PROFILE_NAME, PROFILE_NAME_EXPECTED);
}
