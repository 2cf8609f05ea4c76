// The extension's HTTP API under /runtime/webhooks/durabletask/, as the library's DurableClient calls it
// through `rpcBaseUrl` (and as the check-status URLs point at): start, status, list, raise event, terminate,
// suspend, resume, purge. Status codes and bodies follow the extension's HttpApiHandler.
import type { IncomingMessage, ServerResponse } from "node:http";
import { readBody } from "../http-rpc.js";
import { StartError, isTerminal, type DurableEngine, type ListFilter } from "./engine.js";
import { eventTypeNames, EventType, type HistoryEvent, type InstanceState } from "./types.js";

export const webhookPrefix = "/runtime/webhooks/durabletask/";

export interface DurableApiContext {
  engine: DurableEngine;
  taskHubName: string;
  connectionName: string;
}

/** `http://host/runtime/webhooks/durabletask` and the query every URL the extension hands out carries. */
export function managementUrls(baseUrl: string, hub: string, connection: string, instanceId: string) {
  const root = `${baseUrl}/runtime/webhooks/durabletask`;
  const query = `taskHub=${encodeURIComponent(hub)}&connection=${encodeURIComponent(connection)}&code=`;
  const prefix = `${root}/instances/${instanceId}`;
  return {
    id: instanceId,
    statusQueryGetUri: `${prefix}?${query}`,
    sendEventPostUri: `${prefix}/raiseEvent/{eventName}?${query}`,
    terminatePostUri: `${prefix}/terminate?reason={text}&${query}`,
    rewindPostUri: `${prefix}/rewind?reason={text}&${query}`,
    purgeHistoryDeleteUri: `${prefix}?${query}`,
    restartPostUri: `${prefix}/restart?${query}`,
    suspendPostUri: `${prefix}/suspend?reason={text}&${query}`,
    resumePostUri: `${prefix}/resume?reason={text}&${query}`,
  };
}

export function creationUrls(baseUrl: string, hub: string, connection: string) {
  const root = `${baseUrl}/runtime/webhooks/durabletask`;
  const query = `taskHub=${encodeURIComponent(hub)}&connection=${encodeURIComponent(connection)}&code=`;
  return {
    createNewInstancePostUri: `${root}/orchestrators/{functionName}[/{instanceId}]?${query}`,
    createAndWaitOnNewInstancePostUri: `${root}/orchestrators/{functionName}[/{instanceId}]?timeout={timeoutInSeconds}&pollingInterval={intervalInSeconds}&${query}`,
  };
}

/** The extension's time format for status payloads: `yyyy-MM-ddTHH:mm:ssZ`. */
function statusTime(iso: string): string {
  return `${iso.slice(0, 19)}Z`;
}

export function statusPayload(state: InstanceState, options: { showHistory?: boolean; showHistoryOutput?: boolean; showInput?: boolean } = {}) {
  const payload: Record<string, unknown> = {
    name: state.name,
    instanceId: state.instanceId,
    runtimeStatus: state.status,
    input: options.showInput === false ? null : (state.input ?? null),
    customStatus: state.customStatus ?? null,
    output: state.output ?? null,
    createdTime: statusTime(state.createdTime),
    lastUpdatedTime: statusTime(state.lastUpdatedTime),
  };
  if (options.showHistory) payload.historyEvents = friendlyHistory(state, options.showHistoryOutput === true);
  return payload;
}

