/** YYYY-MM-DD of a time, in UTC. */
export const dayOf = (at: Date | string): string => (typeof at === "string" ? new Date(at) : at).toISOString().slice(0, 10);
