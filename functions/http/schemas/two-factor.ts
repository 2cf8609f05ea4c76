import { z } from "zod";

/** What sign-in answers (202) when the password was right and a second factor is due. */
export const twoFactorChallengeSchema = z
  .object({
    challengeToken: z.string().meta({ description: "Single use; send it with a code to POST /api/v1/auth/login/two-factor" }),
    expiresIn: z.number().int().meta({ description: "Seconds the challenge stays valid" }),
    methods: z.array(z.enum(["totp", "recovery-code"])),
  })
  .meta({ id: "TwoFactorChallenge" });

/** A six-digit TOTP code from the authenticator app. */
export const totpCodeSchema = z.string().regex(/^\d{6}$/, "must be the 6-digit code the authenticator app shows");
