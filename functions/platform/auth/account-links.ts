import type { VerificationOptions } from "../../../domain/identity/email-verification.js";
import type { PasswordResetOptions } from "../../../domain/identity/password-reset.js";
import type { Settings } from "../settings.js";

// What the domain needs from the settings to issue the emailed single-use links of the account flows.

export const verificationOptions = (s: Settings): VerificationOptions => ({ ttlHours: s.AUTH_VERIFICATION_TTL_H, appUrl: s.PUBLIC_APP_URL });

export const passwordResetOptions = (s: Settings): PasswordResetOptions => ({
  ttlMinutes: s.AUTH_PASSWORD_RESET_TTL_MIN,
  appUrl: s.PUBLIC_APP_URL,
  maxPerAccount: s.AUTH_PASSWORD_RESET_MAX_PER_ACCOUNT,
  maxPerAddress: s.AUTH_PASSWORD_RESET_MAX_PER_ADDRESS,
});

export const accountInvitationOptions = (s: Settings) => ({ ttlHours: s.AUTH_INVITATION_TTL_H, appUrl: s.PUBLIC_APP_URL });
