import { dictionary } from "@zxcvbn-ts/language-common";
import { z } from "zod";

export const MIN_PASSWORD_LENGTH = 12;
// A new password may be a long passphrase, but not longer than ASVS 2.1.2 allows.
export const MAX_NEW_PASSWORD_LENGTH = 128;
// What sign-in and the current-password fields accept: more than new passwords may have, so no password set
// before the limit was lowered is locked out; short enough that hashing stays cheap to refuse.
export const MAX_PASSWORD_LENGTH = 256;

let common: Set<string> | undefined;

/** ~49,000 passwords seen most often in breaches (zxcvbn-ts's common list), loaded on first use. */
function commonPasswords(): Set<string> {
  common ??= new Set(dictionary["passwords-common"].map((p) => p.toLowerCase()));
  return common;
}

export const isCommonPassword = (password: string): boolean => commonPasswords().has(password.toLowerCase());

export const passwordSchema = z
  .string()
  .min(MIN_PASSWORD_LENGTH, { message: `must be at least ${MIN_PASSWORD_LENGTH} characters` })
  .max(MAX_NEW_PASSWORD_LENGTH, { message: `must be at most ${MAX_NEW_PASSWORD_LENGTH} characters` })
  .refine((p) => !isCommonPassword(p), { message: "is too common; choose another" });
