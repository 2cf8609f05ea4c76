import { z } from "zod";
import type { IssuedRefreshToken } from "../../../domain/identity/refresh-tokens.js";
import type { Platform } from "../platform.js";
import type { Settings } from "../settings.js";

/** What every route that signs someone in answers: a short-lived access token and the session's refresh token. */
export const tokensSchema = z
  .object({
    accessToken: z.string(),
    refreshToken: z.string(),
    tokenType: z.literal("Bearer"),
    expiresIn: z.number().int().meta({ description: "Seconds until the access token expires" }),
    refreshTokenExpiresAt: z.iso.datetime(),
  })
  .meta({ id: "Tokens" });

export type SessionTokens = z.infer<typeof tokensSchema>;

/** Signs an access token for the session the refresh token belongs to (its family) and answers both. */
export async function sessionTokens(p: Platform, userId: string, refresh: IssuedRefreshToken): Promise<SessionTokens> {
  const access = await (await p.accessTokens).sign({ userId, sessionId: refresh.familyId });
  return {
    accessToken: access.token,
    refreshToken: refresh.token,
    tokenType: "Bearer",
    expiresIn: access.expiresIn,
    refreshTokenExpiresAt: refresh.expiresAt.toISOString(),
  };
}

/** Tokens are secrets: never stored by a cache on the way. */
export const noStore = { "cache-control": "no-store" };

/**
 * How long a refresh token lives (each use gives a new one: an idle session ends after this) and how long a session
 * lives however often it is refreshed; a first token never outlives its session either.
 */
export function sessionLifetimes(s: Settings): { refreshTtlSeconds: number; maxAgeSeconds: number } {
  const maxAgeSeconds = s.AUTH_SESSION_MAX_AGE_H * 3600;
  return { refreshTtlSeconds: Math.min(s.AUTH_REFRESH_TOKEN_TTL_DAYS * 86_400, maxAgeSeconds), maxAgeSeconds };
}
