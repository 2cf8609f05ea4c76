import type { z } from "zod";
import type { AccessPolicy } from "./access.js";

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export interface ResponseDeclaration {
  description: string;
  /** JSON body schema; omit for empty bodies. */
  body?: z.ZodType;
  /** Non-JSON bodies (HTML, files) name their media type instead. */
  contentType?: string;
  /** Further media types the same status answers in, as the request asks (a CSV beside the JSON): schema by type. */
  otherContent?: Record<string, z.ZodType>;
}

/** Everything a route states about itself except its handler: what OpenAPI, 405s and tests read. */
export interface RouteDeclaration {
  name: string;
  method: HttpMethod;
  /** Path under the `/api` prefix in OpenAPI form: `/v1/courses/{courseId}`; `{*rest}` is a catch-all. */
  path: string;
  access: AccessPolicy;
  /** A public route whose answer depends on who calls (drafts for their staff): documents the token as optional. */
  optionalToken?: boolean;
  /**
   * The answer names or serves a person, so no cache may keep it (`Cache-Control: no-store`, set by the edge).
   * Unset: personal when the route needs a caller or is a sign-in/token route (`/v1/auth/...`); a public route
   * that answers about someone (certificate verification, a link's token) says `true`. Any request that sends
   * a token is answered no-store as well, whatever the route says.
   */
  personal?: boolean;
  summary: string;
  description?: string;
  tags?: string[];
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** How the body is encoded: JSON (the default), or an HTML form's text fields (RFC 8058 one-click unsubscribe). */
  bodyFormat?: "json" | "form";
  /** Unknown body fields are refused (400) unless the route opts to strip them. */
  unknownFields?: "reject" | "strip";
  bodyLimitBytes?: number;
  /** Creating POSTs accept `Idempotency-Key` and replay the first response. */
  idempotent?: boolean;
  /** Documents `If-None-Match` (read) or `If-Match` (update) support. */
  conditional?: "read" | "update";
  responses: Record<number, ResponseDeclaration>;
  /** Left out of the OpenAPI document (docs assets, the catch-all). */
  hidden?: boolean;
}

const declared: RouteDeclaration[] = [];

export function recordRoute(route: RouteDeclaration): void {
  const clash = declared.find((r) => r.name === route.name || (r.method === route.method && r.path === route.path));
  if (clash) throw new Error(`route ${route.method} ${route.path} (${route.name}) clashes with ${clash.name}`);
  declared.push(route);
}

export const declaredRoutes = (): readonly RouteDeclaration[] => declared;

/** Matches a concrete path against a template the way the host does (one segment per `{x}`, `{*x}` takes the rest). */
export function templateMatches(template: string, path: string): boolean {
  const pattern = template
    .split("/")
    .map((segment) => {
      if (/^\{\*[^}]+\}$/.test(segment)) return ".*";
      return segment
        .split(/(\{[^}]+\})/)
        .map((part) => (/^\{[^}]+\?\}$/.test(part) ? "[^/]*" : /^\{[^}]+\}$/.test(part) ? "[^/]+" : escape(part)))
        .join("");
    })
    .join("/");
  return new RegExp(`^${pattern}/?$`, "i").test(path);
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
