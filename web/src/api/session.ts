import type { components } from "./schema";

export type Tokens = components["schemas"]["Tokens"];
export type User = components["schemas"]["User"];

/**
 * What survives a reload, shared by every tab: the refresh token, and whose it is (so a tab showing one user never
 * rotates another's token; absent for a moment after sign-in, until the user is loaded).
 */
interface StoredSession {
  refreshToken: string;
  refreshTokenExpiresAt: string;
  userId?: string;
}

export interface SessionState {
  accessToken: string | null;
  /** When the access token stops working (ms since the epoch); it is renewed a little before. */
  accessExpiresAt: number;
  user: User | null;
  /** Why the last session ended without the user asking, for the sign-in page to say. */
  endedBecause: string | null;
}

const storageKey = "ringlet.session";
/**
 * The access token is also kept for this tab's life (sessionStorage), so a reload uses it rather than rotating the
 * refresh token. Rotating at every load was fragile: a reload while a rotation was in flight never stored the new
 * token, and the next load's reuse of the old one made the server end the whole session (REFRESH_TOKEN_REUSED).
 */
const accessKey = "ringlet.access";

function storedAccess(): Pick<SessionState, "accessToken" | "accessExpiresAt"> {
  try {
    const parsed = JSON.parse(sessionStorage.getItem(accessKey) ?? "null") as { accessToken?: unknown; accessExpiresAt?: unknown } | null;
    if (parsed && typeof parsed.accessToken === "string" && typeof parsed.accessExpiresAt === "number" && parsed.accessExpiresAt > Date.now()) {
      return { accessToken: parsed.accessToken, accessExpiresAt: parsed.accessExpiresAt };
    }
  } catch {
    // Unreadable: start without one.
  }
  return { accessToken: null, accessExpiresAt: 0 };
}

let state: SessionState = { ...storedAccess(), user: null, endedBecause: null };
const listeners = new Set<() => void>();

function publish(next: Partial<SessionState>): void {
  state = { ...state, ...next };
  for (const listener of listeners) listener();
}

export const session = {
  get: (): SessionState => state,
  subscribe(listener: () => void): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
  stored(): StoredSession | null {
    try {
      const raw = localStorage.getItem(storageKey);
      if (!raw) return null;
      const parsed = JSON.parse(raw) as Partial<StoredSession>;
      if (typeof parsed.refreshToken !== "string" || typeof parsed.refreshTokenExpiresAt !== "string") return null;
      if (Date.parse(parsed.refreshTokenExpiresAt) <= Date.now()) return null;
      return {
        refreshToken: parsed.refreshToken,
        refreshTokenExpiresAt: parsed.refreshTokenExpiresAt,
        ...(typeof parsed.userId === "string" ? { userId: parsed.userId } : {}),
      };
    } catch {
      return null;
    }
  },
  /**
   * New tokens from sign-in or a rotation: the refresh token is stored (with its user when known: a rotation keeps
   * the one it rotated), the access token kept for this tab.
   */
  signedIn(tokens: Tokens, userId?: string): void {
    const stored: StoredSession = { refreshToken: tokens.refreshToken, refreshTokenExpiresAt: tokens.refreshTokenExpiresAt, ...(userId ? { userId } : {}) };
    const accessExpiresAt = Date.now() + tokens.expiresIn * 1000;
    localStorage.setItem(storageKey, JSON.stringify(stored));
    sessionStorage.setItem(accessKey, JSON.stringify({ accessToken: tokens.accessToken, accessExpiresAt }));
    publish({ accessToken: tokens.accessToken, accessExpiresAt, endedBecause: null });
  },
  setUser(user: User | null): void {
    const stored = session.stored();
    // Records whose the stored token is, the first time the user is known (just after sign-in).
    if (user && stored && !stored.userId) localStorage.setItem(storageKey, JSON.stringify({ ...stored, userId: user.id }));
    publish({ user });
  },
  /** Ends the session, in every tab (the server's side is ended by the caller when it can be). */
  end(reason: string | null = null): void {
    localStorage.removeItem(storageKey);
    session.endHere(reason);
  },
  /** Ends this tab's session only, leaving the stored one (another tab's, perhaps another user's) alone. */
  endHere(reason: string | null = null): void {
    sessionStorage.removeItem(accessKey);
    publish({ accessToken: null, accessExpiresAt: 0, user: null, endedBecause: reason });
  },
};

/**
 * Other tabs share the stored session. When one of them signs out (or its session is refused), this tab ends its
 * own at once rather than keep showing the user's data; when one signs in as someone else, this tab starts over
 * as that user, so it never shows one user while acting as another.
 */
function followOtherTabs(event: StorageEvent): void {
  if (event.key !== storageKey && event.key !== null) return;
  const shown = state.user;
  if (!shown && !state.accessToken) return;
  const stored = session.stored();
  if (!stored) {
    session.endHere("Your session ended in another tab. Please sign in again.");
  } else if (stored.userId && shown && stored.userId !== shown.id) {
    sessionStorage.removeItem(accessKey);
    location.reload();
  }
}

if (typeof window !== "undefined") window.addEventListener("storage", followOtherTabs);

/** True when the user holds a global role (`admin`, `finance`, `course-creator`). */
export function hasRole(user: User | null, role: User["roles"][number]): boolean {
  return Boolean(user?.roles.includes(role));
}

/** True when the user teaches or grades any course, or may create one (a course creator, an administrator). */
export function isStaff(user: User | null): boolean {
  return Boolean(user && (user.roles.includes("admin") || user.roles.includes("course-creator") || user.courseRoles.length > 0));
}
