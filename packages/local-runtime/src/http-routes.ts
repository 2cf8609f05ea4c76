// The table of HTTP-triggered functions: templates under the route prefix, methods, precedence.
import { hostError } from "./log.js";
import { compareRoutePrecedence, decodeSegments, matchDecodedSegments, parseRouteTemplate, type RouteTemplate } from "./route-template.js";
import type { RegisteredFunction } from "./function-host.js";

export interface HttpRoute {
  fn: RegisteredFunction;
  template: RouteTemplate;
  /** Upper-case methods, or undefined for every method (the host maps a missing list to "all"). */
  methods: string[] | undefined;
  disabled: boolean;
  /** Name of the `http` output binding (`$return` or a named output), worked out at registration. */
  httpOutputName: string | undefined;
}

export interface RouteMatch {
  route: HttpRoute;
  params: Record<string, string>;
}

export class HttpRouteTable {
  readonly routes: HttpRoute[] = [];
  /** Lower-case prefix segments, split once. */
  readonly #prefix: string[];

  constructor(readonly routePrefix: string) {
    this.#prefix = routePrefix === "" ? [] : routePrefix.toLowerCase().split("/");
  }

  /** Adds a function; a bad template puts that function in error (logged) without stopping the others. */
  add(fn: RegisteredFunction, resolvedTrigger: Record<string, unknown>, disabled: boolean): HttpRoute | undefined {
    const route = typeof resolvedTrigger.route === "string" && resolvedTrigger.route !== "" ? resolvedTrigger.route : fn.name;
    let template: RouteTemplate;
    try {
      template = parseRouteTemplate(route);
    } catch (error) {
      hostError(`The '${fn.name}' function is in error: ${error instanceof Error ? error.message : String(error)}`);
      return undefined;
    }
    const methods = Array.isArray(resolvedTrigger.methods) && resolvedTrigger.methods.length > 0
      ? resolvedTrigger.methods.map((m) => String(m).toUpperCase())
      : undefined;
    const httpOutputName = Object.entries(fn.metadata.bindings).find(
      ([, b]) => b.direction === "out" && String(b.type).toLowerCase() === "http",
    )?.[0];
    const entry: HttpRoute = { fn, template, methods, disabled, httpOutputName };
    this.routes.push(entry);
    this.routes.sort((a, b) => compareRoutePrecedence(a.template, b.template));
    return entry;
  }

  /** Public URL path of a route, with the prefix, as `func start` prints it. */
  pathOf(route: HttpRoute): string {
    const template = route.template.text.replace(/^\/+/, "");
    return `/${[this.routePrefix, template].filter((p) => p !== "").join("/")}`;
  }

  /**
   * First route in precedence order whose template and method both match: the host registers methods as a route
   * constraint, so a wrong method falls through to the next route and finally to 404.
   */
  match(pathname: string, method: string): RouteMatch | undefined {
    const all = pathname.split("/");
    // Drop the empty segments before the leading and after a trailing slash.
    const start = all[0] === "" ? 1 : 0;
    const end = all.length > start && all[all.length - 1] === "" ? all.length - 1 : all.length;
    const prefix = this.#prefix;
    for (let i = 0; i < prefix.length; i++) {
      const segment = all[start + i];
      if (segment === undefined || start + i >= end || segment.toLowerCase() !== prefix[i]) return undefined;
    }
    const segments = decodeSegments(all.slice(start + prefix.length, end));
    const upper = method.toUpperCase();
    for (const route of this.routes) {
      if (route.methods && !route.methods.includes(upper)) continue;
      const params = matchDecodedSegments(route.template, segments);
      if (params) return { route, params };
    }
    return undefined;
  }
}
