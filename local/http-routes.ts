// The table of HTTP-triggered functions: templates under the route prefix, methods, precedence.
import { hostError } from './log.js';
import { compareRoutePrecedence, matchRouteTemplate, parseRouteTemplate, type RouteTemplate } from './route-template.js';
import type { RegisteredFunction } from './function-host.js';

export interface HttpRoute {
  fn: RegisteredFunction;
  template: RouteTemplate;
  /** Upper-case methods, or undefined for every method (the host maps a missing list to "all"). */
  methods: string[] | undefined;
  disabled: boolean;
}

export interface RouteMatch {
  route: HttpRoute;
  params: Record<string, string>;
}

export class HttpRouteTable {
  readonly routes: HttpRoute[] = [];

  constructor(readonly routePrefix: string) {}

  /** Adds a function; a bad template puts that function in error (logged) without stopping the others. */
  add(fn: RegisteredFunction, resolvedTrigger: Record<string, unknown>, disabled: boolean): HttpRoute | undefined {
    const route = typeof resolvedTrigger.route === 'string' && resolvedTrigger.route !== '' ? resolvedTrigger.route : fn.name;
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
    const entry: HttpRoute = { fn, template, methods, disabled };
    this.routes.push(entry);
    this.routes.sort((a, b) => compareRoutePrecedence(a.template, b.template));
    return entry;
  }

  /** Public URL path of a route, with the prefix, as `func start` prints it. */
  pathOf(route: HttpRoute): string {
    const template = route.template.text.replace(/^\/+/, '');
    return `/${[this.routePrefix, template].filter((p) => p !== '').join('/')}`;
  }

  /**
   * First route in precedence order whose template and method both match: the host registers methods as a route
   * constraint, so a wrong method falls through to the next route and finally to 404.
   */
  match(pathname: string, method: string): RouteMatch | undefined {
    let segments = pathname.split('/').filter((s, i, all) => !(s === '' && (i === 0 || i === all.length - 1)));
    if (this.routePrefix !== '') {
      const prefix = this.routePrefix.split('/');
      const head = segments.slice(0, prefix.length).map((s) => s.toLowerCase());
      if (head.join('/') !== prefix.map((p) => p.toLowerCase()).join('/')) return undefined;
      segments = segments.slice(prefix.length);
    }
    for (const route of this.routes) {
      if (route.methods && !route.methods.includes(method.toUpperCase())) continue;
      const params = matchRouteTemplate(route.template, segments);
      if (params) return { route, params };
    }
    return undefined;
  }
}