/** History as the extension shows it: scheduling events folded into their completions, orchestrator markers left out. */
function friendlyHistory(state: InstanceState, showOutput: boolean): Record<string, unknown>[] {
  const scheduled = new Map<number, HistoryEvent>();
  for (const e of state.history) if (e.EventType === EventType.TaskScheduled || e.EventType === EventType.SubOrchestrationInstanceCreated) scheduled.set(e.EventId, e);
  const out: Record<string, unknown>[] = [];
  const parse = (text: string | undefined): unknown => {
    if (text === undefined) return null;
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  };
  for (const e of state.history) {
    switch (e.EventType) {
      case EventType.OrchestratorStarted:
      case EventType.OrchestratorCompleted:
      case EventType.TaskScheduled:
      case EventType.SubOrchestrationInstanceCreated:
        continue;
      default:
        break;
    }
    const entry: Record<string, unknown> = { EventType: eventTypeNames[e.EventType] ?? String(e.EventType), Timestamp: e.Timestamp };
    if (e.EventType === EventType.ExecutionStarted) {
      entry.FunctionName = e.Name;
      if (showOutput) entry.Input = parse(e.Input);
    } else if (e.TaskScheduledId !== undefined) {
      const origin = scheduled.get(e.TaskScheduledId);
      entry.FunctionName = origin?.Name;
      entry.ScheduledTime = origin?.Timestamp;
      if (e.EventType === EventType.TaskCompleted || e.EventType === EventType.SubOrchestrationInstanceCompleted) {
        if (showOutput) entry.Result = parse(e.Result);
      } else {
        entry.Reason = e.Reason;
        entry.Details = e.Details;
      }
    } else if (e.EventType === EventType.TimerCreated || e.EventType === EventType.TimerFired) {
      entry.FireAt = e.FireAt;
      if (e.TimerId !== undefined) entry.TimerId = e.TimerId;
    } else if (e.EventType === EventType.EventRaised) {
      entry.Name = e.Name;
      if (showOutput) entry.Input = parse(e.Input);
    }
    out.push(entry);
  }
  if (isTerminal(state.status)) {
    out.push({
      EventType: "ExecutionCompleted",
      OrchestrationStatus: state.status,
      Result: showOutput ? state.output : undefined,
      Timestamp: state.lastUpdatedTime,
    });
  }
  return out;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.statusCode = status;
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  if (body === undefined) {
    res.end();
    return;
  }
  res.setHeader("content-type", "application/json; charset=utf-8");
  res.end(JSON.stringify(body));
}

function sendError(res: ServerResponse, status: number, message: string, exceptionMessage?: string): void {
  sendJson(res, status, exceptionMessage ? { Message: message, ExceptionMessage: exceptionMessage } : { Message: message });
}

function bool(url: URL, name: string): boolean | undefined {
  const value = url.searchParams.get(name);
  if (value === null) return undefined;
  return value.toLowerCase() === "true";
}

