// Which settings ask for the local Service Bus broker: a connection string with UseDevelopmentEmulator=true
// whose endpoint is on this machine (port from the endpoint, default 5672, as the SDK does).

export interface EmulatorEndpoint {
  host: string;
  port: number;
  /** Setting names that point at it. */
  settings: string[];
}

const localHosts = new Set(["localhost", "127.0.0.1", "::1", "[::1]"]);

export function parseConnectionString(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(";")) {
    const index = part.indexOf("=");
    if (index > 0) out[part.slice(0, index).trim().toLowerCase()] = part.slice(index + 1).trim();
  }
  return out;
}

export function emulatorEndpoints(values: Record<string, string | undefined>): EmulatorEndpoint[] {
  const byPort = new Map<number, EmulatorEndpoint>();
  for (const [name, value] of Object.entries(values)) {
    if (!value || !/UseDevelopmentEmulator\s*=\s*true/i.test(value)) continue;
    const endpoint = parseConnectionString(value).endpoint;
    if (!endpoint) continue;
    const match = /^(?:sb|amqps?):\/\/(\[[^\]]+\]|[^:/]+)(?::(\d+))?/i.exec(endpoint);
    if (!match || !localHosts.has((match[1] ?? "").toLowerCase())) continue;
    const port = match[2] ? Number(match[2]) : 5672;
    const existing = byPort.get(port);
    if (existing) existing.settings.push(name);
    else byPort.set(port, { host: match[1] as string, port, settings: [name] });
  }
  return [...byPort.values()];
}
