import type { HttpRequest } from "@azure/functions";

/**
 * Who may call a route. The identity work adds authenticated, admin, course-staff and owner policies
 * here; enforcement stays in `enforceAccess`, the one place the route helper calls.
 */
export type AccessPolicy = { kind: "public" };

export const publicAccess: AccessPolicy = { kind: "public" };

/** The caller as far as the route is concerned; anonymous until the identity work fills it in. */
export interface Principal {
  userId: string | null;
}

export async function enforceAccess(policy: AccessPolicy, _request: HttpRequest): Promise<Principal> {
  switch (policy.kind) {
    case "public":
      return { userId: null };
  }
}
