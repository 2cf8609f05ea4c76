// The local runtime's Cosmos endpoint (@ringlet/local-runtime/cosmos) in a process of its own, for bench/activity: so that
// neither the load generator nor the SDK floor shares a thread with it. Prints its connection string once
// listening; stops on SIGTERM.
import { startCosmosEndpoint } from "@ringlet/local-runtime/cosmos";

const endpoint = await startCosmosEndpoint({ port: 0 });
process.on("SIGTERM", () => void endpoint.stop().then(() => process.exit(0)));
process.stdout.write(`${endpoint.connectionString}\n`);