function parseJsonText(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

/** Serves one request under /runtime/webhooks/durabletask/; false when the path is not one of its routes. */
export async function handleDurableRequest(
  ctx: DurableApiContext,
  pathname: string,
  method: string,
  url: URL,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<boolean> {
  if (!pathname.toLowerCase().startsWith(webhookPrefix.slice(0, -1))) return false;
  const rest = pathname.slice(webhookPrefix.length - 1).replace(/^\/+|\/+$/g, "");
  const segments = rest === "" ? [] : rest.split("/").map((s) => decodeURIComponent(s));
  const head = (segments[0] ?? "").toLowerCase();
  const { engine } = ctx;
  const origin = `http://${req.headers.host ?? url.host}`;

  if (head === "orchestrators" && segments.length >= 2 && segments.length <= 3) {
    if (method !== "POST") return notFound(res);
    const text = (await readBody(req)).toString("utf8");
    let input: unknown = null;
    if (text.trim() !== "") {
      const parsed = parseJsonText(text);
      if (!parsed.ok) {
        sendError(res, 400, "Invalid JSON content");
        return true;
      }
      input = parsed.value;
    }
    try {
      const id = engine.startNew(segments[1] as string, segments[2], input);
      const links = managementUrls(origin, ctx.taskHubName, ctx.connectionName, id);
      const { id: _id, rewindPostUri: _rewind, ...rest } = links;
      void _id;
      void _rewind;
      sendJson(res, 202, { id, ...rest }, { location: links.statusQueryGetUri, "retry-after": "10" });
    } catch (error) {
      if (error instanceof StartError) {
        if (error.status === 400) sendError(res, 400, "One or more of the arguments submitted is incorrect", error.message);
        else sendError(res, error.status, "Something went wrong while processing your request", error.message);
      } else throw error;
    }
    return true;
  }

  if (head === "instances") {
    const instanceId = segments[1];
    const operation = segments[2]?.toLowerCase();
    if (instanceId === undefined || instanceId === "") {
      if (method === "GET") {
        sendJson(res, 200, engine.list(listFilter(url)).map((s) => statusPayload(s, { showInput: bool(url, "showInput") ?? false })));
        return true;
      }
      if (method === "DELETE") {
        const filter = listFilter(url);
        const deleted = engine.purge(engine.list(filter).map((s) => s.instanceId));
        if (deleted === 0) return notFound(res);
        sendJson(res, 200, { instancesDeleted: deleted });
        return true;
      }
      return notFound(res);
    }
    if (operation === undefined) {
      if (method === "GET") {
        const state = engine.get(instanceId);
        if (!state) return notFound(res);
        const running = !isTerminal(state.status);
        const body = statusPayload(state, {
          showHistory: bool(url, "showHistory"),
          showHistoryOutput: bool(url, "showHistoryOutput"),
          showInput: bool(url, "showInput") ?? true,
        });
        const failedAs500 = state.status === "Failed" && bool(url, "returnInternalServerErrorOnFailure") === true;
        sendJson(res, running ? 202 : failedAs500 ? 500 : 200, body, running ? { location: `${origin}${url.pathname}${url.search}`, "retry-after": "5" } : {});
        return true;
      }
      if (method === "DELETE") {
        const deleted = engine.get(instanceId) ? engine.purge([instanceId]) : 0;
        if (deleted === 0) return notFound(res);
        sendJson(res, 200, { instancesDeleted: deleted });
        return true;
      }
      return notFound(res);
    }
    if (method !== "POST") return notFound(res);
    const reason = url.searchParams.get("reason") ?? "";
    if (operation === "raiseevent" && segments[3]) {
      const state = engine.get(instanceId);
      if (!state) return notFound(res);
      if (isTerminal(state.status)) return answer(res, "gone");
      const contentType = String(req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
      const text = (await readBody(req)).toString("utf8");
      if (contentType !== "application/json") {
        sendError(res, 400, "Only application/json request content is supported");
        return true;
      }
      if (text.trim() !== "" && !parseJsonText(text).ok) {
        sendError(res, 400, "Invalid JSON content");
        return true;
      }
      return answer(res, engine.raiseEvent(instanceId, segments[3], text.trim() === "" ? undefined : text));
    }
    if (operation === "terminate") return answer(res, engine.terminate(instanceId, reason));
    if (operation === "suspend") return answer(res, engine.suspend(instanceId, reason));
    if (operation === "resume") return answer(res, engine.resume(instanceId));
    if (operation === "rewind" || operation === "restart") {
      sendError(res, 501, `'${operation}' is not supported by the local Durable Functions engine.`);
      return true;
    }
    return notFound(res);
  }

  if (head === "entities") {
    sendError(res, 501, "Durable entities are not supported by the local Durable Functions engine.");
    return true;
  }
  return notFound(res);
}

function answer(res: ServerResponse, outcome: "accepted" | "gone" | undefined): boolean {
  sendJson(res, outcome === "accepted" ? 202 : outcome === "gone" ? 410 : 404, undefined);
  return true;
}

function notFound(res: ServerResponse): boolean {
  sendJson(res, 404, undefined);
  return true;
}

function listFilter(url: URL): ListFilter {
  const filter: ListFilter = {};
  const statuses = url.searchParams.getAll("runtimeStatus").flatMap((v) => v.split(",")).map((v) => v.trim()).filter(Boolean);
  if (statuses.length > 0) filter.runtimeStatus = statuses;
  const from = url.searchParams.get("createdTimeFrom");
  if (from && !Number.isNaN(Date.parse(from))) filter.createdTimeFrom = new Date(from);
  const to = url.searchParams.get("createdTimeTo");
  if (to && !Number.isNaN(Date.parse(to))) filter.createdTimeTo = new Date(to);
  const prefix = url.searchParams.get("instanceIdPrefix");
  if (prefix) filter.instanceIdPrefix = prefix;
  return filter;
}
