import type { AccessToken, GetTokenOptions, TokenCredential } from "@azure/core-auth";
import { lazy } from "./lazy.js";

/**
 * DefaultAzureCredential, loaded on the first token request. @azure/identity (with MSAL, about 160 modules) costs
 * every start of the app, yet only managed-identity deployments ever ask for a token: local runs and tests use
 * connection strings and never load it.
 */
export function defaultAzureCredential(managedIdentityClientId: string | undefined): TokenCredential {
  const credential = lazy(() => import("@azure/identity").then(({ DefaultAzureCredential }) => new DefaultAzureCredential(managedIdentityClientId ? { managedIdentityClientId } : {})));
  return {
    getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null> {
      return credential().then((c) => c.getToken(scopes, options));
    },
  };
}
