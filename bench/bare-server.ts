// The floor: a bare Node HTTP server doing the same work as the benchmarked routes, with the same
// driver and pool size, and none of the runtime, programming model or route helper in between.
import { createServer } from "node:http";
import postgres from "postgres";

const sql = postgres(process.env.DATABASE_URL as string, { max: Number(process.env.DATABASE_POOL_MAX ?? 5), onnotice: () => {} });

const server = createServer((req, res) => {
  void (async () => {
    if (req.url === "/api/health") {
      res.writeHead(200, { "content-type": "application/json; charset=utf-8" }).end(JSON.stringify({ status: "ok" }));
      return;
    }
    if (req.url === "/api/v1/ops/outbox") {
      const [row] = await sql`select count(*)::int as size, min(created_at) as oldest from outbox where published_at is null`;
      const oldest = row?.oldest ? new Date(row.oldest as string) : null;
      res.writeHead(200, { "content-type": "application/json; charset=utf-8" }).end(
        JSON.stringify({
          backlog: row?.size ?? 0,
          oldestCreatedAt: oldest?.toISOString() ?? null,
          oldestAgeSeconds: oldest ? (Date.now() - oldest.getTime()) / 1000 : null,
        }),
      );
      return;
    }
    // The catalog floor: one course by primary key, one query (the runtime adds its prerequisites query).
    const course = /^\/api\/v1\/courses\/([0-9a-f-]{36})$/.exec(req.url ?? "");
    if (course) {
      const [row] = await sql`select * from courses where id = ${course[1] as string}`;
      if (!row) res.writeHead(404).end();
      else res.writeHead(200, { "content-type": "application/json; charset=utf-8" }).end(JSON.stringify(row));
      return;
    }
    res.writeHead(404).end();
  })().catch((err: unknown) => {
    res.writeHead(500).end(String(err));
  });
});

server.listen(Number(process.env.PORT), "127.0.0.1", () => console.log("bare server listening"));
process.on("SIGTERM", () => {
  server.close();
  void sql.end({ timeout: 1 }).then(() => process.exit(0));
});
